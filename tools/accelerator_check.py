"""Fast-path checks and a small benchmark on whatever accelerator JAX sees (GPU/TPU), in one command.

    python tools/accelerator_check.py            # < 5 minutes on one GPU
    make accelerator-check                        # the same, from the project's .venv

Needs only JAX (with the accelerator's plugin, e.g. `pip install -U "jax[cuda12]"`) and this package
(`pip install --no-deps -e .`); Trax is not needed. It
1. reports the devices and picks the best with `reformer_lab.backend.pick_device("auto")`;
2. checks on that device that the fast path's blocked implementation equals the simple batched one
   (outputs and gradients, causal + padding + dropout), and that the sharded version over all devices
   equals one device;
3. times the fast path (forward, forward+backward) against `jax.nn.dot_product_attention` at 4k and 16k.
Exits non-zero if a check fails. CI never needs it.
"""
import functools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax
import jax.numpy as jnp

from reformer_lab.backend import describe_devices, pick_device, use_device
from reformer_lab.fast import init_lsh_params, lsh_self_attention


def median_time(fn, *args, repeats=5):
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def check_equivalence():
    B, L, D, H = 2, 256, 64, 4
    x = jax.random.normal(jax.random.PRNGKey(0), (B, L, D))
    mask = jnp.arange(L)[None, :] < jnp.array([[L], [200]])
    weights, state = init_lsh_params(jax.random.PRNGKey(1), B, L, D, H, 16, 16, n_hashes=4)
    config = dict(n_heads=H, chunk_len=32, n_hashes=4, n_buckets=8, causal=True, attention_dropout=0.1)
    rng = jax.random.PRNGKey(2)

    def loss(impl, x, w):
        return (lsh_self_attention(x, w, state, rng, mask, impl=impl, **config)[0] ** 2).sum()
    fast = jax.jit(functools.partial(lsh_self_attention, impl="blocked", **config))(x, weights, state, rng, mask)[0]
    simple = jax.jit(functools.partial(lsh_self_attention, impl="simple", **config))(x, weights, state, rng, mask)[0]
    out_err = float(jnp.abs(fast - simple).max())
    g_fast = jax.jit(jax.grad(functools.partial(loss, "blocked"), argnums=(0, 1)))(x, weights)
    g_simple = jax.jit(jax.grad(functools.partial(loss, "simple"), argnums=(0, 1)))(x, weights)
    grad_err = max(float(jnp.abs(a - b).max()) for a, b in
                   zip(jax.tree_util.tree_leaves(g_fast), jax.tree_util.tree_leaves(g_simple)))
    print(f"blocked vs simple: output {out_err:.1e}, gradients {grad_err:.1e}")
    ok = out_err < 1e-4 and grad_err < 1e-2
    n = len(jax.devices())
    if n > 1:
        from reformer_lab.sharding import make_mesh, place_on_mesh, sharded_lsh_self_attention
        heads_axis = max(d for d in (1, 2, 4) if H % d == 0 and n % d == 0)
        batch_axis = min(B, n // heads_axis)
        mesh = make_mesh(batch_axis, heads_axis)
        xs, ws, ss, ms = place_on_mesh(mesh, x, weights, state, mask)
        sharded = jax.jit(functools.partial(sharded_lsh_self_attention, mesh, **config))(xs, ws, ss, rng, ms)[0]
        shard_err = float(jnp.abs(sharded - fast).max())
        print(f"sharded over {dict(mesh.shape)} vs one device: {shard_err:.1e}")
        ok = ok and shard_err < 1e-4
    return ok


def small_benchmark():
    D, H, dh = 256, 4, 64
    print(f"{'length':>7}{'fast fwd ms':>13}{'full fwd ms':>13}{'fast fwd+bwd ms':>17}{'full fwd+bwd ms':>17}")
    for L in (4096, 16384):
        x = jax.random.normal(jax.random.PRNGKey(0), (1, L, D))
        weights, state = init_lsh_params(jax.random.PRNGKey(1), 1, L, D, H, dh, dh, n_hashes=4)
        config = dict(n_heads=H, chunk_len=64, n_hashes=4, n_buckets=None, causal=True)
        fwd = jax.jit(lambda x, w: lsh_self_attention(x, w, state, jax.random.PRNGKey(2), **config)[0])
        both = jax.jit(jax.grad(lambda x, w: fwd(x, w).sum(), argnums=(0, 1)))

        def full(x, w):
            w_q, w_v, w_o = w
            q = jnp.einsum("bld,hdk->blhk", x, w_q)
            v = jnp.einsum("bld,hdk->blhk", x, w_v)
            o = jax.nn.dot_product_attention(q, q / jnp.linalg.norm(q, axis=-1, keepdims=True), v, is_causal=True)
            return jnp.einsum("blhk,hkd->bld", o, w_o)
        full_fwd = jax.jit(full)
        full_both = jax.jit(jax.grad(lambda x, w: full(x, w).sum(), argnums=(0, 1)))
        times = [median_time(f, x, weights) for f in (fwd, full_fwd, both, full_both)]
        print(f"{L:>7}" + "".join(f"{1e3 * t:>{w}.1f}" for t, w in zip(times, (13, 13, 17, 17))))


if __name__ == "__main__":
    print("JAX sees:", describe_devices())
    with use_device("auto") as device:
        print("running on:", device)
        ok = check_equivalence()
        small_benchmark()
    print("accelerator check:", "PASSED" if ok else "FAILED")
    sys.exit(0 if ok else 1)
