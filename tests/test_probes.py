"""Bad and extreme inputs at every public entry: each gives a clear error (naming the argument) or a result that the
bad part of the input does not reach.

Non-finite values: a NaN or an infinity in masked padding, or at a later position under causal attention, changes no
real, earlier output and no gradient of a loss on them; finite inputs give the numbers they gave before (the Trax
equivalence grids of 12_fast, 12b_fast_kernel and tests/test_fast_vs_trax.py). Mis-shaped, transposed or mistyped
arguments raise TypeError / ValueError with the argument's name; under jit, where a value cannot be checked, the
decoder answers NaN and leaves its cache unchanged.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as onp
import pytest

from reformer_lab.attend import attend, mask_self_attention, our_simple_attend
from reformer_lab.bench import exact_chunked_attention
from reformer_lab.decode import decode_step, init_decode_cache, prefill
from reformer_lab.fast import full_shared_qk_attention, init_lsh_params, lsh_self_attention
from half_dtypes import needs_float16

B, L, D, H, d = 2, 32, 8, 2, 4
KW = dict(n_heads=H, chunk_len=8, n_hashes=2, n_buckets=4)
X = jax.random.normal(jax.random.PRNGKey(0), (B, L, D))
WEIGHTS, STATE = init_lsh_params(jax.random.PRNGKey(1), B, L, D, H, d, d, 2)
RNG = jax.random.PRNGKey(2)
PAD = 5  # example 0 has 5 padding positions on the left; example 1 none
MASK = jnp.arange(L)[None] >= jnp.array([[PAD], [0]])
BAD_VALUES = [jnp.nan, -jnp.inf]  # (+inf: the float16 overflow test and the gradient test)


def _fast(x, mask=None, impl="blocked", **kw):
    """The fast path on the buckets of the clean input `X`: a changed token would otherwise move to another bucket
    and change the sort, and so other tokens' windows (LSH's own dependence, not a leak through a mask)."""
    state = lsh_self_attention(X, WEIGHTS, STATE, RNG, mask, **{**KW, **kw})[1]
    return lsh_self_attention(x, WEIGHTS, state, RNG, mask, impl=impl, update_state=False, **{**KW, **kw})[0]


def _exact(x, mask=None, causal=True):
    assert causal
    return exact_chunked_attention(x, WEIGHTS, mask, q_chunk_len=8, k_chunk_len=8)


def _dense(x, mask=None, causal=True):
    q = jnp.einsum("bld,hdk->bhlk", x, WEIGHTS[0])
    v = jnp.einsum("bld,hdk->bhlk", x, WEIGHTS[1])
    return jnp.einsum("bhlk,hkd->bld", full_shared_qk_attention(q, v, mask, causal=causal), WEIGHTS[2])


ENTRIES = {"fast blocked": _fast, "fast simple": functools.partial(_fast, impl="simple"), "exact": _exact,
           "dense": _dense}
CAUSAL_ONLY = {"exact"}


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("bad", BAD_VALUES)
@pytest.mark.parametrize("causal", [False, True])
def test_nonfinite_padding_reaches_nothing(entry, bad, causal):
    if entry in CAUSAL_ONLY and not causal:
        pytest.skip("causal only")
    f = functools.partial(ENTRIES[entry], causal=causal)
    x_bad = X.at[0, 1].set(bad).at[0, 3, 2].set(bad)  # in the padding of example 0
    want, got = f(X, MASK), f(x_bad, MASK)
    onp.testing.assert_array_equal(onp.asarray(got)[0, PAD:], onp.asarray(want)[0, PAD:])
    onp.testing.assert_array_equal(onp.asarray(got)[1], onp.asarray(want)[1])


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("bad", BAD_VALUES)
def test_nonfinite_later_position_reaches_no_earlier_output(entry, bad):
    f = functools.partial(ENTRIES[entry], causal=True)
    t = 13
    x_bad = X.at[1, t].set(bad)
    want, got = onp.asarray(f(X, MASK)), onp.asarray(f(x_bad, MASK))
    onp.testing.assert_array_equal(got[1, :t], want[1, :t])
    onp.testing.assert_array_equal(got[0], want[0])  # the other example
    assert onp.isnan(got[1, t]).all()  # the bad token itself is not quietly repaired


@pytest.mark.parametrize("entry", ["fast blocked", "fast simple", "exact"])
def test_nonfinite_inputs_pass_no_nan_gradient(entry):
    "A loss on the real, earlier outputs: its gradient is finite, and equal to the gradient without the bad values."
    f = functools.partial(ENTRIES[entry], causal=True)
    t = 13
    loss = lambda x: (f(x, MASK)[0, PAD:] ** 2).sum() + (f(x, MASK)[1, :t] ** 2).sum()
    x_bad = X.at[0, 2].set(jnp.nan).at[1, t + 2].set(jnp.inf)
    g_bad, g = onp.asarray(jax.grad(loss)(x_bad)), onp.asarray(jax.grad(loss)(X))
    assert onp.isfinite(g_bad[0, PAD:]).all() and onp.isfinite(g_bad[1, :t]).all()
    onp.testing.assert_allclose(g_bad[0, PAD:], g[0, PAD:], atol=1e-5)
    onp.testing.assert_allclose(g_bad[1, :t], g[1, :t], atol=1e-5)


def test_nan_weights_turn_every_output_nan():
    "A NaN in a weight is not a masked input: nothing may hide it."
    w = (WEIGHTS[0], WEIGHTS[1].at[0, 0, 0].set(jnp.nan), WEIGHTS[2])
    out = lsh_self_attention(X, w, STATE, RNG, None, **KW)[0]
    assert onp.isnan(onp.asarray(out)).all()


@needs_float16
def test_half_precision_padding_overflow():
    "float16 padding that overflows to inf: real outputs are those of finite padding."
    x16 = X.astype(jnp.float16)
    x_over = x16.at[0, :PAD].set(jnp.float16(60000.0) * 4)
    want, got = _fast(x16, MASK), _fast(x_over, MASK)
    assert got.dtype == jnp.float16
    onp.testing.assert_array_equal(onp.asarray(got)[0, PAD:], onp.asarray(want)[0, PAD:])


def test_lab_functions_mask_nonfinite_keys():
    q = jax.random.normal(jax.random.PRNGKey(3), (8, 4))
    v = jax.random.normal(jax.random.PRNGKey(4), (8, 3))
    causal = functools.partial(mask_self_attention, causal=True, exclude_self=True)
    want, _ = our_simple_attend(q, None, v, mask_fn=causal)
    got, _ = our_simple_attend(q.at[5].set(jnp.nan), None, v.at[6].set(jnp.inf), mask_fn=causal)
    onp.testing.assert_array_equal(onp.asarray(got)[:5], onp.asarray(want)[:5])
    assert onp.isnan(onp.asarray(got)[5:]).all()
    chunked, _ = attend(q.at[7].set(jnp.nan), None, v, q_chunk_len=4, n_chunks_before=1, mask_fn=causal)
    onp.testing.assert_array_equal(onp.asarray(chunked)[:7], onp.asarray(attend(q, None, v, q_chunk_len=4,
                                                                               n_chunks_before=1, mask_fn=causal)[0])[:7])


# ---- arguments checked, with the argument's name in the message ----

def _raises(kind, words, call):
    with pytest.raises(kind) as info:
        call()
    for w in words:
        assert w in str(info.value), str(info.value)


TRANSPOSED_W_O = (WEIGHTS[0], WEIGHTS[1], jnp.swapaxes(WEIGHTS[2], 1, 2))
D_MODEL_W_V = (WEIGHTS[0], jnp.zeros((H, D + 1, d)), WEIGHTS[2])


@pytest.mark.parametrize("what, kind, words, call", [
    ("w_o transposed", ValueError, ["w_o", "transposed"], lambda: lsh_self_attention(X, TRANSPOSED_W_O, STATE, RNG, **KW)),
    ("w_v of another width", ValueError, ["w_v", "d_model"], lambda: lsh_self_attention(X, D_MODEL_W_V, STATE, RNG, **KW)),
    ("causal='False'", TypeError, ["causal"], lambda: lsh_self_attention(X, WEIGHTS, STATE, RNG, causal="False", **KW)),
    ("update_state=1", TypeError, ["update_state"], lambda: lsh_self_attention(X, WEIGHTS, STATE, RNG, update_state=1, **KW)),
    ("string block_target", TypeError, ["block_target"], lambda: lsh_self_attention(X, WEIGHTS, STATE, RNG, block_target="64", **KW)),
    ("rate 1.0", ValueError, ["attention_dropout"], lambda: lsh_self_attention(X, WEIGHTS, STATE, RNG, attention_dropout=1.0, **KW)),
    ("rate as string", TypeError, ["output_dropout"], lambda: lsh_self_attention(X, WEIGHTS, STATE, RNG, output_dropout="0.1", **KW)),
    ("traced rate", TypeError, ["attention_dropout", "static"],
     lambda: jax.jit(lambda r: lsh_self_attention(X, WEIGHTS, STATE, RNG, attention_dropout=r, **KW)[0])(0.1)),
    ("zero tokens", ValueError, ["x", "one position"], lambda: lsh_self_attention(jnp.zeros((B, 0, D)), WEIGHTS, STATE, RNG, **KW)),
    ("state of another batch", ValueError, ["hash keys", "batch"], lambda: lsh_self_attention(X[:1], WEIGHTS, STATE, RNG, **KW)),
    ("state not a pair", TypeError, ["state"], lambda: lsh_self_attention(X, WEIGHTS, STATE[0], RNG, **KW)),
    ("reused buckets too short", ValueError, ["update_state=False", "buckets"],
     lambda: lsh_self_attention(X, WEIGHTS, (STATE[0][:, :L], STATE[1]), RNG, update_state=False, **KW)),
    ("rng an int", TypeError, ["rng", "PRNGKey"], lambda: lsh_self_attention(X, WEIGHTS, STATE, 0, **KW)),
    ("rng batch of keys", TypeError, ["rng"], lambda: lsh_self_attention(X, WEIGHTS, STATE, jax.random.split(RNG), **KW)),
    ("impl", ValueError, ["impl"], lambda: lsh_self_attention(X, WEIGHTS, STATE, RNG, impl="fast", **KW)),
    ("int x", TypeError, ["x", "float"], lambda: lsh_self_attention(X.astype(jnp.int32), WEIGHTS, STATE, RNG, **KW)),
    ("exact: w_o transposed", ValueError, ["w_o"], lambda: exact_chunked_attention(X, TRANSPOSED_W_O)),
])
def test_argument_errors_name_the_argument(what, kind, words, call):
    _raises(kind, words, call)


def test_typed_prng_keys_give_the_same_numbers():
    typed_state = (STATE[0], jax.vmap(jax.random.wrap_key_data)(STATE[1]))
    out, new = lsh_self_attention(X, WEIGHTS, typed_state, jax.random.wrap_key_data(RNG), **KW, attention_dropout=0.1)
    want, want_new = lsh_self_attention(X, WEIGHTS, STATE, RNG, **KW, attention_dropout=0.1)
    onp.testing.assert_array_equal(onp.asarray(out), onp.asarray(want))
    onp.testing.assert_array_equal(onp.asarray(jax.random.key_data(new[1])), onp.asarray(want_new[1]))


# ---- the decoder ----

DEC = dict(n_hashes=2, n_buckets=4, chunk_len=4)


def _cache(max_len=16):
    return init_decode_cache(STATE[1], B, H, max_len, d, d, **DEC)


def test_jitted_prefill_on_a_full_cache_keeps_it():
    _, cache = prefill(_cache(), X[:, :6], WEIGHTS, **DEC)
    out, again = jax.jit(functools.partial(prefill, **DEC))(cache, X[:, 6:9], WEIGHTS)
    assert onp.isnan(onp.asarray(out)).all()
    for a, b in zip(again, cache):
        onp.testing.assert_array_equal(onp.asarray(a), onp.asarray(b))
    _raises(ValueError, ["prefill needs an empty cache"], lambda: prefill(cache, X[:, 6:9], WEIGHTS, **DEC))


def test_jitted_step_on_a_full_cache_keeps_it():
    _, cache = prefill(_cache(8), X[:, :8], WEIGHTS, **DEC)
    out, again = jax.jit(functools.partial(decode_step, **DEC))(cache, X[:, 8], WEIGHTS)
    assert onp.isnan(onp.asarray(out)).all()
    for a, b in zip(again, cache):
        onp.testing.assert_array_equal(onp.asarray(a), onp.asarray(b))


def test_nan_token_is_counted_in_a_real_bucket():
    _, cache = prefill(_cache(), X[:, :4], WEIGHTS, **DEC)
    out, cache = jax.jit(functools.partial(decode_step, **DEC))(cache, X[:, 4].at[0].set(jnp.nan), WEIGHTS)
    test_counts = onp.asarray(cache.counts).sum(-1)  # [B, H, R]: every cached token in some bucket
    onp.testing.assert_array_equal(test_counts, 5)
    assert onp.isnan(onp.asarray(out)[0]).all() and onp.isfinite(onp.asarray(out)[1]).all()


@pytest.mark.parametrize("what, kind, words, call", [
    ("other n_buckets", ValueError, ["n_buckets", "cache"],
     lambda: decode_step(_cache(), X[:, 0], WEIGHTS, **{**DEC, "n_buckets": 8})),
    ("other n_hashes", ValueError, ["n_hashes", "cache"],
     lambda: decode_step(_cache(), X[:, 0], WEIGHTS, **{**DEC, "n_hashes": 3})),
    ("w_o transposed", ValueError, ["w_o"], lambda: decode_step(_cache(), X[:, 0], TRANSPOSED_W_O, **DEC)),
    ("zero-token prefill", ValueError, ["x", "one position"], lambda: prefill(_cache(), X[:, :0], WEIGHTS, **DEC)),
    ("batch", ValueError, ["batch"], lambda: decode_step(_cache(), X[:1, 0], WEIGHTS, **DEC)),
    ("not a cache", TypeError, ["DecodeCache"], lambda: decode_step(tuple(_cache()), X[:, 0], WEIGHTS, **DEC)),
])
def test_decoder_errors_name_the_argument(what, kind, words, call):
    _raises(kind, words, call)
