"""Where users run LSH attention: lengths past the old int32 overflow of the sort key `bucket * L + t`.

The sort is checked on its own up to 4M positions (it is cheap), on both of its paths (one packed uint32 key where
`n_bucket_ids * L` fits in 32 bits, a stable two-operand sort where it does not); the whole layer is checked at
262,144 (packed key, masked: the old int32 key overflowed there) and 524,288 tokens (two-operand sort) against a
NumPy reference that does not share the sort (`numpy.lexsort` of (bucket, position)), for a sample of queries; and
`update_state=False` (the path Trax's reversible layers take backward) on the state a call returned, with 8 rounds
at 98,304 tokens, where the stored round offsets overflowed.
"""
import jax
import jax.numpy as jnp
import numpy as onp
import pytest

from reformer_lab.checks import MASK_LATER, MASK_SELF
from reformer_lab.fast import init_lsh_params, lsh_self_attention, n_buckets_total, sorted_positions


@pytest.mark.parametrize("length, n_bucket_ids, bound_given", [
    (2**22, 2**9, True),        # 2^31 = n_bucket_ids * L: packed uint32 key
    (2**22, 2**17, True),       # 2^39: too big for one key, two-operand sort
    (3 * 2**17, 12289, False),  # no bound given: two-operand sort (the example, masked default buckets)
    (5 * 10**5 + 3, 2**12, True),  # not a power of two: key % L
])
def test_sort_is_a_bucket_sorted_permutation(length, n_bucket_ids, bound_given):
    buckets = jax.random.randint(jax.random.PRNGKey(length % 97), (1, 1, length), 0, n_bucket_ids)
    got = onp.asarray(sorted_positions(buckets, length, n_bucket_ids if bound_given else None))[0, 0]
    want = onp.lexsort((onp.arange(length), onp.asarray(buckets)[0, 0]))
    onp.testing.assert_array_equal(got, want)


def test_sort_with_round_offsets_and_no_bound():
    "Trax's stored ids carry round offsets (round r: + r * total); without a bound, any int32 ids sort right."
    L, R, total = 98304, 8, 3073
    buckets = jax.random.randint(jax.random.PRNGKey(3), (1, R, L), 0, total) + (jnp.arange(R) * total)[:, None]
    got = onp.asarray(sorted_positions(buckets, L))[0]
    for r in range(R):
        onp.testing.assert_array_equal(got[r], onp.lexsort((onp.arange(L), onp.asarray(buckets)[0, r])))


def _reference_rows(x, weights, buckets, mask, queries, *, chunk_len, causal, n_chunks_before):
    """NumPy float64 LSH attention output at positions `queries` of example 0, for the layer's own bucket ids
    `buckets [H, R, L]` (no offsets), with positions sorted by `numpy.lexsort` and chunk windows that wrap around
    across rounds, as Trax's do."""
    w_q, w_v, w_o = (onp.asarray(w, onp.float64) for w in weights)
    H, D, d = w_q.shape
    x0 = onp.asarray(x, onp.float64)[0]
    R, L = buckets.shape[1:]
    n_chunks = L // chunk_len
    real = onp.ones(L, bool) if mask is None else onp.asarray(mask)[0]
    out = onp.zeros((len(queries), D))
    for h in range(H):
        q = x0 @ w_q[h]
        k = q / onp.sqrt((q**2).mean(-1, keepdims=True) + 1e-6) / onp.sqrt(d)
        v = x0 @ w_v[h]
        orders = [onp.lexsort((onp.arange(L), buckets[h, r])) for r in range(R)]
        chunk = lambda g: orders[g // n_chunks][(g % n_chunks) * chunk_len:][:chunk_len]  # global chunk g
        outs, lses = [], []
        for r in range(R):
            slot = onp.argsort(orders[r])
            rows_o, rows_l = [], []
            for t in queries:
                g = r * n_chunks + slot[t] // chunk_len
                window = onp.concatenate([chunk((g + i) % (R * n_chunks)) for i in range(-n_chunks_before, 1)])
                s = k[window] @ q[t]
                s = onp.where((window > t) & causal, -MASK_LATER, s) - MASK_SELF * (window == t)
                s = onp.where(~real[window], -MASK_LATER, s)
                m = s.max()
                lse = m + onp.log(onp.exp(s - m).sum())
                rows_o.append(onp.exp(s - lse) @ v[window])
                rows_l.append(lse)
            outs.append(onp.stack(rows_o)), lses.append(onp.array(rows_l))
        lse_all = onp.stack(lses)  # [R, Q]
        w = onp.exp(lse_all - lse_all.max(0))
        w = w / w.sum(0)
        out += onp.einsum("rq,rqe->qe", w, onp.stack(outs)) @ w_o[h]
    return out


@pytest.mark.parametrize("length, masked, causal", [(2**18, True, True), (2**19, False, False)])
def test_layer_past_the_old_overflow(length, masked, causal):
    B, D, H, d, R, c = 1, 8, 1, 8, 2, 64
    weights, state = init_lsh_params(jax.random.PRNGKey(1), B, length, D, H, d, d, R)
    x = jax.random.normal(jax.random.PRNGKey(2), (B, length, D))
    mask = (jnp.arange(length) >= 7)[None] if masked else None
    kw = dict(n_heads=H, chunk_len=c, n_hashes=R, causal=causal)
    assert n_buckets_total(None, R, length, c, masked) * length > 2**31  # the old key overflowed here
    out, new_state = jax.jit(lambda x, w, s, m: lsh_self_attention(x, w, s, jax.random.PRNGKey(0), m, **kw))(
        x, weights, state, mask)
    total = n_buckets_total(None, R, length, c, masked)
    stored = onp.asarray(new_state[0]).reshape(H, R, length)
    buckets = stored - (onp.arange(R) * total)[:, None]  # the layer's own hash, its round offsets taken off
    assert buckets.min() >= 0 and buckets.max() < total
    queries = onp.sort(onp.random.default_rng(0).choice(onp.arange(7, length), 24, replace=False))
    want = _reference_rows(x, weights, buckets, mask, queries, chunk_len=c, causal=causal, n_chunks_before=1)
    onp.testing.assert_allclose(onp.asarray(out)[0, queries], want, atol=2e-4, rtol=1e-4)


def test_rerun_on_returned_state_is_the_same():
    "8 rounds at 98,304 tokens: the stored ids with round offsets passed 2^31 in the old sort key."
    B, L, D, H, d, R = 1, 98304, 8, 1, 8, 8
    weights, state = init_lsh_params(jax.random.PRNGKey(1), B, L, D, H, d, d, R)
    x = jax.random.normal(jax.random.PRNGKey(2), (B, L, D))
    kw = dict(n_heads=H, chunk_len=64, n_hashes=R, causal=True)
    run = jax.jit(lambda x, s, update: lsh_self_attention(x, weights, s, jax.random.PRNGKey(0), None,
                                                          update_state=update, **kw), static_argnums=2)
    out, new_state = run(x, state, True)
    assert int(new_state[0].max()) * L > 2**31
    again, _ = run(x, new_state, False)  # (update_state=False hands the state back as it was given)
    onp.testing.assert_array_equal(onp.asarray(again), onp.asarray(out))
