"""FastLSHSelfAttention against tl.LSHSelfAttention's default (batched) path, jitted, same init rng.

Over the lab issue's grid: causal x padding mask x n_hashes 1-4 x n_buckets 2-8 x n_chunks_before/after
0/1 (256 configurations), with 2 examples and 2 heads and chunk_len shorter than the sequence. Outputs to
1e-5 and the new hash state bit-identical. Most of the time is XLA compiling one program per layer, so
the 16 configurations that share causal, masking and n_hashes are compiled together, as one program per
implementation: measured 4.4-5.5 s for 4 configurations in one program against 7.0-10.2 s apart.
Gradients w.r.t. input and every weight to 1e-4 in every group, on 4 of its 16 configurations. Padding sits at the end (Trax 1.4.1 cannot mask positions 0 and 1).
"""
import itertools

import jax
import jax.numpy as jnp
import numpy as onp
import pytest
from compiled import forward_together, gradients_together

from reformer_lab.fast_layer import FastLSHSelfAttention, tl
from reformer_lab.layers import OurLSHSelfAttention

BATCH, SEQ, D_MODEL = 2, 32, 8
X = jax.random.normal(jax.random.PRNGKey(7), (BATCH, SEQ, D_MODEL))
PAD = jnp.arange(SEQ)[None, :] < jnp.array([[SEQ], [SEQ - 7]])


def _run(cls, masked, **kw):
    inputs = (X, PAD) if masked else X
    layer = cls(n_heads=2, d_qk=4, d_v=4, chunk_len=8, masked=masked, **kw)
    layer.init(tl.shapes.signature(inputs), rng=jax.random.PRNGKey(kw["n_hashes"] * 10 + kw["n_buckets"]))
    return layer, inputs


def _forward(cls, masked, **kw):
    layer, inputs = _run(cls, masked, **kw)
    return jax.jit(layer.pure_fn)(inputs, layer.weights, layer.state, layer.rng)


def _forward_together(cls, masked, configs):
    "Each configuration's layer on the same inputs, all compiled into one XLA program: [(output, state), ...]."
    runs = [_run(cls, masked, **kw) for kw in configs]
    return forward_together([layer for layer, _ in runs], runs[0][1])


GROUPS = list(itertools.product([False, True], [False, True], [1, 2, 3, 4]))  # causal, masked, n_hashes
IN_GROUP = list(itertools.product([2, 4, 6, 8], [0, 1], [0, 1]))  # n_buckets, n_chunks_before, n_chunks_after


@pytest.mark.parametrize("causal,masked,n_hashes", GROUPS)
def test_fast_layer_matches_trax_default_path(causal, masked, n_hashes):
    "The 16 configurations of n_buckets, n_chunks_before and n_chunks_after for this causal, masked, n_hashes."
    configs = [dict(causal=causal, n_hashes=n_hashes, n_buckets=n_buckets, n_chunks_before=before, n_chunks_after=after)
               for n_buckets, before, after in IN_GROUP]
    ours = _forward_together(FastLSHSelfAttention, masked, configs)
    theirs = _forward_together(tl.LSHSelfAttention, masked, configs)
    failures = []
    for kw, (out, our_state), (trax_out, trax_state) in zip(configs, ours, theirs, strict=True):
        try:
            onp.testing.assert_allclose(out, trax_out, atol=1e-5)
            onp.testing.assert_array_equal(our_state[0], trax_state[0])
            onp.testing.assert_array_equal(our_state[1], trax_state[1])
        except AssertionError as error:
            failures.append(f"{kw}: {error}")
    assert not failures, f"{len(failures)} of {len(configs)} configurations differ:\n" + "\n".join(failures)


# A quarter of each group, chosen so that every n_buckets value and every (n_chunks_before, n_chunks_after) pair
# still occurs in it: the whole grid took 3 min 47 s on 2 workers, too long for `make test`.
GRAD_IN_GROUP = [(2, 0, 0), (4, 0, 1), (6, 1, 0), (8, 1, 1)]


