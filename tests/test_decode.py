"""Exact incremental LSH attention (reformer_lab.decode): at every step of a decode, the newest token's output equals
the causal fast forward re-run on the prefix (padded to whole chunks), over a grid of layer settings."""
import pytest

from reformer_lab.decode import decode_and_compare

# Each case: batch > 1 or several heads, and a decode through three chunks (prompt_len + n_steps = 3 * chunk_len).
GRID = [
    # n_hashes, n_buckets, chunk_len, before, prompt_len (none, partial chunks, whole chunks)
    (1, 4, 4, 0, 0),
    (2, [2, 4], 8, 2, 5),  # two chunks before: while the prefix is short the window wraps and repeats chunks
    (3, [2, 2], 2, 1, 3),
    (4, 8, 4, 1, 8),
]


@pytest.mark.parametrize("n_hashes,n_buckets,chunk_len,before,prompt_len", GRID)
def test_every_step_equals_rerun_on_prefix(n_hashes, n_buckets, chunk_len, before, prompt_len):
    err = decode_and_compare(batch=2, n_heads=3, n_hashes=n_hashes, n_buckets=n_buckets, chunk_len=chunk_len,
                             n_chunks_before=before, n_chunks_after=0, prompt_len=prompt_len,
                             n_steps=3 * chunk_len - prompt_len, seed=n_hashes * 7 + chunk_len)
    assert err < 1e-5, err


def test_extend_continues_a_cache_exactly():
    "Several tokens at once on a non-empty cache (a scan of steps): every output equals the re-run on its prefix."
    import functools
    import jax
    import jax.numpy as jnp
    from reformer_lab.decode import extend, init_decode_cache, prefill, prefix_outputs
    from reformer_lab.fast import init_lsh_params
    kw = dict(n_hashes=2, n_buckets=4, chunk_len=4, n_chunks_before=1, n_chunks_after=0)
    weights, (_, keys) = init_lsh_params(jax.random.PRNGKey(3), 2, 12, 8, 2, 4, 4, 2)
    x = jax.random.normal(jax.random.PRNGKey(4), (2, 12, 8))
    cache = init_decode_cache(keys, 2, 2, 12, 4, 4, **{k: kw[k] for k in ("n_hashes", "n_buckets", "chunk_len")})
    _, cache = prefill(cache, x[:, :3], weights, **kw)
    out, cache = jax.jit(functools.partial(extend, **kw))(cache, x[:, 3:10], weights)
    assert int(cache.length) == 10
    want = prefix_outputs(x, weights, keys, positions=range(3, 10), **kw)
    assert float(jnp.max(jnp.abs(out - want))) < 1e-5
