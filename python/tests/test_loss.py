"""The loss equals csn's formula, and its per-rank split gives the whole batch's gradient."""

from __future__ import annotations

import numpy as np
import torch

from csn_torch.config import LossWeights
from csn_torch.loss import triplet_loss


def _batch(b: int = 12, k: int = 3, d: int = 5, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    a, p, n = (torch.randn(b, d, generator=g, dtype=torch.float64) for _ in range(3))
    beta = torch.randn(k, d, generator=g, dtype=torch.float64) + 0.5
    c = torch.arange(b) % k
    return a, p, n, beta, c


def _csn_reference(a, p, n, masks, c, w: LossWeights) -> float:
    """TripletLoss.swift's sums, written out plainly."""
    a, p, n, m = (x.detach().numpy() for x in (a, p, n, masks))
    b = len(a)
    hinge = 0.0
    for t in range(b):
        mc = m[c[t]]
        dp = np.sqrt((((a[t] - p[t]) * mc) ** 2).sum() + 1e-12)
        dn = np.sqrt((((a[t] - n[t]) * mc) ** 2).sum() + 1e-12)
        hinge += max(0.0, dp - dn + w.margin)
    embedding = w.embedding / (3 * np.sqrt(b)) * sum(np.sqrt((x ** 2).sum()) for x in (a, p, n))
    mask = sum(w.mask / b * np.abs(m[c[t]]).sum() for t in range(b))
    return hinge / b + embedding + mask


def test_value_matches_csns_sums() -> None:
    a, p, n, beta, c = _batch()
    w = LossWeights(margin=0.7, embedding=0.05, mask=0.01)
    masks = torch.relu(beta)
    objective, terms = triplet_loss(a, p, n, masks, c, w, True, len(a))
    assert abs(float(objective) - _csn_reference(a, p, n, masks, c, w)) < 1e-9
    assert abs(terms.total - float(objective)) < 1e-9
    assert sum(terms.seen) == len(a)


def test_rank_shares_sum_to_the_whole_batch_gradient() -> None:
    a, p, n, beta, c = _batch(b=10)
    w = LossWeights(margin=0.5, embedding=0.05, mask=0.01)
    # One process.
    leaves = [x.clone().requires_grad_() for x in (a, p, n, beta)]
    whole, _ = triplet_loss(*leaves[:3], torch.relu(leaves[3]), c, w, True, 10)
    whole.backward()
    expected = [x.grad.clone() for x in leaves]
    # Two ranks of 4 and 6 triplets; each sums its squares with the other's (held constant), and the
    # gradients are averaged as DistributedDataParallel averages them.
    shares = [(0, 4), (4, 10)]
    local_squares = [torch.stack([x[s:e].pow(2).sum() for x in (a, p, n)]) for s, e in shares]
    total = local_squares[0] + local_squares[1]
    grads = [torch.zeros_like(x) for x in (a, p, n, beta)]
    for s, e in shares:
        parts = [x[s:e].clone().requires_grad_() for x in (a, p, n)]
        beta_copy = beta.clone().requires_grad_()
        objective, terms = triplet_loss(*parts, torch.relu(beta_copy), c[s:e], w, True, 10, ranks=2,
                                        sum_across_ranks=lambda t, total=total: total.clone() if t.numel() == 3 else t)
        objective.backward()
        for i in range(3):
            grads[i][s:e] += parts[i].grad / 2
        grads[3] += beta_copy.grad / 2
    for got, want in zip(grads, expected):
        assert torch.allclose(got, want, atol=1e-12)
