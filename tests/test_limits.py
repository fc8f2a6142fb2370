"""`flops.pass_flops` (the hand-written FLOP counts) against `flops.matmul_flops` of the real layers' programs, over a
grid of layer settings; and `limits.memory_plan` on made-up sizes. Traced only: nothing is compiled or timed.

The notebook (18_limits) checks the benchmark's configuration; here: other lengths, rounds, chunk windows, explicit
and factorised bucket counts, widths and head counts.
"""
import jax
import jax.numpy as jnp
import pytest

from reformer_lab.flops import matmul_flops, pass_flops
from reformer_lab.limits import memory_plan

GRID = [
    # length, n_hashes, chunk_len, n_chunks_before, n_chunks_after, n_buckets, causal
    (64, 1, 16, 0, 0, None, True),
    (96, 3, 8, 1, 0, 4, True),
    (128, 2, 16, 2, 1, [4, 2], False),  # factorised buckets: 2 + 1 rotations a round
    (512, 2, 2, 1, 0, None, True),      # 512 buckets by Trax's rule, factorised to [32, 16]
]


def traced_flops(cls, length, n_hashes, chunk_len, before, after, n_buckets, causal, **kw):
    "Matmul FLOPs of a layer's forward and forward+backward (w.r.t. input and weights), from its traced program."
    from reformer_lab.layers import tl
    heads, d_head, d_model = 2, 8, 16
    x = jax.random.normal(jax.random.PRNGKey(0), (1, length, d_model))
    layer = cls(n_heads=heads, d_qk=d_head, d_v=d_head, mode="train", n_hashes=n_hashes, chunk_len=chunk_len,
                n_chunks_before=before, n_chunks_after=after, n_buckets=n_buckets, causal=causal, **kw)
    layer.init(tl.shapes.signature(x), rng=jax.random.PRNGKey(1))
    fwd = lambda x, w, state, rng: layer.pure_fn(x, w, state, rng)[0]
    both = lambda x, w, state, rng: jax.vjp(lambda x, w: fwd(x, w, state, rng), x, w)[1](x)
    args = (x, layer.weights, layer.state, jax.random.PRNGKey(5))
    return dict(fwd=matmul_flops(fwd, *args), fwd_bwd=matmul_flops(both, *args)), dict(heads=heads, d_head=d_head,
                                                                                      d_model=d_model)


@pytest.mark.parametrize("impl", ["fast", "trax"])
@pytest.mark.parametrize("length,n_hashes,chunk_len,before,after,n_buckets,causal", GRID)
def test_formula_counts_the_program(impl, length, n_hashes, chunk_len, before, after, n_buckets, causal):
    from reformer_lab.fast_layer import FastLSHSelfAttention
    from reformer_lab.layers import tl
    cls, kw = (FastLSHSelfAttention, {}) if impl == "fast" else (tl.LSHSelfAttention, dict(n_parallel_heads=1))
    counted, sizes = traced_flops(cls, length, n_hashes, chunk_len, before, after, n_buckets, causal, **kw)
    want = pass_flops(length, n_hashes, impl, chunk_len=chunk_len, n_chunks_before=before, n_chunks_after=after,
                      n_buckets=n_buckets, **sizes)
    assert counted == dict(fwd=want["fwd"], fwd_bwd=want["fwd_bwd"])


def test_matmul_flops_counts_nested_loops():
    a, b = jnp.ones((3, 5)), jnp.ones((5, 7))
    inner = lambda c, _: (c, (a @ b).sum())
    outer = lambda c, _: (c, jax.lax.scan(inner, 0.0, None, length=4)[1].sum())
    f = lambda: jax.lax.scan(outer, 0.0, None, length=6)[1]
    assert matmul_flops(f) == 6 * 4 * 2 * 3 * 5 * 7
    # a product and its backward w.r.t. both factors: three products
    def forward_backward(a, b):
        out, vjp = jax.vjp(jnp.matmul, a, b)
        return out, vjp(jnp.ones_like(out))
    assert matmul_flops(forward_backward, a, b) == 3 * 2 * 3 * 5 * 7


def test_memory_plan_keeps_what_fits():
    g = 2**30
    # one case alone, what it holds being its arguments: only its own peak counts
    assert memory_plan({"a": dict(fwd=15 * g)}, {"a": 2 * g}, 16 * g, args={"a": 2 * g}) == {"a": dict(fwd=None)}
    # two cases: each waits while the other runs, holding its inputs
    plan = memory_plan({"a": dict(fwd=15 * g), "b": dict(fwd=g)}, {"a": 2 * g, "b": 2 * g}, 16 * g,
                       args={"a": 2 * g, "b": 2 * g})
    assert plan["a"]["fwd"].startswith("needs 17.0 GiB (15.0 GiB by XLA's estimate")
    assert plan["b"]["fwd"] is None  # a does not fit and is dropped, so it holds nothing
