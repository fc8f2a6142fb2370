"""The half-precision policy (`primitives.compute_dtype`) through every way in: bfloat16 and float16 inputs and weights
give outputs in that dtype, within the stated bounds of float32's (`precision.ERROR_BOUNDS`), with finite
gradients; the function, the NNX module and the Trax drop-in follow the fast path."""
import jax
import jax.numpy as jnp
import numpy as onp
import pytest
from flax import nnx

from reformer_lab.attention import lsh_attention
from reformer_lab.nnx import LSHSelfAttention
from reformer_lab.precision import ERROR_BOUNDS, precision_errors

from half_dtypes import half_params


def _rel(a, b):
    a, b = onp.asarray(a, onp.float32), onp.asarray(b, onp.float32)
    return float(onp.max(onp.abs(a - b)) / onp.max(onp.abs(b)))


@pytest.mark.parametrize("options", [dict(causal=False, n_chunks_after=1, n_hashes=1),  # the notebook: causal, 2 rounds
                                     dict(attend_across_buckets=False, allow_duplicate_attention=False, impl="simple")])
def test_fast_path_within_bounds(options):
    errors = precision_errors(length=128, chunk_len=16, d_model=32, n_heads=2, d_head=16, **options)
    assert "bfloat16" in errors
    for name in errors:  # every half dtype that compiles here
        assert errors[name]["dtype"] == name and errors[name]["finite"], errors[name]
        for part, bound in ERROR_BOUNDS[name].items():
            assert errors[name][part] < bound, (name, part, errors[name][part], options)


def _one_chunk_inputs(dtype, T=24):
    "qk and value whose single chunk holds the whole sequence: the output does not depend on the buckets."
    kq, kv = jax.random.split(jax.random.PRNGKey(0))
    qk, value = jax.random.normal(kq, (2, T, 2, 16)), jax.random.normal(kv, (2, T, 2, 8))
    return qk.astype(dtype), value.astype(dtype)


@pytest.mark.parametrize("dtype", half_params())
def test_function_keeps_the_dtype_and_rounds_within_bounds(dtype):
    T = 24
    kw = dict(key=jax.random.key(1), chunk_len=T, n_hashes=1, n_buckets=2, n_chunks_before=0, is_causal=True)
    out32 = lsh_attention(*_one_chunk_inputs(jnp.float32, T), **kw)
    qk, value = _one_chunk_inputs(dtype, T)
    out = lsh_attention(qk, value, **kw)
    assert out.dtype == dtype
    assert _rel(out, out32) < ERROR_BOUNDS[dtype.name]["out"]
    grads = jax.grad(lambda q, v: jnp.mean(lsh_attention(q, v, **kw).astype(jnp.float32) ** 2), argnums=(0, 1))(qk, value)
    assert all(g.dtype == dtype and bool(jnp.isfinite(g).all()) for g in grads)


@pytest.mark.parametrize("dtype", half_params())
def test_nnx_module_in_half_precision(dtype):
    T = 24
    make = lambda computed_in: LSHSelfAttention(2, 16, chunk_len=T, n_hashes=1, n_buckets=2, n_chunks_before=0,
                                          is_causal=True, dtype=computed_in, rngs=nnx.Rngs(0))
    full, half = make(None), make(dtype)
    x = jax.random.normal(jax.random.PRNGKey(3), (2, T, 16))
    key = jax.random.key(5)
    out32, out = full(x, hash_key=key), half(x.astype(dtype), hash_key=key)
    assert out.dtype == dtype
    assert _rel(out, out32) < 2 * ERROR_BOUNDS[dtype.name]["out"]  # the module's own projections round too


def test_trax_drop_in_in_bfloat16():
    import trax.shapes
    from reformer_lab.fast_layer import FastLSHSelfAttention
    T = 32
    layer = FastLSHSelfAttention(n_heads=2, d_qk=8, d_v=8, chunk_len=T, n_hashes=1, n_buckets=2, n_chunks_before=0,
                                 causal=True, mode="train")
    x = jax.random.normal(jax.random.PRNGKey(2), (1, T, 16))
    layer.init(trax.shapes.signature(x), rng=jax.random.PRNGKey(1))
    rng = jax.random.PRNGKey(4)
    out32 = layer.pure_fn(x, layer.weights, layer.state, rng)[0]
    w16 = jax.tree_util.tree_map(lambda a: a.astype(jnp.bfloat16), layer.weights)
    out = jax.jit(layer.pure_fn)(x.astype(jnp.bfloat16), w16, layer.state, rng)[0]
    assert out.dtype == jnp.bfloat16
    assert _rel(out, out32) < ERROR_BOUNDS["bfloat16"]["out"]
