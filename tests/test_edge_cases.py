"""Edge cases: no NaN or Inf anywhere, and documented values where every key of a query is masked.

Both paths: the lab's layer (OurLSHSelfAttention, reference code) and the fast path
(lsh_self_attention / FastLSHSelfAttention).
"""
import functools

import jax
import jax.numpy as jnp
import numpy as onp
import pytest

from reformer_lab.attend import attend, mask_self_attention
from reformer_lab.fast import init_lsh_params, lsh_self_attention
from reformer_lab.fast_layer import FastLSHSelfAttention
from reformer_lab.layers import OurLSHSelfAttention, OurSelfAttention, tl
from half_dtypes import half_params, needs_float16

B, L, D, H = 2, 32, 8, 2
CONFIG = dict(n_heads=H, chunk_len=8, n_hashes=2, n_buckets=4)


def _fast(x, mask=None, **kw):
    weights, state = init_lsh_params(jax.random.PRNGKey(1), x.shape[0], x.shape[1], x.shape[2], H, 4, 4, 2)
    return lsh_self_attention(x, weights, state, jax.random.PRNGKey(2), mask, **{**CONFIG, **kw})[0]


def _lab(x, mask=None, cls=OurLSHSelfAttention, **kw):
    layer = cls(n_heads=H, d_qk=4, d_v=4, masked=mask is not None, use_reference_code=True,
                **({k: v for k, v in CONFIG.items() if k != "n_heads"} if cls is OurLSHSelfAttention else {}), **kw)
    inputs = x if mask is None else (x, mask)
    layer.init(tl.shapes.signature(inputs), rng=jax.random.PRNGKey(1))
    return layer(inputs)


PATHS = {"fast": _fast, "lab": _lab}
X = jax.random.normal(jax.random.PRNGKey(0), (B, L, D))


@pytest.mark.parametrize("path", PATHS)
def test_all_padding_sequence_is_finite(path):
    "A sequence that is all padding: every key is masked; outputs stay finite."
    mask = jnp.zeros((B, L), bool)
    assert bool(jnp.isfinite(PATHS[path](X, mask)).all())


@pytest.mark.parametrize("path", PATHS)
def test_first_token_causal_is_finite_and_attends_to_itself(path):
    "Under causal masking with self-exclusion, the first token has only itself left: it falls back on itself."
    out = PATHS[path](X, causal=True)
    assert bool(jnp.isfinite(out).all())


def test_first_token_fallback_value():
    "Documented value: with causal masking and self-exclusion, query 0's output is its own value vector."
    q = jax.random.normal(jax.random.PRNGKey(3), (8, 4))
    v = jax.random.normal(jax.random.PRNGKey(4), (8, 3))
    out, _ = attend(q, None, v, mask_fn=functools.partial(mask_self_attention, causal=True, exclude_self=True))
    onp.testing.assert_allclose(out[0], v[0], atol=1e-6)


def test_all_masked_row_value():
    """Documented value: a query whose keys are all padding gets the *sum* of the values in its window.

    Every score is pushed to about -1e9, where float32 cannot tell the scores apart (its spacing there is 64):
    all scores round to the same number m, the logsumexp rounds to m as well (log 8 is below the spacing),
    and every weight is exp(m - m) = 1. Trax behaves the same; such rows belong to padding queries, whose
    outputs a model ignores. Finite, and the same in the lab and fast paths."""
    q = jax.random.normal(jax.random.PRNGKey(3), (8, 4))
    v = jax.random.normal(jax.random.PRNGKey(4), (8, 3))
    all_pad = -jnp.arange(1, 9)  # every key marked as padding
    out, _ = attend(q, q, v, kv_info=all_pad,
                    mask_fn=functools.partial(mask_self_attention, causal=False, exclude_self=False, masked=True))
    onp.testing.assert_allclose(out, jnp.broadcast_to(v.sum(0), out.shape), atol=1e-5)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", ["one_bucket", "identical", "huge", "tiny", "zeros"])
def test_degenerate_inputs_are_finite(path, case):
    "All tokens in one bucket, identical vectors, huge or tiny norms, zero vectors: finite outputs."
    x = {"one_bucket": jnp.ones((B, L, D)) + 1e-3 * X, "identical": jnp.broadcast_to(X[:, :1], X.shape),
         "huge": 1e4 * X, "tiny": 1e-20 * X, "zeros": jnp.zeros_like(X)}[case]
    out = PATHS[path](x)
    assert bool(jnp.isfinite(out).all()), case


def test_full_attention_zero_vectors_finite():
    "length_normalized of a zero vector is zero, not NaN."
    out = _lab(jnp.zeros((1, 8, D)), cls=OurSelfAttention, share_qk=True)
    assert bool(jnp.isfinite(out).all())


@pytest.mark.parametrize("dtype", half_params())
@pytest.mark.parametrize("masked", [False, True])
def test_half_precision_is_finite_and_close_to_float32(dtype, masked):
    "float16 / bfloat16 inputs: computed in float32 inside, output in the input dtype, close to the float32 result."
    mask = (jnp.arange(L)[None, :] < jnp.array([[L], [20]])) if masked else None
    ref = _fast(X, mask, causal=True)
    out = _fast(X.astype(dtype), mask, causal=True)
    assert out.dtype == dtype
    assert bool(jnp.isfinite(out.astype(jnp.float32)).all())
    real = onp.asarray(mask if mask is not None else jnp.ones((B, L), bool))
    tol = 2e-2 if dtype == jnp.float16 else 1e-1
    onp.testing.assert_allclose(onp.asarray(out.astype(jnp.float32))[real], onp.asarray(ref)[real], atol=tol, rtol=tol)


@needs_float16
def test_half_precision_fast_layer_is_finite():
    layer = FastLSHSelfAttention(n_heads=H, d_qk=4, d_v=4, chunk_len=8, n_hashes=2, causal=True)
    x16 = X.astype(jnp.float16)
    layer.init(tl.shapes.signature(x16), rng=jax.random.PRNGKey(0))
    out = layer(x16)
    assert bool(jnp.isfinite(out.astype(jnp.float32)).all())


def test_masked_layer_compiles_at_the_size_that_broke_xla():
    """A mask, 2 rounds, 16 x 512 tokens, 4 heads: XLA 0.10.2's CPU compiler gave two ops of the blocked loop the same
    kernel name ("Failed to translate module to LLVM IR") while the loop sliced an array of block indices. Found
    when 08_duplication re-ran its model on padded prefixes; the result must equal the simple path."""
    B, L, H, R = 16, 512, 4, 2
    w, state = init_lsh_params(jax.random.PRNGKey(0), B, L, 64, H, 16, 16, R)
    x = jax.random.normal(jax.random.PRNGKey(1), (B, L, 64))
    mask = jnp.broadcast_to(jnp.arange(L)[None] < L - 100, (B, L))
    run = lambda impl: jax.jit(lambda x, mask: lsh_self_attention(
        x, w, state, jax.random.PRNGKey(0), mask, n_heads=H, chunk_len=32, n_hashes=R, n_buckets=32, causal=True,
        impl=impl)[0])(x, mask)
    blocked, simple = run("blocked"), run("simple")
    assert float(jnp.max(jnp.abs(blocked - simple))) < 1e-5 * float(jnp.max(jnp.abs(simple)))
