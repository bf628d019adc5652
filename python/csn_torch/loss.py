"""The conditional triplet loss with csn's two regularisers (Sources/CSN/TripletLoss.swift).

With u = (f(i) - f(j)) * m_c and v = (f(i) - f(l)) * m_c, D = sqrt(|u|^2 + 1e-12):
    mean_t max(0, D_ij - D_il + h)
  + w_e * (|F_a| + |F_p| + |F_n|) / (3 sqrt(B))   Frobenius norms over the batch, unmasked
  + w_m * mean_t |m_{c_t}|_1                      learned masks only

Across ranks, each rank holds `b` of the batch's `B` triplets. The objective a rank backpropagates
is built so that DistributedDataParallel's gradient average equals the gradient of the whole
batch's loss: the sums over the rank's triplets are scaled by R/B, and the norms use the whole
batch's squared sums (the other ranks' parts held constant). With one process it is csn's loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from .config import LossWeights

EPSILON = 1e-12


@dataclass
class LossTerms:
    """The whole batch's weighted terms, and per condition the triplets ordered right and seen."""

    triplet: float = 0.0
    embedding: float = 0.0
    mask: float = 0.0
    correct: list[int] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)

    @property
    def total(self) -> float:
        return self.triplet + self.embedding + self.mask


SumAcrossRanks = Callable[[torch.Tensor], torch.Tensor]


def _local(t: torch.Tensor) -> torch.Tensor:
    return t


def triplet_loss(anchors: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor, masks: torch.Tensor,
                 conditions: torch.Tensor, weights: LossWeights, include_mask_term: bool, batch_triplets: int,
                 ranks: int = 1, sum_across_ranks: SumAcrossRanks = _local) -> tuple[torch.Tensor, LossTerms]:
    """(the objective to backpropagate on this rank, the whole batch's terms).

    anchors/positives/negatives: [b, D] this rank's rows; masks [K, D] (after the ReLU);
    conditions [b] long; batch_triplets: B over all ranks.
    """
    k = masks.shape[0]
    m = masks[conditions]
    distance_positive = (((anchors - positives) * m).pow(2).sum(1) + EPSILON).sqrt()
    distance_negative = (((anchors - negatives) * m).pow(2).sum(1) + EPSILON).sqrt()
    hinge_sum = torch.relu(distance_positive - distance_negative + weights.margin).sum()

    # Squared Frobenius norms of the anchors, positives and negatives over the whole batch.
    local_squares = torch.stack([anchors.pow(2).sum(), positives.pow(2).sum(), negatives.pow(2).sum()])
    all_squares = sum_across_ranks(local_squares.detach().clone())
    squares = local_squares + (all_squares - local_squares.detach())
    # csn skips a zero norm's gradient; clamping keeps sqrt's gradient finite there.
    norms = squares.clamp_min(1e-30).sqrt()
    embedding_term = weights.embedding / (3 * batch_triplets ** 0.5) * norms.sum()

    mask_sum = m.abs().sum() if include_mask_term else anchors.new_zeros(())
    objective = ranks * (hinge_sum + weights.mask * mask_sum) / batch_triplets + ranks * embedding_term

    with torch.no_grad():
        right = (distance_positive < distance_negative).long()
        per_condition = torch.zeros(2 * k, dtype=torch.float64, device=anchors.device)
        per_condition[:k].index_add_(0, conditions, right.double())
        per_condition[k:].index_add_(0, conditions, torch.ones_like(right, dtype=torch.float64))
        sums = sum_across_ranks(torch.cat([torch.stack([hinge_sum.double(), mask_sum.double()]), per_condition]))
        terms = LossTerms(
            triplet=float(sums[0]) / batch_triplets,
            embedding=float(embedding_term),
            mask=weights.mask * float(sums[1]) / batch_triplets,
            correct=[int(v) for v in sums[2:2 + k].tolist()],
            seen=[int(v) for v in sums[2 + k:].tolist()],
        )
    return objective, terms
