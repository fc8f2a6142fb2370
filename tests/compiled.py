"""Compile once, for the plain tests: most of their time is XLA compiling.

`once(key, build)` keeps what `build()` returns under `key`, so a program is compiled once per configuration
however many drawn inputs a property test runs through it (un-jitted, the fast path dispatches hundreds of
small operations: 0.6 s a call here; jitted once, about 1 ms). `jitted` and `output_jacobian` are the two
programs the property tests compile this way; `forward_together` puts several layers in one program.
"""
import functools

import jax

_COMPILED = {}


def once(key, build):
    "`build()` the first time `key` is seen; afterwards the same object."
    if key not in _COMPILED:
        _COMPILED[key] = build()
    return _COMPILED[key]


def jitted(fn, **static):
    "`jax.jit(functools.partial(fn, **static))`, made once per function and keyword values."
    return once((fn, repr(sorted(static.items()))), lambda: jax.jit(functools.partial(fn, **static)))


def output_jacobian(forward):
    """Jitted `d(output of example 0 at t, summed over features) / d(input of example 0 at s, feature d)`,
    `[t, s, d]`, where `forward(x, *rest)` maps `x [B, L, D]` to outputs `[B, L, D]`."""
    return jax.jit(lambda x, *rest: jax.jacrev(lambda xx: forward(xx, *rest)[0].sum(-1))(x)[:, 0])


def forward_together(layers, inputs):
    "Each initialised Trax layer's `pure_fn` on the same `inputs`, compiled as one XLA program: `[(output, state)]`."
    run_all = lambda inputs, params: [layer.pure_fn(inputs, *p) for layer, p in zip(layers, params)]
    return jax.jit(run_all)(inputs, [(layer.weights, layer.state, layer.rng) for layer in layers])


def gradients_together(layers, x, mask=None):
    """For each initialised Trax layer, the gradient of `sum(output ** 2)` with respect to `x` and to its weights,
    all compiled as one XLA program: `[(d_x, d_weights), ...]`. `mask`: the layers' padding mask, if masked."""
    def loss(layer, x, weights, state, rng):
        return (layer.pure_fn(x if mask is None else (x, mask), weights, state, rng)[0] ** 2).sum()
    grad_all = lambda x, params: [jax.grad(functools.partial(loss, layer), argnums=(0, 1))(x, *p)
                                  for layer, p in zip(layers, params)]
    return jax.jit(grad_all)(x, [(layer.weights, layer.state, layer.rng) for layer in layers])
