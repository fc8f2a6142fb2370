"""The light install: `pip install reformer-lab` without the `trax` extra (`make test-light` runs this file in
.venv-light, with REFORMER_LAB_LIGHT=1). The function, the NNX module and the padding rules work there; the
Trax-backed modules say which extra they need. In the full environment the absence checks skip."""
import importlib
import importlib.util
import os
import sys

import pytest

pytestmark = pytest.mark.light
LIGHT = os.environ.get("REFORMER_LAB_LIGHT") == "1"
only_light = pytest.mark.skipif(not LIGHT, reason="checks the light install (make test-light)")


@only_light
@pytest.mark.parametrize("name", ["trax", "tensorflow"])
def test_not_installed(name):
    assert importlib.util.find_spec(name) is None, f"{name} is installed in the light environment"


@only_light
@pytest.mark.parametrize("module", ["reformer_lab.layers", "reformer_lab.fast_layer", "reformer_lab.attend",
                                    "reformer_lab.hash"])
def test_trax_modules_name_the_extra(module):
    with pytest.raises(ImportError, match=r'pip install "reformer-lab\[trax\]"'):
        importlib.import_module(module)


def test_core_modules_import_without_trax():
    for module in ("reformer_lab.attention", "reformer_lab.nnx", "reformer_lab.fast", "reformer_lab.fast_kernel",
                   "reformer_lab.decode", "reformer_lab.checks", "reformer_lab.duplication"):
        importlib.import_module(module)
    if LIGHT:
        assert "trax" not in sys.modules and "tensorflow" not in sys.modules


def test_function_equals_fast_path():
    import jax
    import jax.numpy as jnp
    from reformer_lab.attention import lsh_attention
    from reformer_lab.fast import init_lsh_params, lsh_self_attention, split_rngs
    B, L, D, H, d = 2, 16, 8, 2, 4
    weights, state = init_lsh_params(jax.random.PRNGKey(0), B, L, D, H, d, d, 2)
    x = jax.random.normal(jax.random.PRNGKey(1), (B, L, D))
    kw = dict(chunk_len=4, n_hashes=2, n_buckets=4)
    fast, _ = lsh_self_attention(x, weights, state, jax.random.PRNGKey(2), n_heads=H, causal=True, **kw)
    w_q, w_v, w_o = weights
    qk, value = jnp.einsum("bld,hdk->blhk", x, w_q), jnp.einsum("bld,hdk->blhk", x, w_v)
    o = lsh_attention(qk, value, key=split_rngs(state[1].reshape(B, H, 2))[1], is_causal=True, **kw)
    assert float(jnp.max(jnp.abs(jnp.einsum("blhk,hkd->bld", o, w_o) - fast))) <= 1e-5


@pytest.mark.parametrize("seq_len", [1, 3, 5, 7])  # chunk_len = 4: 1, chunk_len - 1, chunk_len + 1, an odd prime
def test_padding_invariance(seq_len):
    from reformer_lab.attention import padding_invariance
    out, grads, junk = padding_invariance(seq_len, chunk_len=4, n_hashes=2, n_buckets=4, is_causal=seq_len % 2 == 1)
    assert out <= 1e-5 and grads <= 1e-5 and junk == 0.0, (out, grads, junk)


def test_nnx_module_and_decoder():
    import jax
    import jax.numpy as jnp
    from flax import nnx
    from reformer_lab.attention import padded_length
    from reformer_lab.nnx import LSHSelfAttention
    layer = LSHSelfAttention(2, 8, chunk_len=4, n_hashes=2, n_buckets=4, is_causal=True, rngs=nnx.Rngs(0))
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 7, 8))
    assert layer(x, hash_key=jax.random.key(3)).shape == (2, 7, 8)
    layer.init_cache((2, 7, 8), hash_key=jax.random.key(3))
    got = [layer(x[:, :3], decode=True)[:, -1]] + [layer(x[:, t:t + 1], decode=True)[:, 0] for t in range(3, 7)]
    want = [layer(x[:, :padded_length(t + 1, 4)], seq_lengths=jnp.full((2,), t + 1), hash_key=jax.random.key(3))[:, t]
            for t in range(2, 7)]
    assert float(jnp.max(jnp.abs(jnp.stack(got) - jnp.stack(want)))) <= 1e-5
