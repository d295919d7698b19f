"""The paper's Eq. 1: cross-entropy against a mix of the label and the teacher's tempered softmax.

Cross-entropy is linear in its target, so (1 - λ) CE(f, y) + λ CE(f, g^τ) is one cross-entropy
against (1 - λ) onehot(y) + λ g^τ. τ tempers the teacher only; the student's probabilities are its
plain softmax; there is no τ² factor (unlike Hinton-style KD losses). The logged value is this
cross-entropy, not a KL divergence (they differ by the targets' entropy, a constant per sample).
"""

import torch
import torch.nn.functional as F


def teacher_targets(teacher_logits: torch.Tensor, tau: float) -> torch.Tensor:
    """g^τ: the teacher's softmax at temperature τ (< 1 sharpens, > 1 softens)."""
    return (teacher_logits / tau).softmax(dim=-1)


def mixed_targets(
    labels: torch.Tensor, classes: int, soft: torch.Tensor | None, lam: float | torch.Tensor
) -> torch.Tensor:
    """(1 - λ) onehot(y) + λ g^τ; plain one-hot labels when there is no teacher. ``lam`` is one
    λ, or one per seed shaped to broadcast over ``[S, B, K]`` (``[S, 1, 1]``)."""
    onehot = F.one_hot(labels, classes).to(torch.float32)
    return onehot if soft is None else (1 - lam) * onehot + lam * soft


def per_seed_loss(
    logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Mean cross-entropy of each seed over its own real samples: ``[S, B, K]`` to ``[S]``.

    ``weights`` ``[S, B]`` is 1 for real samples and 0 for padding; averaging per seed (not over
    all seeds) keeps each seed's gradient what it would be alone.
    """
    per_sample = -(targets * logits.log_softmax(dim=-1)).sum(dim=-1)
    return (per_sample * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)
