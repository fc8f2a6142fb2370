"""`jitted(fn, **static)`: a function compiled once per set of keyword values, for the property tests.

The property tests call the same function with many drawn inputs. Un-jitted, each call dispatches
hundreds of small operations (0.6 s a call for the fast path here); jitted once, each is about 1 ms.
"""
import functools

import jax

_COMPILED = {}


def jitted(fn, **static):
    "`jax.jit(functools.partial(fn, **static))`, made once per function and keyword values."
    key = (fn, repr(sorted(static.items())))
    if key not in _COMPILED:
        _COMPILED[key] = jax.jit(functools.partial(fn, **static))
    return _COMPILED[key]
