"""AUC and AUPRC on the device, batched over seeds, for per-epoch validation without host copies.

Same definitions as ``radsweep.metrics`` (scikit-learn, the oracle the tests compare against):
ROC AUC by the trapezoid rule over distinct thresholds (ties count one half), average precision as
sum over distinct thresholds of (recall step x precision). Multiclass tasks use one-vs-rest micro
averaging, which is the binary metric over the flattened one-hot labels and class probabilities.
"""

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class RankedCounts:
    """Cumulative true/false positives at each sorted position, valued at its tie group's end."""

    true_positives: torch.Tensor
    false_positives: torch.Tensor
    positives: torch.Tensor
    negatives: torch.Tensor


def _flatten(
    probabilities: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``[S, M, K]`` probabilities to binary scores/targets/weights ``[S, M']``."""
    classes = probabilities.shape[-1]
    if classes == 2:
        return probabilities[..., 1], (labels == 1).to(probabilities.dtype), valid
    onehot = torch.nn.functional.one_hot(labels, classes).to(probabilities.dtype)
    weights = valid.unsqueeze(-1).expand_as(onehot)
    return probabilities.flatten(1), onehot.flatten(1), weights.flatten(1)


def _ranked(scores: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> RankedCounts:
    weights = weights.to(scores.dtype)
    scores = scores.masked_fill(weights == 0, float("-inf"))
    order = scores.argsort(dim=1, descending=True, stable=True)
    ranked_scores = scores.gather(1, order)
    positive = (targets * weights).gather(1, order)
    negative = ((1 - targets) * weights).gather(1, order)
    # Position i's tie group ends at (number of scores >= score_i) - 1.
    ascending = ranked_scores.flip(1).contiguous()
    at_least = scores.shape[1] - torch.searchsorted(ascending, ranked_scores, side="left")
    group_end = (at_least - 1).clamp_min(0)
    true_positives = positive.cumsum(1).gather(1, group_end)
    false_positives = negative.cumsum(1).gather(1, group_end)
    return RankedCounts(true_positives, false_positives, positive.sum(1), negative.sum(1))


def _previous(counts: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.pad(counts, (1, 0))[:, :-1]


def batched_auc(
    probabilities: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor:
    """ROC AUC per seed: probabilities ``[S, M, K]``, labels ``[S, M]``, valid mask ``[S, M]``."""
    ranked = _ranked(*_flatten(probabilities, labels, valid))
    tp, fp = ranked.true_positives, ranked.false_positives
    area = ((fp - _previous(fp)) * (tp + _previous(tp)) / 2).sum(1)
    return area / (ranked.positives * ranked.negatives)


def batched_auprc(
    probabilities: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor:
    """Average precision per seed, shapes as ``batched_auc``."""
    ranked = _ranked(*_flatten(probabilities, labels, valid))
    tp, fp = ranked.true_positives, ranked.false_positives
    precision = tp / (tp + fp).clamp_min(1e-12)
    return ((tp - _previous(tp)) * precision).sum(1) / ranked.positives
