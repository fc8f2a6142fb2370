"""The plain tests compile with XLA's backend optimisations off.

Most of their time is XLA compiling small programs (one per configuration of a grid, one per
decode step shape, ...). They check what the programs compute, not how fast, so every program in
these test processes -- the tests' own `jax.jit`s and the library's inside `reformer_lab.decode`
or `reformer_lab.pictures` -- compiles at optimisation level 0 without LLVM's expensive passes.
Measured on this package's decode tests and the pictures property test (2 workers): 20-25 s ->
9-11 s per decode case, 52 s -> 23 s for the property test. Outputs agree with the optimised
compilation to the tests' tolerances; the notebooks (nbval), the benchmark and users compile with
XLA's defaults. XLA reads XLA_FLAGS when its CPU backend starts, so this must run before any test
computes anything (pytest loads this file before the test modules).
"""
import os

QUICK_COMPILE_FLAGS = ("--xla_backend_optimization_level=0", "--xla_llvm_disable_expensive_passes=true")

_flags = os.environ.get("XLA_FLAGS", "").split()
os.environ["XLA_FLAGS"] = " ".join(_flags + [f for f in QUICK_COMPILE_FLAGS if f not in _flags])
