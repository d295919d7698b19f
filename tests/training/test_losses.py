"""Eq. 1: λ mixes the label with the teacher's tempered softmax; τ tempers the teacher only."""

import torch
import torch.nn.functional as F

from radsweep.training.losses import mixed_targets, per_seed_loss, teacher_targets

LOGITS = torch.tensor([[[2.0, -1.0, 0.5], [0.1, 0.3, -0.2]]])
LABELS = torch.tensor([[0, 2]])
TEACHER = torch.tensor([[[0.2, 1.5, -0.3], [1.0, 0.0, 2.0]]])
ONES = torch.ones(1, 2)


def _loss(lam: float, tau: float) -> torch.Tensor:
    targets = mixed_targets(LABELS, 3, teacher_targets(TEACHER, tau), lam)
    return per_seed_loss(LOGITS, targets, ONES)


def test_lambda_zero_is_plain_cross_entropy() -> None:
    expected = F.cross_entropy(LOGITS[0], LABELS[0])
    torch.testing.assert_close(_loss(0.0, 0.25)[0], expected)


def test_lambda_one_ignores_the_labels() -> None:
    other_labels = mixed_targets(torch.tensor([[1, 1]]), 3, teacher_targets(TEACHER, 0.25), 1.0)
    torch.testing.assert_close(_loss(1.0, 0.25), per_seed_loss(LOGITS, other_labels, ONES))
    soft = teacher_targets(TEACHER, 0.25)[0]
    torch.testing.assert_close(_loss(1.0, 0.25)[0], F.cross_entropy(LOGITS[0], soft))


def test_loss_is_linear_in_lambda() -> None:
    mixed = _loss(0.3, 1.0)
    torch.testing.assert_close(mixed, 0.7 * _loss(0.0, 1.0) + 0.3 * _loss(1.0, 1.0))


def test_tau_changes_only_the_teacher_targets() -> None:
    # The student's side is its plain log-softmax: only the target vector moves with τ.
    sharp, soft = teacher_targets(TEACHER, 0.25), teacher_targets(TEACHER, 4.0)
    for targets in (sharp, soft):
        expected = -(targets * LOGITS.log_softmax(-1)).sum(-1).mean(1)
        torch.testing.assert_close(per_seed_loss(LOGITS, targets, ONES), expected)
    assert sharp.max() > soft.max()


def test_temperature_limits() -> None:
    uniform = teacher_targets(TEACHER, 1e6)
    torch.testing.assert_close(uniform, torch.full_like(uniform, 1 / 3), atol=1e-5, rtol=0)
    onehot = teacher_targets(TEACHER, 1e-4)
    torch.testing.assert_close(onehot, F.one_hot(TEACHER.argmax(-1), 3).float())


def test_padding_is_left_out_of_each_seed_mean() -> None:
    weights = torch.tensor([[1.0, 0.0]])
    targets = mixed_targets(LABELS, 3, None, 0.0)
    expected = F.cross_entropy(LOGITS[0, :1], LABELS[0, :1])
    torch.testing.assert_close(per_seed_loss(LOGITS, targets, weights)[0], expected)
