"""The sort's speed before and after the int32 fix (issue #22), side by side in one process.

    taskset -c 0 .venv/bin/python tools/sort_speed.py nbs/bench_results/sort.json

Times, for the benchmark's layer (4 heads, 4 rounds, default buckets at chunk_len 64, batch 1), one jitted
`sorted_positions` call at each length with each way of sorting, in one round-robin (medians):
- `int32 key` (before the fix, and after it where the key fits in 31 bits): one int32 key `bucket * L + t`; only
  where it fits (past that it lost positions, so it is not timed there);
- `uint32 key` (after, where the key fits in 32 bits but not 31): one uint32 key, `n_bucket_ids * L <= 2**32`;
- `two operands` (after, where it does not fit): a stable sort of the buckets carrying the positions.
"""
import json
import sys
import time

import jax
import jax.numpy as jnp
import numpy as onp
from jax import lax

from reformer_lab.fast import n_buckets_total, sorted_positions

LENGTHS, HEADS, ROUNDS, CHUNK = (16384, 65536, 262144, 1048576), 4, 4, 64


def int32_key(buckets, length):
    t = lax.broadcasted_iota(jnp.int32, buckets.shape, buckets.ndim - 1)
    keys = lax.sort(buckets * length + t, dimension=buckets.ndim - 1, is_stable=False)
    return keys & (length - 1)


def uint32_key(buckets, length):
    t = lax.broadcasted_iota(jnp.uint32, buckets.shape, buckets.ndim - 1)
    keys = lax.sort(buckets.astype(jnp.uint32) * jnp.uint32(length) + t, dimension=buckets.ndim - 1, is_stable=False)
    return (keys & jnp.uint32(length - 1)).astype(jnp.int32)


def main(path, repeats=7):
    rows = []
    for L in LENGTHS:
        n_ids = n_buckets_total(None, ROUNDS, L, CHUNK)
        buckets = jax.random.randint(jax.random.PRNGKey(0), (HEADS, ROUNDS, L), 0, n_ids)
        ways = {"two operands": jax.jit(lambda b: sorted_positions(b, L))}
        if n_ids * L <= 2**32:
            ways["uint32 key"] = jax.jit(lambda b: uint32_key(b, L))
        if n_ids * L <= 2**31:
            ways["int32 key"] = jax.jit(lambda b: int32_key(b, L))
        want = onp.asarray(ways["two operands"](buckets))
        for name, f in ways.items():
            assert (onp.asarray(f(buckets)) == want).all(), name
        times = {name: [] for name in ways}
        for _ in range(repeats):
            for name, f in ways.items():
                start = time.perf_counter()
                f(buckets).block_until_ready()
                times[name].append(time.perf_counter() - start)
        row = {"length": L, "n_bucket_ids": n_ids, **{name: float(onp.median(t)) for name, t in times.items()}}
        print(row, flush=True)
        rows.append(row)
    meta = {"command": "taskset -c 0 .venv/bin/python tools/sort_speed.py " + path, "heads": HEADS, "rounds": ROUNDS,
            "chunk_len": CHUNK, "repeats": repeats, "jax": jax.__version__}
    with open(path, "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
