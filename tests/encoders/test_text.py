"""Text encoders: tokenization, the CXR-BERT / Bio_ClinicalBERT release layouts, real MiniLM."""

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from radsweep.encoders import DEFAULT_MAX_LENGTH, TextEncoder, build_text_encoder, list_encoders
from radsweep.encoders.base import EncoderKind
from radsweep.encoders.text import minilm_folder
from radsweep.errors import RadsweepError, WeightsError
from tests.encoders.conftest import perturb

# One token per report token (the sentence encoder has its own tests in test_light.py).
TEXT_NAMES = [
    info.name for info in list_encoders(EncoderKind.TEXT) if info.name != "minilm-sentences"
]
REPORTS = ["No acute cardiopulmonary process.", "Small left pleural effusion. " * 40]


@pytest.mark.parametrize("name", TEXT_NAMES)
def test_tokens_come_with_the_mask_and_respect_max_length(name: str) -> None:
    encoder = build_text_encoder(name, tiny=True, max_length=24)
    batch = encoder.tokenize(REPORTS)
    assert batch["input_ids"].shape == batch["attention_mask"].shape == (2, 24)
    with torch.no_grad():
        out = encoder(**batch)
    assert out.tokens.shape == (2, 24, encoder.info.dim)
    assert out.mask.dtype == torch.bool
    assert 3 < int(out.mask[0].sum()) < 24  # short report: padded
    assert bool(out.mask[1].all())  # long report: truncated to max_length


def test_the_default_max_length_is_documented_and_bounded() -> None:
    assert build_text_encoder("minilm", tiny=True).max_length == DEFAULT_MAX_LENGTH == 256
    with pytest.raises(RadsweepError, match=r"max length 513 is outside 2\.\.512"):
        build_text_encoder("cxr-bert-general", tiny=True, max_length=513)


def _vocabulary(folder: Path) -> None:
    """An uncased 30,522-word BERT vocabulary, as the CXR and clinical BERTs ship (vocab.txt)."""
    shutil.copy(minilm_folder() / "vocab.txt", folder / "vocab.txt")


def _tiny_bert_config() -> dict[str, int]:
    return {
        "vocab_size": 30522,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
    }


def _cxr_bert(folder: Path) -> torch.nn.Module:
    """CXR-BERT: BertForMaskedLM keys plus cls_projection_head.*, a config for remote code."""
    from safetensors.torch import load_file, save_file
    from transformers import BertConfig, BertForMaskedLM

    model = perturb(BertForMaskedLM(BertConfig(**_tiny_bert_config())))
    model.save_pretrained(folder)
    state = load_file(folder / "model.safetensors")
    state["cls_projection_head.dense_to_hidden.weight"] = torch.randn(32, 32)
    save_file(state, folder / "model.safetensors", metadata={"format": "pt"})
    config = json.loads((folder / "config.json").read_text())
    config.pop("model_type")
    config["architectures"] = ["CXRBertModel"]
    config["auto_map"] = {"AutoModel": "modeling_cxrbert.CXRBertModel"}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}))
    _vocabulary(folder)
    return model.bert.eval()


def _clinical_bert(folder: Path) -> torch.nn.Module:
    """Bio_ClinicalBERT: BertForPreTraining (bert.* with pooler, cls.*), no tokenizer_config."""
    from transformers import BertConfig, BertForPreTraining

    model = perturb(BertForPreTraining(BertConfig(**_tiny_bert_config())))
    model.save_pretrained(folder)
    _vocabulary(folder)
    return model.bert.eval()


@pytest.mark.parametrize(
    ("name", "write"), [("biovil-t", _cxr_bert), ("bio-clinicalbert", _clinical_bert)]
)
def test_release_folders_load_as_plain_bert_with_identical_tokens(
    name: str, write: Callable[[Path], torch.nn.Module], tmp_path: Path
) -> None:
    reference = write(tmp_path)
    encoder = build_text_encoder(name, weights=tmp_path, max_length=16)
    batch = encoder.tokenize(REPORTS)
    with torch.no_grad():
        expected = reference(**batch).last_hidden_state
        actual = encoder(**batch).tokens
    assert torch.equal(expected, actual)
    assert encoder.weights_identity.startswith("sha256:")


def test_a_bert_folder_missing_a_weight_is_refused_by_name(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    _clinical_bert(tmp_path)
    state = load_file(tmp_path / "model.safetensors")
    del state["bert.encoder.layer.1.output.dense.weight"]
    save_file(state, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(WeightsError, match=r"missing keys 1: encoder\.layer\.1\.output\.dense"):
        build_text_encoder("bio-clinicalbert", weights=tmp_path)


def test_text_weights_must_be_a_folder(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(WeightsError, match="text encoders load from a Hugging Face folder"):
        build_text_encoder("cxr-bert-general", weights=tmp_path / "weights.bin")


def _sentence_embedding(encoder: TextEncoder, texts: list[str]) -> torch.Tensor:
    with torch.no_grad():
        out = encoder(**encoder.tokenize(texts))
    mask = out.mask.unsqueeze(-1).float()
    pooled = (out.tokens * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1)


def test_minilm_is_real_offline_and_puts_similar_reports_closer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder = build_text_encoder("minilm", max_length=32)
    assert encoder.info.dim == 384 and encoder.weights_identity.startswith("sha256:")
    report, paraphrase, unrelated = _sentence_embedding(
        encoder,
        [
            "There is a large right pleural effusion.",
            "Large pleural effusion on the right side.",
            "The quarterly sales figures exceeded expectations.",
        ],
    )
    assert float(report @ paraphrase) > float(report @ unrelated) + 0.3
