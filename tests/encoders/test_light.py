"""The light encoders: pixel patches and one MiniLM embedding per report sentence."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from radsweep.encoders import build_image_encoder, build_text_encoder
from radsweep.encoders.light import MAX_SENTENCES, SentenceTextEncoder, split_sentences
from radsweep.errors import WeightsError
from tests.encoders.conftest import synthetic_radiograph

REPORT = (
    "                                 FINAL REPORT\n"
    " INDICATION:  ___ year old woman with dyspnea on exertion\n"
    " \n FINDINGS: \n \n Small left pleural effusion.  No pneumothorax.\n"
    " \n IMPRESSION: \n \n Small left pleural effusion.\n"
)


def test_pixel_patches_are_the_standardised_pixels_of_a_4x4_grid() -> None:
    encoder = build_image_encoder("pixel-patches")
    pixels = encoder.preprocess(synthetic_radiograph())
    assert pixels.shape == (3, 32, 32)
    tokens = encoder(pixels[None]).tokens
    assert tokens.shape == (1, 16, 64) and encoder(pixels[None]).cls is None
    gray = (pixels[0] - 0.5) / 0.25
    # Token 5 is grid row 1, column 1: pixels [8:16, 8:16], row-major inside the patch.
    assert torch.equal(tokens[0, 5], gray[8:16, 8:16].reshape(-1))
    assert encoder.info.grid == (4, 4) and encoder.info.dim == 64


def test_pixel_patches_take_crops_and_refuse_weights() -> None:
    encoder = build_image_encoder("pixel-patches")
    image = synthetic_radiograph()
    assert not torch.equal(encoder.preprocess(image, (0, 0, 100, 100)), encoder.preprocess(image))
    with pytest.raises(WeightsError, match="pixel-patches has no weights"):
        build_image_encoder("pixel-patches", "some/file.pt")


def test_reports_split_into_sentences_and_section_headers() -> None:
    assert split_sentences(REPORT) == [
        "FINAL REPORT",
        "INDICATION: ___ year old woman with dyspnea on exertion",
        "FINDINGS: Small left pleural effusion.",
        "No pneumothorax.",
        "IMPRESSION: Small left pleural effusion.",
    ]
    assert len(split_sentences("No change. " * 40)) == MAX_SENTENCES


def _mean_pooled(encoder: SentenceTextEncoder, sentence: str) -> torch.Tensor:
    """What sentence-transformers computes for one sentence: masked mean, L2-normalised."""
    batch = encoder.bert.tokenize([sentence])
    hidden = encoder.bert(**batch).tokens
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return F.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)[0]


def test_each_sentence_is_one_real_minilm_embedding() -> None:
    encoder = build_text_encoder("minilm-sentences", max_length=32)
    batch = encoder.tokenize([REPORT, "No pneumothorax."])
    assert batch["input_ids"].shape == (2, MAX_SENTENCES, 32)
    with torch.no_grad():
        out = encoder(**batch)
        expected = _mean_pooled(encoder, "No pneumothorax.")
    assert out.tokens.shape == (2, MAX_SENTENCES, 384)
    assert out.mask.sum(1).tolist() == [5, 1]
    torch.testing.assert_close(out.tokens[1, 0], expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(out.tokens[0, 3], expected, atol=1e-5, rtol=0)  # same sentence
    assert not out.tokens[1, 1:].any()  # absent sentences are zero and masked out


def test_sentences_are_encoded_once_and_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    encoder = build_text_encoder("minilm-sentences", tiny=True, max_length=16)
    calls: list[int] = []
    forward = encoder.bert.forward
    monkeypatch.setattr(
        encoder.bert, "forward", lambda ids, mask: calls.append(len(ids)) or forward(ids, mask)
    )
    with torch.no_grad():
        first = encoder(**encoder.tokenize([REPORT, REPORT]))
        again = encoder(**encoder.tokenize([REPORT]))
    assert calls == [5]  # two identical reports of 5 sentences: 5 encoded, none later
    assert torch.equal(first.tokens[0], again.tokens[0])


def test_sentence_tokens_do_not_depend_on_the_batch() -> None:
    reports = [REPORT, "Heart size is normal. No pneumothorax.", "Mild edema."]
    alone = build_text_encoder("minilm-sentences", tiny=True, max_length=16)
    together = build_text_encoder("minilm-sentences", tiny=True, max_length=16)
    with torch.no_grad():
        batch = together(**together.tokenize(reports)).tokens.numpy()
        single = [alone(**alone.tokenize([report])).tokens.numpy()[0] for report in reports]
    np.testing.assert_allclose(batch, np.stack(single), atol=1e-6)


def test_an_empty_report_is_all_padding() -> None:
    encoder = build_text_encoder("minilm-sentences", tiny=True, max_length=16)
    with torch.no_grad():
        out = encoder(**encoder.tokenize(["", REPORT]))
    assert not out.mask[0].any() and int(out.mask[1].sum()) == 5
