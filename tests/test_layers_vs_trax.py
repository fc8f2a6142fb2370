"""Our lab layers against Trax's own layers, with the same init rng, over a grid of configurations.

Both sides use the reference (per example, per head) code path. Outputs must agree to 1e-5, and
the LSH layer's new state (buckets and hash PRNG keys) must be identical. Padding is placed away
from positions 0 and 1, which Trax 1.4.1 cannot mask (see nbs/05_layers.ipynb).
"""
import itertools

import jax
import jax.numpy as jnp
import numpy as onp
import pytest

from reformer_lab.layers import OurLSHSelfAttention, OurSelfAttention, compare_with_trax, tl

BATCH, SEQ, D_MODEL = 2, 16, 6
X = jax.random.normal(jax.random.PRNGKey(42), (BATCH, SEQ, D_MODEL))
# example 0 unpadded, example 1 with its last 5 tokens padding
PAD = jnp.arange(SEQ)[None, :] < jnp.array([[SEQ], [SEQ - 5]])


def _leaves(state):
    out = []
    for leaf in jax.tree_util.tree_leaves(state):
        if jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        out.append(onp.asarray(leaf))
    return out


LSH_GRID = list(itertools.product([False, True], [False, True], [1, 2, 3, 4], [2, 4, 6, 8], [0, 1], [0, 1]))


@pytest.mark.parametrize("causal,masked,n_hashes,n_buckets,before,after", LSH_GRID)
def test_lsh_layer_matches_trax(causal, masked, n_hashes, n_buckets, before, after):
    ours, theirs, our_state, trax_state = compare_with_trax(
        OurLSHSelfAttention, tl.LSHSelfAttention, X, PAD if masked else None, rng_seed=n_hashes * 10 + n_buckets,
        n_heads=2, d_qk=4, d_v=3, causal=causal, n_hashes=n_hashes, n_buckets=n_buckets, chunk_len=4,
        n_chunks_before=before, n_chunks_after=after, use_reference_code=True)
    onp.testing.assert_allclose(ours, theirs, atol=1e-5)
    for a, b in zip(_leaves(our_state), _leaves(trax_state), strict=True):
        onp.testing.assert_array_equal(a, b)


SA_GRID = list(itertools.product([False, True], [False, True], [False, True], [False, True], [None, 4]))


@pytest.mark.parametrize("share_qk,bias,causal,masked,chunk_len", SA_GRID)
def test_self_attention_matches_trax(share_qk, bias, causal, masked, chunk_len):
    ours, theirs, _, _ = compare_with_trax(
        OurSelfAttention, tl.SelfAttention, X, PAD if masked else None, rng_seed=3,
        n_heads=2, d_qk=4, d_v=3, share_qk=share_qk, bias=bias, causal=causal, chunk_len=chunk_len,
        n_chunks_before=1 if chunk_len else 0, use_reference_code=True)
    onp.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_dropout_matches_trax():
    "Attention and output dropout draw the same masks from the same rng as Trax."
    for ours_cls, trax_cls, extra in [(OurSelfAttention, tl.SelfAttention, {}),
                                      (OurLSHSelfAttention, tl.LSHSelfAttention, dict(n_hashes=2, n_buckets=4, chunk_len=4))]:
        ours, theirs, _, _ = compare_with_trax(ours_cls, trax_cls, X, rng_seed=5, n_heads=2, d_qk=4, d_v=3,
                                               attention_dropout=0.2, output_dropout=0.1, use_reference_code=True, **extra)
        onp.testing.assert_allclose(ours, theirs, atol=1e-5)
        ref, _, _, _ = compare_with_trax(ours_cls, trax_cls, X, rng_seed=5, n_heads=2, d_qk=4, d_v=3,
                                         use_reference_code=True, **extra)
        assert onp.abs(onp.asarray(ours) - onp.asarray(ref)).max() > 1e-3  # dropout really was applied
