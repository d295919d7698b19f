"""Small test-double encoders that honour the encoder contract (radsweep.encoders.base)."""

import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from radsweep.encoders.base import (
    CropBox,
    EncoderInfo,
    EncoderKind,
    ImageEncoder,
    ImageTokens,
    TextEncoder,
    TextTokens,
)
from radsweep.features.extract import ExtractOptions

SIDE = 32
PATCH = 8


# Small shards and batches so a few images span several of each; no worker processes.
BUILD_OPTIONS = ExtractOptions(batch_size=4, shard_size=8, workers=0, command="radsweep features x")


def poison(path: Path, samples: list[int]) -> None:
    """Set whole samples of a ``[V, N, ...]`` fp16 array to NaN (0xFFFF), in place."""
    array = np.load(path, mmap_mode="r+")
    array[:, samples] = np.frombuffer(b"\xff\xff", dtype=np.float16)[0]
    array.flush()
    del array


class SimulatedKill(RuntimeError):
    """Raised by a double after a set number of forward calls, as if the process died."""


class TinyImageEncoder(ImageEncoder):
    """One strided conv: a 32 px image becomes a 4x4 grid of ``dim``-d tokens, plus a CLS."""

    def __init__(
        self, seed: int = 0, dim: int = 8, fail_after: int | None = None, name: str = "tiny-conv"
    ) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.conv = torch.nn.Conv2d(1, dim, kernel_size=PATCH, stride=PATCH)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(self.conv.weight.shape, generator=generator))
            self.conv.bias.copy_(torch.randn(self.conv.bias.shape, generator=generator))
        grid = SIDE // PATCH
        self.info = EncoderInfo(
            name=name,
            kind=EncoderKind.IMAGE,
            architecture="conv",
            input_size=SIDE,
            grid=(grid, grid),
            dim=dim,
            has_cls=True,
            default_weights="random",
            licence="Apache-2.0",
        )
        self.weights_identity = f"random-seed-{seed}"
        self.fail_after = fail_after
        self.calls = 0

    def preprocessing_id(self) -> dict[str, Any]:
        return {"resize": SIDE, "resample": "bilinear", "scale": "1/255"}

    def preprocess(self, image: Image.Image, box: CropBox | None = None) -> torch.Tensor:
        if box is not None:
            left, top, width, height = box
            image = image.crop((left, top, left + width, top + height))
        image = image.resize((SIDE, SIDE), Image.Resampling.BILINEAR)
        return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0)[None]

    def forward(self, pixels: torch.Tensor) -> ImageTokens:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise SimulatedKill(f"killed at forward call {self.calls}")
        tokens = self.conv(pixels).flatten(2).transpose(1, 2)
        return ImageTokens(tokens=tokens, cls=tokens.mean(dim=1))


class TinyTextEncoder(TextEncoder):
    """Hashed word ids and an embedding table: enough to give each report its own tokens."""

    VOCAB = 97

    def __init__(self, seed: int = 0, dim: int = 8, max_length: int = 12) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.embedding = torch.nn.Embedding(self.VOCAB + 1, dim, padding_idx=0)
        with torch.no_grad():
            self.embedding.weight[1:].copy_(torch.randn(self.VOCAB, dim, generator=generator))
        self.info = EncoderInfo(
            name="tiny-text",
            kind=EncoderKind.TEXT,
            architecture="embedding",
            input_size=None,
            grid=None,
            dim=dim,
            has_cls=False,
            default_weights="random",
            licence="Apache-2.0",
        )
        self.weights_identity = f"random-seed-{seed}"
        self.max_length = max_length
        self.calls = 0

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        ids = torch.zeros(len(texts), self.max_length, dtype=torch.long)
        for row, text in enumerate(texts):
            words = text.lower().split()[: self.max_length]
            for column, word in enumerate(words):
                ids[row, column] = zlib.crc32(word.encode()) % self.VOCAB + 1
        return {"input_ids": ids, "attention_mask": (ids > 0).long()}

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> TextTokens:
        self.calls += 1
        return TextTokens(tokens=self.embedding(input_ids), mask=attention_mask.bool())
