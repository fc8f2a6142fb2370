"""`quick_jit`: `jax.jit` with XLA's backend optimisations off, for the plain tests.

Most of the plain tests' time is XLA compiling one small program per configuration (256 layer
configurations, each for the fast path and for Trax). The tests check what the programs compute,
not how fast, so they compile at optimisation level 0 without LLVM's expensive passes: about 3x
less compile time for the fast path and 1.8x for Trax's layer, measured side by side (CPU seconds
of lower + compile, 2 configurations each). The notebooks (nbval), the benchmark and users run the
default, optimised compilation; outputs agree with it to the same tolerances.
"""
import functools

import jax

QUICK_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}
quick_jit = functools.partial(jax.jit, compiler_options=QUICK_COMPILE)

_COMPILED = {}


def jitted(fn, **static):
    """`quick_jit(functools.partial(fn, **static))`, made once per function and keyword values.

    The property tests call the same function with many drawn inputs: un-jitted, each call dispatches
    hundreds of small operations (0.6 s a call for the fast path here); jitted once, each is about 1 ms."""
    key = (fn, repr(sorted(static.items())))
    if key not in _COMPILED:
        _COMPILED[key] = quick_jit(functools.partial(fn, **static))
    return _COMPILED[key]
