"""The Reformer paper's rule (reformer_lab.paper_rule, `attend_across_buckets` / `allow_duplicate_attention`) in
every path: the simple path and the fast kernel against the rule's dense form (values and gradients), the decoder
against the forward over each prefix, and the public function against the fast path."""
import itertools

import jax
import jax.numpy as jnp
import numpy as onp
import pytest

from reformer_lab.decode import decode_and_compare
from reformer_lab.fast import lsh_attention_core, lsh_dense_reference, rows_seeing_others
from reformer_lab.fast_kernel import lsh_attention_blocked
from reformer_lab.primitives import Tuning

B, H, L, D_QK, D_V = 2, 2, 32, 8, 8
RULES = list(itertools.product((True, False), (True, False)))  # (attend_across_buckets, allow_duplicate_attention)


def _inputs(n_hashes, seed=1):
    kq, kv, kb, kc = jax.random.split(jax.random.PRNGKey(seed), 4)
    q, v = jax.random.normal(kq, (B, H, L, D_QK)), jax.random.normal(kv, (B, H, L, D_V))
    buckets = jax.random.randint(kb, (B, H, n_hashes, L), 0, 4)
    return q, v, buckets, jax.random.normal(kc, (B, H, L, D_V))


def _blocked(buckets, mask, **kw):
    def run(q, v):
        qv = jnp.transpose(jnp.concatenate([q, v], -1), (0, 2, 1, 3))
        o = lsh_attention_blocked(qv, buckets, mask, d_qk=D_QK, tuning=Tuning(block_target=4), **kw).reshape(B, L, H, D_V)
        return jnp.transpose(o, (0, 2, 1, 3))
    return run


def _compared_rows(buckets, mask, kw):
    "Rows that see a key besides themselves (self-only rows keep Trax's float32 rounding near -MASK_SELF)."
    rule_kw = {k: v for k, v in kw.items() if k != "allow_duplicate_attention"}
    return rows_seeing_others(buckets, mask, **rule_kw)[..., None]


@pytest.mark.parametrize("across,duplicates", RULES)
@pytest.mark.parametrize("causal,masked,n_hashes,window", [(True, True, 3, (1, 0)), (False, False, 2, (2, 1)),
                                                           (False, True, 1, (1, 1)), (True, False, 3, (2, 0))])
def test_paths_equal_the_dense_form(across, duplicates, causal, masked, n_hashes, window):
    q, v, buckets, cotangent = _inputs(n_hashes)
    mask = (jnp.arange(L)[None] < jnp.array([[L - 5], [L]])) if masked else None
    kw = dict(chunk_len=4, n_chunks_before=window[0], n_chunks_after=window[1], causal=causal,
              attend_across_buckets=across, allow_duplicate_attention=duplicates)
    keep = _compared_rows(buckets, mask, kw)
    results = {}
    for name, f in [("dense", lambda q, v: lsh_dense_reference(q, v, buckets, mask, **kw)),
                    ("simple", lambda q, v: lsh_attention_core(q, v, buckets, mask, **kw)),
                    ("blocked", _blocked(buckets, mask, **kw))]:
        out, pull_back = jax.vjp(jax.jit(f), q, v)
        results[name] = (out * keep, *pull_back(cotangent * keep))
    for name in ("simple", "blocked"):
        for got, want in zip(results[name], results["dense"]):
            onp.testing.assert_allclose(got, want, atol=1e-4, err_msg=f"{name} {kw}")


def test_the_rules_differ():
    "Each option changes the outputs (a test of the dense form that the four rules could all pass alike would be weak)."
    q, v, buckets, _ = _inputs(3)
    kw = dict(chunk_len=4, n_chunks_before=1, n_chunks_after=0, causal=False)
    outs = [lsh_attention_core(q, v, buckets, None, attend_across_buckets=a, allow_duplicate_attention=d, **kw)
            for a, d in RULES]
    for i, j in itertools.combinations(range(4), 2):
        assert float(jnp.abs(outs[i] - outs[j]).max()) > 1e-2, (RULES[i], RULES[j])


@pytest.mark.parametrize("across,duplicates", [(False, False), (True, False), (False, True)])
def test_decoding_is_exact_under_the_paper_rule(across, duplicates):
    err = decode_and_compare(batch=2, n_heads=2, n_hashes=2, n_buckets=4, chunk_len=4, n_chunks_before=2,
                             n_chunks_after=0, prompt_len=3, n_steps=9, attend_across_buckets=across,
                             allow_duplicate_attention=duplicates)
    assert err < 1e-5, err
