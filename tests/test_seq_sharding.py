"""LSH attention with the sequence split over devices (nbs/16c_sequence_sharding.ipynb) equals one device's.

Each test runs in a fresh interpreter with 4 simulated CPU devices (XLA reads the device count when it starts),
through `multiprocess.run_processes`, which bounds it in time and kills it whatever happens.
"""
import json
import sys

import pytest

from reformer_lab.multiprocess import run_processes, worker_env

SETUP = """
import json, jax, jax.numpy as jnp, numpy as onp
from jax.sharding import Mesh
from reformer_lab.fast import init_lsh_params
from reformer_lab.seq_sharding import compare_with_one_device
assert len(jax.devices()) == 4
B, L, D, H = 2, 64, 16, 2
x = jax.random.normal(jax.random.PRNGKey(0), (B, L, D))
weights, state = init_lsh_params(jax.random.PRNGKey(1), B, L, D, H, 8, 8, n_hashes=3)
mask = jnp.arange(L)[None, :] < jnp.array([[64], [41]])
seq = Mesh(onp.asarray(jax.devices()), ("seq",))
"""


def _run(body):
    "The JSON the script `SETUP + body` prints last, run on 4 CPU devices."
    log = run_processes([[sys.executable, "-c", SETUP + body]], worker_env(4), timeout_s=240)[0]
    return json.loads(log.strip().splitlines()[-1])


@pytest.mark.parametrize("causal,n_chunks_before,n_chunks_after,masked,n_hashes", [
    (True, 2, 0, True, 2),     # two chunks before: the halo is a whole device's slice (16 = 2 x 8)
    (False, 1, 1, False, 3),   # a chunk after, three rounds
])
def test_values_state_and_gradients_equal_one_device(causal, n_chunks_before, n_chunks_after, masked, n_hashes):
    r = _run(f"""
cfg = dict(n_heads=H, chunk_len=8, n_hashes={n_hashes}, n_buckets=4, causal={causal},
           n_chunks_before={n_chunks_before}, n_chunks_after={n_chunks_after})
print(json.dumps(compare_with_one_device(seq, x, weights, state, jax.random.PRNGKey(2), {"mask" if masked else None}, **cfg)))
""")
    assert r["out"] <= 1e-5 and r["state_equal"] and r["grad_rel"] <= 1e-5, r


def test_values_equal_one_device_causal_and_not_masked_and_not():
    r = _run("""
out = [compare_with_one_device(seq, x, weights, state, jax.random.PRNGKey(5), m, grads=False, n_heads=H,
                               chunk_len=16, n_hashes=2, n_buckets=[2, 2], causal=c)
       for c in (False, True) for m in (None, mask)]
print(json.dumps(out))
""")
    assert len(r) == 4
    for one in r:
        assert one["out"] <= 1e-5 and one["state_equal"], r


def test_batch_and_sequence_axes_with_dropout():
    r = _run("""
both = Mesh(onp.asarray(jax.devices()).reshape(2, 2), ("batch", "seq"))
print(json.dumps(compare_with_one_device(both, x, weights, state, jax.random.PRNGKey(3), mask, grads=False,
                 batch_axis="batch", n_heads=H, chunk_len=8, n_hashes=3, n_buckets=4, attention_dropout=0.25)))
""")
    assert r["out"] <= 1e-5 and r["state_equal"], r


def test_bad_splits_are_named():
    r = _run("""
from reformer_lab.seq_sharding import seq_sharded_lsh_self_attention as f
both = Mesh(onp.asarray(jax.devices()).reshape(2, 2), ("batch", "seq"))
cfg = dict(n_heads=H, chunk_len=8, n_hashes=3, n_buckets=4)
errors = []
for call in (lambda: f(seq, x[:, :60], weights, state, jax.random.PRNGKey(0), **cfg),
             lambda: f(seq, x, weights, state, jax.random.PRNGKey(0), n_chunks_before=3, **cfg),
             lambda: f(both, x[:1], weights, state, jax.random.PRNGKey(0), batch_axis="batch", **cfg),
             lambda: f(both, x, weights, state, jax.random.PRNGKey(0), seq_axis="length", **cfg)):
    try:
        call()
        errors.append(None)
    except ValueError as e:
        errors.append(str(e))
print(json.dumps(errors))
""")
    assert "seq_len=60 does not split over the mesh's 'seq' axis of 4 devices" in r[0] and "(e.g. 32 or 64)" in r[0]
    assert "n_chunks_before=3 needs 3 chunks on each device" in r[1]
    assert "batch=1 does not split over the mesh's 'batch' axis of 2 devices" in r[2]
    assert "mesh must have an axis named 'length'" in r[3]
