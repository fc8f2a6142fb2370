"""The half dtypes as test parameters: float16 is skipped, with the reason, where XLA cannot compile it.

XLA's CPU compiler converts float16 with the processor's F16C instructions; without them (x86 CPUs before
2012, or `XLA_FLAGS=--xla_cpu_max_isa=SSE4_2`) a float16 program fails to link. `primitives.half_dtypes_here`
says which half dtypes compile; the package raises a TypeError naming them (`primitives.compute_dtype`).
"""
import jax.numpy as jnp
import pytest

from reformer_lab.primitives import HALF_DTYPES, half_dtypes_here


def half_params(as_names=False):
    "`HALF_DTYPES` (or their names) as pytest parameters; those that do not compile here are skipped."
    here = half_dtypes_here()
    return [pytest.param(d.name if as_names else d, id=d.name,
                         marks=pytest.mark.skipif(d not in here, reason=f"{d.name} does not compile on this CPU"))
            for d in HALF_DTYPES]


needs_float16 = pytest.mark.skipif(jnp.dtype(jnp.float16) not in half_dtypes_here(),
                                   reason="float16 does not compile on this CPU (no F16C)")