@pytest.mark.parametrize("causal,masked,n_hashes", GROUPS)
def test_fast_layer_gradients_match_trax_default_path(causal, masked, n_hashes):
    """Gradients of sum(output ** 2) w.r.t. the input and every weight, over the same grid as the outputs: a
    wrong round-combine weight in the fused backward, for instance, changes them in every multi-round group."""
    configs = [dict(causal=causal, n_hashes=n_hashes, n_buckets=n_buckets, n_chunks_before=before, n_chunks_after=after)
               for n_buckets, before, after in GRAD_IN_GROUP]
    grads = [gradients_together([_run(cls, masked, **kw)[0] for kw in configs], X, PAD if masked else None)
             for cls in (FastLSHSelfAttention, tl.LSHSelfAttention)]
    failures = []
    for kw, ours, theirs in zip(configs, *grads, strict=True):
        for name, a, b in zip(("d_x", "d_w_q", "d_w_v", "d_w_o"), jax.tree_util.tree_leaves(ours),
                              jax.tree_util.tree_leaves(theirs), strict=True):
            if not onp.allclose(a, b, atol=1e-4, rtol=1e-5):
                failures.append(f"{kw} {name}: max |difference| {float(onp.max(onp.abs(a - b))):.2g}")
    assert not failures, f"{len(failures)} gradients differ:\n" + "\n".join(failures)


def test_dropout_matches_trax():
    kw = dict(n_hashes=2, n_buckets=4, attention_dropout=0.2, output_dropout=0.1)
    ours, _ = _forward(FastLSHSelfAttention, True, **kw)
    theirs, _ = _forward(tl.LSHSelfAttention, True, **kw)
    onp.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_factorised_and_default_buckets_match_trax():
    for n_buckets in ([2, 4], [4, 2, 2], None):
        results = []
        for cls in (FastLSHSelfAttention, tl.LSHSelfAttention):
            layer = cls(n_heads=2, d_qk=4, d_v=4, chunk_len=8, masked=True, n_hashes=2, n_buckets=n_buckets)
            layer.init(tl.shapes.signature((X, PAD)), rng=jax.random.PRNGKey(3))
            results.append(jax.jit(layer.pure_fn)((X, PAD), layer.weights, layer.state, layer.rng))
        onp.testing.assert_allclose(results[0][0], results[1][0], atol=1e-5)
        onp.testing.assert_array_equal(results[0][1][0], results[1][1][0])


def test_fast_layer_matches_lab_layer_with_left_padding():
    "The fast path and the lab's layer share the padding rule, so they agree with padding at position 0."
    left_pad = jnp.arange(SEQ)[None, :] >= jnp.array([[0], [2]])
    outs = []
    for cls in (FastLSHSelfAttention, OurLSHSelfAttention):
        layer = cls(n_heads=2, d_qk=4, d_v=4, chunk_len=8, masked=True, n_hashes=2, n_buckets=4, causal=True)
        layer.init(tl.shapes.signature((X, left_pad)), rng=jax.random.PRNGKey(4))
        outs.append(jax.jit(layer.pure_fn)((X, left_pad), layer.weights, layer.state, layer.rng)[0])
    onp.testing.assert_allclose(outs[0], outs[1], atol=1e-5)


def test_gradients_match_trax_with_one_chunk_blocks_and_two_chunks_back():
    """Batch x heads above 64 makes the kernel take one chunk per block (M = 1); with two chunks back the windows
    reach past the block. The backward once asserted `n_chunks_before <= M` and failed here (batch 17, 4 heads)."""
    x = jax.random.normal(jax.random.PRNGKey(8), (17, 32, D_MODEL))
    layers = []
    for cls in (FastLSHSelfAttention, tl.LSHSelfAttention):
        layer = cls(n_heads=4, d_qk=4, d_v=4, chunk_len=8, n_hashes=2, n_buckets=4, n_chunks_before=2, causal=True)
        layer.init(tl.shapes.signature(x), rng=jax.random.PRNGKey(9))
        layers.append(layer)
    ours, theirs = gradients_together(layers, x)
    for a, b in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs), strict=True):
        onp.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-5)
