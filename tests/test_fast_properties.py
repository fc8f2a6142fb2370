"""Property tests (hypothesis) for the fast path: it agrees with the lab's layer on random configurations,
and keeps the lab path's invariances (padding, causality in what it attends to, determinism)."""
import jax
import jax.numpy as jnp
import numpy as onp
from hypothesis import HealthCheck, given, settings, strategies as st
from compiled import forward_together, jitted, once, output_jacobian

from reformer_lab.fast import init_lsh_params, lsh_self_attention
from reformer_lab.fast_layer import FastLSHSelfAttention
from reformer_lab.layers import OurLSHSelfAttention, tl

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(0, 2**31 - 1)

configs = st.fixed_dictionaries(dict(
    causal=st.booleans(), n_hashes=st.integers(1, 3), n_buckets=st.sampled_from([2, 4, 6, [2, 2]]),
    n_chunks_before=st.integers(0, 1), n_chunks_after=st.integers(0, 1)))


@SETTINGS
@given(seed=seeds, config=configs, n_pad=st.integers(0, 15))
def test_fast_layer_agrees_with_lab_layer(seed, config, n_pad):
    "Same constructor arguments, init rng and input: the fast layer gives the lab layer's output and state."
    x = jax.random.normal(jax.random.PRNGKey(seed), (2, 16, 6))
    mask = jnp.ones((2, 16), bool).at[1, :n_pad].set(False)  # left padding, position 0 included
    layers = []
    for cls in (FastLSHSelfAttention, OurLSHSelfAttention):
        layers.append(cls(n_heads=2, d_qk=4, d_v=4, chunk_len=4, masked=True, **config))
        layers[-1].init(tl.shapes.signature((x, mask)), rng=jax.random.PRNGKey(seed % 1000))
    results = forward_together(layers, (x, mask))  # one compilation for both
    real = onp.asarray(mask)
    onp.testing.assert_allclose(onp.asarray(results[0][0])[real], onp.asarray(results[1][0])[real], atol=1e-5)
    onp.testing.assert_array_equal(results[0][1][0], results[1][1][0])


@SETTINGS
@given(seed=seeds, n_pad_chunks=st.integers(1, 2), n_hashes=st.integers(1, 3), causal=st.booleans())
def test_fast_padding_invariance_without_neighbour_chunks(seed, n_pad_chunks, n_hashes, causal):
    "Appending whole chunks of padding leaves the real tokens' outputs unchanged (chunks attend to themselves)."
    L, total, H = 16, 16 + 8 * n_pad_chunks, 2
    x = jax.random.normal(jax.random.PRNGKey(seed), (1, total, 8))
    weights, state = init_lsh_params(jax.random.PRNGKey(seed + 1), 1, total, 8, H, 4, 4, n_hashes)
    kw = dict(n_heads=H, chunk_len=8, n_hashes=n_hashes, n_buckets=4, n_chunks_before=0, causal=causal)
    short_state = (state[0][:, :n_hashes * L], state[1])
    attention = jitted(lsh_self_attention, **kw)
    short, _ = attention(x[:, :L], weights, short_state, jax.random.PRNGKey(0), jnp.ones((1, L), bool))
    padded, _ = attention(x, weights, state, jax.random.PRNGKey(0), jnp.arange(total)[None] < L)
    onp.testing.assert_allclose(padded[:, :L], short, atol=1e-5)


@SETTINGS
@given(seed=seeds, n_hashes=st.integers(1, 2))
def test_fast_causal_has_no_gradient_from_the_future(seed, n_hashes):
    "Causal: the output at t has zero derivative with respect to every later input (with buckets fixed by the state)."
    x = jax.random.normal(jax.random.PRNGKey(seed), (1, 16, 6))
    weights, state = init_lsh_params(jax.random.PRNGKey(seed + 1), 1, 16, 6, 2, 4, 4, n_hashes)
    kw = dict(n_heads=2, chunk_len=4, n_hashes=n_hashes, n_buckets=4, causal=True)
    _, hashed = jitted(lsh_self_attention, **kw)(x, weights, state, jax.random.PRNGKey(0))
    forward = lambda xx, w, h: lsh_self_attention(xx, w, h, jax.random.PRNGKey(0), update_state=False, **kw)[0]
    jac = once(("fast", n_hashes), lambda: output_jacobian(forward))(x, weights, hashed)  # [t, s, d], buckets fixed
    future = onp.triu(onp.ones((16, 16), bool), k=1)
    assert float(onp.abs(onp.asarray(jac)[future]).max()) == 0.0


@SETTINGS
@given(seed=seeds, other=seeds)
def test_fast_determinism(seed, other):
    "The same state gives bit-identical buckets and outputs; a different hash key gives different buckets."
    x = jax.random.normal(jax.random.PRNGKey(seed), (1, 64, 8))
    weights, state = init_lsh_params(jax.random.PRNGKey(1), 1, 64, 8, 2, 4, 4, 2)
    kw = dict(n_heads=2, chunk_len=8, n_hashes=2, n_buckets=8)
    attention = jitted(lsh_self_attention, **kw)
    a, sa = attention(x, weights, state, jax.random.PRNGKey(0))
    b, sb = attention(x, weights, state, jax.random.PRNGKey(0))
    onp.testing.assert_array_equal(onp.asarray(a), onp.asarray(b))
    onp.testing.assert_array_equal(sa[0], sb[0])
    if other != seed:
        other_state = (state[0], jax.random.split(jax.random.PRNGKey(other), 2))
        _, sc = attention(x, weights, other_state, jax.random.PRNGKey(0))
        assert bool((sc[0] != sa[0]).any())


@SETTINGS
@given(seed=seeds, n_chunks=st.integers(2, 6), chunk_len=st.sampled_from([2, 4, 8]), n_hashes=st.integers(1, 4),
       n_buckets=st.sampled_from([2, 4, 8]), n_chunks_before=st.integers(0, 2), n_chunks_after=st.integers(0, 1))
def test_dense_lsh_attention_equals_fast_core(seed, n_chunks, chunk_len, n_hashes, n_buckets, n_chunks_before,
                                              n_chunks_after):
    """The pictures notebook's dense formula (full scores, each round's softmax over the keys its windows hold,
    counted with multiplicity, rounds mixed by logsumexp) equals the fast path's sorted, chunked computation."""
    from reformer_lab.pictures import dense_lsh_attention, lsh_counts, lsh_steps
    L = n_chunks * chunk_len
    kq, kv, kh = jax.random.split(jax.random.PRNGKey(seed), 3)
    q = jax.random.normal(kq, (L, 5))
    v = jax.random.normal(kv, (L, 3))
    steps = lsh_steps(q, v, kh, n_buckets, n_hashes, chunk_len, n_chunks_before, n_chunks_after)
    counts = lsh_counts(steps.sorted_pos, chunk_len, n_chunks_before, n_chunks_after)
    dense, weights = dense_lsh_attention(q, v, counts)
    onp.testing.assert_allclose(onp.asarray(dense), onp.asarray(steps.out), atol=2e-5)
    onp.testing.assert_allclose(onp.asarray(weights).sum(-1), onp.ones(L), atol=1e-5)
