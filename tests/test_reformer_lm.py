"""The whole model (reformer_lab.model_bench): trax.models.ReformerLM with FastLSHSelfAttention against the same model
with tl.LSHSelfAttention, same weights and state -- equal logits, loss, new state and gradients of every weight on a
small configuration (2 layers, 128 tokens, 4 hash rounds); and other hash keys or a nudged attention weight in the
fast model give clearly different logits, so the comparison can fail."""
import jax
import jax.numpy as jnp
import pytest

from reformer_lab.bench import D_HEAD, D_MODEL, N_HEADS
from reformer_lab.checks import agreement
from reformer_lab.model_bench import loss_and_grads, model_tokens, reformer_lm_pair

LENGTH = 128


@pytest.fixture(scope="module")
def models():
    "Both models, their jitted loss-and-gradients, the tokens and rng, and the Trax model's results."
    pair = reformer_lm_pair(LENGTH, n_layers=2, n_hashes=4)
    fns = {name: loss_and_grads(model) for name, model in pair.items()}
    x, rng = model_tokens(LENGTH), jax.random.PRNGKey(5)
    trax = fns["trax"](pair["trax"].weights, pair["trax"].state, x, rng)
    return pair, fns, x, rng, trax


def _fast(models, weights=None, state=None):
    pair, fns, x, rng, _ = models
    fast = pair["fast"]
    return fns["fast"](fast.weights if weights is None else weights, fast.state if state is None else state, x, rng)


def _max_diff(a, b):
    return max(float(jnp.max(jnp.abs(u - v))) for u, v in zip(jax.tree_util.tree_leaves(a),
                                                               jax.tree_util.tree_leaves(b), strict=True))


def test_same_logits_loss_state_and_gradients(models):
    (loss_t, (logits_t, state_t)), grads_t = models[-1]
    (loss_f, (logits_f, state_f)), grads_f = _fast(models)
    agreement("logits", logits_t, logits_f, 1e-4)
    agreement("loss", loss_t, loss_f, 1e-5)
    agreement("gradients of every weight", grads_t, grads_f, 1e-6)
    # the same buckets in the new state (ints: exactly), and gradients large enough for the bound to mean something
    assert all(bool((a == b).all()) for a, b in zip(jax.tree_util.tree_leaves(state_t), jax.tree_util.tree_leaves(state_f)))
    assert max(float(jnp.max(jnp.abs(g))) for g in jax.tree_util.tree_leaves(grads_t)) > 1e-2
    assert 1.0 < float(loss_t) < 20.0


def _other_hash_keys(state):
    return jax.tree_util.tree_map(lambda s: s + 1 if s.dtype == jnp.uint32 else s, state)


def _nudged_attention_weight(weights):
    "The weights with the first attention projection ([heads, d_model, d_qk]) scaled by 1.01."
    flat, tree = jax.tree_util.tree_flatten(weights)
    first = next(i for i, w in enumerate(flat) if w.shape == (N_HEADS, D_MODEL, D_HEAD))
    flat[first] = flat[first] * 1.01
    return jax.tree_util.tree_unflatten(tree, flat)


@pytest.mark.parametrize("change", ["hash keys", "attention weight"])
def test_a_wrong_fast_model_is_caught(models, change):
    pair = models[0]
    if change == "hash keys":
        (_, (logits_f, _)), _ = _fast(models, state=_other_hash_keys(pair["fast"].state))
    else:
        (_, (logits_f, _)), _ = _fast(models, weights=_nudged_attention_weight(pair["fast"].weights))
    (_, (logits_t, _)), _ = models[-1]
    assert _max_diff(logits_t, logits_f) > 1e-2
    with pytest.raises(AssertionError, match="more than the bound"):
        agreement("logits", logits_t, logits_f, 1e-4)


def test_the_fast_step_holds_no_more_memory_than_trax():
    """XLA's memory analysis of both compiled training steps (compiled, not run) at 2048 tokens: the fast model's
    peak is at most Trax's. Without `primitives.scheduled_after` in the fast layer's reversible backward, XLA built
    that backward's projection and guarded tables while the loss's backward ran, and held them: the fast step's
    peak was then above Trax's at this size too (17_model_bench's memory account)."""
    from reformer_lab.model_bench import _step_case
    length = 2048
    pair = reformer_lm_pair(length, n_layers=2, n_hashes=4)
    peak = {name: _step_case(model, length, 1)[2] for name, model in pair.items()}
    assert peak["fast"] <= peak["trax"], {name: f"{b / 2**20:.1f} MiB" for name, b in peak.items()}
