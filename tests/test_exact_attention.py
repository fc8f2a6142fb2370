"""`exact.exact_chunked_attention` against dense attention: outputs and gradients, over a grid of lengths and chunks.

The notebook (15_bench) checks one configuration; here: lengths that are and are not multiples of the chunks,
query and key chunks of different lengths, chunks longer than the sequence, both loop variants (`skip_future`),
padding masks, and that no array of the forward+backward program has `L * L` elements.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as onp
import pytest

from reformer_lab.bench import exact_chunked_attention
from reformer_lab.duplication import shared_qk_full_attention as dense_attention  # masked, causal, dense

B, D, H, DQK, DV = 2, 16, 2, 8, 4


def outputs_and_grads(attention, x, weights, cotangent, mask):
    "`attention`'s output and the gradients of `sum(output * cotangent)` w.r.t. `x` and the three weights."
    out, vjp = jax.vjp(lambda x, w: attention(x, w, mask), x, weights)
    return out, vjp(cotangent)


def inputs(length, seed):
    "Weights `(w_q, w_v, w_o)`, `x` and a cotangent, drawn with NumPy (eager JAX would compile each op per shape)."
    rng = onp.random.default_rng(seed)
    draw = lambda *shape, scale=1.0: (scale * rng.standard_normal(shape)).astype(onp.float32)
    weights = (draw(H, D, DQK, scale=0.3), draw(H, D, DV, scale=0.3), draw(H, DV, D, scale=0.3))
    return weights, draw(B, length, D), draw(B, length, D)


def assert_relative(actual, expected, rtol, what):
    "Every leaf within `rtol` times its own largest value."
    for a, e in zip(jax.tree_util.tree_leaves(actual), jax.tree_util.tree_leaves(expected), strict=True):
        scale = float(onp.max(onp.abs(onp.asarray(e))))
        onp.testing.assert_allclose(onp.asarray(a), onp.asarray(e), rtol=0, atol=rtol * scale, err_msg=what)


GRID = [  # length, q_chunk_len, k_chunk_len, skip_future, mask
    (64, 16, 16, True, None),
    (64, 16, 16, False, None),
    (100, 32, 16, True, None),  # not a multiple: padded to 128
    (96, 16, 32, True, None),  # key chunks longer than query chunks
    (50, 64, 64, True, None),  # chunks longer than the sequence
    (37, 8, 12, True, None),  # chunks that do not divide each other: padded to 48
    (80, 16, 16, True, "random"),  # random padding, the first position real
    (80, 32, 16, True, "left"),  # left padding: the first 9 queries have no real key (compared: the others)
    (80, 16, 32, False, "left"),
    (70, 32, 32, True, "right"),
]


def make_mask(kind, length, seed):
    if kind is None:
        return None
    if kind == "random":
        mask = onp.random.default_rng(seed + 100).random((B, length)) < 0.7
        mask[:, 0] = True
        return mask
    real = onp.arange(length) < length - 9 if kind == "right" else onp.arange(length) >= 9
    return onp.broadcast_to(real, (B, length)).copy()


@pytest.mark.parametrize("length,q_chunk_len,k_chunk_len,skip_future,mask_kind", GRID)
def test_equals_dense_attention(length, q_chunk_len, k_chunk_len, skip_future, mask_kind):
    """Outputs and gradients equal dense attention's, at every query with a real key at or before it: a padded query
    with none averages the keys it visits, not all keys (see the notebook); it gets no weight in the loss here."""
    weights, x, cotangent = inputs(length, seed=length)
    mask = make_mask(mask_kind, length, seed=length)
    seen = onp.ones((B, length), bool) if mask is None else onp.cumsum(mask, axis=1) > 0
    cotangent = cotangent * seen[..., None]
    exact = functools.partial(exact_chunked_attention, q_chunk_len=q_chunk_len, k_chunk_len=k_chunk_len,
                              skip_future=skip_future)
    got = jax.jit(functools.partial(outputs_and_grads, lambda x, w, m: exact(x, w, m)))(x, weights, cotangent, mask)
    want = jax.jit(functools.partial(outputs_and_grads, dense_attention))(x, weights, cotangent, mask)
    assert_relative(got[0] * seen[..., None], want[0] * seen[..., None], 1e-5, "outputs")
    assert_relative(got[1], want[1], 1e-5, "gradients w.r.t. x, w_q, w_v, w_o")


def test_never_holds_an_l_by_l_array():
    "No array in the traced forward+backward program (nested loops included) has `L * L` or more elements per example."
    length = 512
    weights, x, cotangent = inputs(length, seed=2)
    exact = functools.partial(exact_chunked_attention, q_chunk_len=64, k_chunk_len=64)
    program = jax.make_jaxpr(lambda x, w: jax.vjp(exact, x, w)[1](cotangent))(x, weights)
    dense = jax.make_jaxpr(lambda x, w: jax.vjp(dense_attention, x, w)[1](cotangent))(x, weights)
    assert largest_array(dense.jaxpr) >= B * H * length * length  # the check sees a dense score array
    assert largest_array(program.jaxpr) < B * length * length / 4


def largest_array(jaxpr):
    "The most elements of any value a jaxpr (or a jaxpr inside one of its equations) computes."
    sizes = [0]
    for eqn in jaxpr.eqns:
        sizes += [int(onp.prod(v.aval.shape)) for v in eqn.outvars if hasattr(v.aval, "shape")]
        for param in eqn.params.values():
            for sub in param if isinstance(param, (tuple, list)) else [param]:
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    sizes.append(largest_array(inner))
    return max(sizes)


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(q_chunk_len=0), ValueError, "q_chunk_len must be at least 1"),
    (dict(k_chunk_len=2.0), TypeError, "k_chunk_len must be an int"),
    (dict(skip_future=1), TypeError, "skip_future must be True or False"),
    (dict(mask=onp.ones((B, 5), bool)), ValueError, "mask must have shape (2, 8)"),
])
def test_bad_arguments(kwargs, error, message):
    weights, x, _ = inputs(8, seed=0)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        exact_chunked_attention(x, weights, **kwargs)
