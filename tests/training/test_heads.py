"""Head shapes, the teacher's use of both inputs, and masking of report tokens."""

import pytest
import torch

from radsweep.training.config import HeadKind, Method
from radsweep.training.heads import HeadInput, TeacherHead, TextHead, TextProbeHead, build_head


def _generators(count: int) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(seed) for seed in range(count)]


def test_heads_give_logits_per_seed_and_sample() -> None:
    tokens, pooled = torch.randn(2, 5, 7, 16), torch.randn(2, 5, 16)
    text, mask = torch.randn(2, 5, 4, 8), torch.ones(2, 5, 4, dtype=torch.bool)
    cases = [
        (Method.IMAGE, HeadKind.ATTENTION, HeadInput(image=tokens)),
        (Method.IMAGE, HeadKind.MEAN_LP, HeadInput(image=pooled)),
        (Method.IMAGE, HeadKind.CLS_LP, HeadInput(image=pooled)),
        (Method.TEACHER, HeadKind.ATTENTION, HeadInput(tokens, text, mask)),
        (Method.TEXT, HeadKind.ATTENTION, HeadInput(text=text, text_mask=mask)),
    ]
    for method, kind, batch in cases:
        head = build_head(method, kind, 16, 8, 3, _generators(2))
        assert head(batch).shape == (2, 5, 3), (method, kind)


def test_teacher_reads_image_and_report() -> None:
    head = build_head(Method.TEACHER, HeadKind.ATTENTION, 16, 8, 2, _generators(1))
    assert isinstance(head, TeacherHead)
    image, text = torch.randn(1, 3, 7, 16), torch.randn(1, 3, 4, 8)
    mask = torch.ones(1, 3, 4, dtype=torch.bool)
    base = head(HeadInput(image, text, mask))
    assert not torch.allclose(
        base, head(HeadInput(image, text + 1.0 * torch.randn_like(text), mask))
    )
    assert not torch.allclose(base, head(HeadInput(image + torch.randn_like(image), text, mask)))


def test_padded_report_tokens_are_ignored() -> None:
    head = build_head(Method.TEXT, HeadKind.ATTENTION, None, 8, 2, _generators(1))
    assert isinstance(head, TextHead)
    text = torch.randn(1, 2, 6, 8)
    mask = torch.tensor([[[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0]]]).bool()
    noisy = text.clone()
    noisy[~mask] = 50.0
    torch.testing.assert_close(
        head(HeadInput(text=text, text_mask=mask)), head(HeadInput(text=noisy, text_mask=mask))
    )


def test_a_text_model_with_the_mean_probe_head_is_a_linear_probe() -> None:
    head = build_head(Method.TEXT, HeadKind.MEAN_LP, None, 8, 2, _generators(2))
    assert isinstance(head, TextProbeHead)
    text = torch.randn(2, 3, 6, 8)
    mask = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0], [1, 0, 0, 0, 0, 0]]).bool()
    mask = mask.expand(2, 3, 6)
    logits = head(HeadInput(text=text, text_mask=mask))
    # Linear in the masked mean of the tokens: the logits of a mean of two inputs are the
    # mean of their logits, which no attention pool satisfies.
    other = torch.randn_like(text)
    mixed = head(HeadInput(text=(text + other) / 2, text_mask=mask))
    torch.testing.assert_close(mixed, (logits + head(HeadInput(text=other, text_mask=mask))) / 2)
    noisy = text.clone()
    noisy[~mask] = 50.0
    torch.testing.assert_close(logits, head(HeadInput(text=noisy, text_mask=mask)))
    assert sum(p.numel() for p in head.parameters()) == 2 * (8 + 8 + 8 * 2 + 2)
    with pytest.raises(ValueError, match="text-only model takes head"):
        build_head(Method.TEXT, HeadKind.CLS_LP, None, 8, 2, _generators(1))
