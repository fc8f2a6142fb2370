"""The half dtypes as test parameters: float16 is skipped, with the reason, where XLA cannot compile it.

XLA's CPU compiler converts float16 with the processor's F16C instructions; without them (x86 CPUs before
2012, or `XLA_FLAGS=--xla_cpu_max_isa=SSE4_2`) a float16 program fails to link. `primitives.half_dtypes_here`
says which half dtypes compile; the package raises a TypeError naming them (`primitives.compute_dtype`).
"""
import jax.numpy as jnp
import pytest

from reformer_lab.primitives import HALF_DTYPES, half_dtypes_here


def needs(dtype):
    "A mark that skips a test, saying why, where `dtype` does not compile on this CPU."
    dtype = jnp.dtype(dtype)
    return pytest.mark.skipif(dtype not in half_dtypes_here(), reason=f"{dtype.name} does not compile on this CPU")


def half_params():
    "`HALF_DTYPES` as pytest parameters; those that do not compile here are skipped."
    return [pytest.param(d, id=d.name, marks=needs(d)) for d in HALF_DTYPES]


needs_float16 = needs(jnp.float16)
