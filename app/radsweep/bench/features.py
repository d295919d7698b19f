"""``radsweep bench extract``: does decoding and writing hide behind the encoder's forward pass?

Both throughputs come from one run on the same model and batch size: the bare forward pass over
images preprocessed in advance, and the full extraction (decode in workers, views, forward, fp16
writes, checksums, consolidation). Their ratio is 1.0 when everything but compute is hidden.
"""

import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from radsweep.encoders import build_image_encoder
from radsweep.encoders.base import CropBox, ImageEncoder, ImageTokens
from radsweep.features.decode import decode_image
from radsweep.features.extract import ExtractOptions, extract_image_features
from radsweep.tasks.manifest import Manifest
from radsweep.tasks.synthetic import SynthConfig, synthesize

MIN_IMAGES = 50  # the synthetic benchmark's smallest size
MAX_IMAGES = 256  # beyond this, drawing the images costs more than it steadies the ratio


class _Stopwatch(ImageEncoder):
    """Delegates to an encoder and adds up the wall time of its forward passes."""

    def __init__(self, inner: ImageEncoder) -> None:
        super().__init__()
        self.inner = inner
        self.info = inner.info
        self.weights_identity = inner.weights_identity
        self.seconds = 0.0

    def preprocessing_id(self) -> dict[str, Any]:
        return self.inner.preprocessing_id()

    def preprocess(self, image: Image.Image, box: CropBox | None = None) -> torch.Tensor:
        return self.inner.preprocess(image, box)

    def forward(self, pixels: torch.Tensor) -> ImageTokens:
        start = time.perf_counter()
        out = self.inner(pixels)
        self.seconds += time.perf_counter() - start
        return out


@dataclass(frozen=True)
class Round:
    forward_rate: float  # images/s of the bare forward pass
    end_to_end_rate: float  # images/s of the whole extraction
    compute_share: float  # share of the extraction's wall time spent in the forward pass


@dataclass(frozen=True)
class ExtractBench:
    architecture: str
    images: int
    batch_size: int
    workers: int
    rounds: list[Round]

    @property
    def forward_rate(self) -> float:
        return max(one.forward_rate for one in self.rounds)

    @property
    def best(self) -> Round:
        """The round with the best end-to-end throughput."""
        return max(self.rounds, key=lambda one: one.end_to_end_rate)

    @property
    def ratio(self) -> float:
        """Best end-to-end throughput over best bare forward throughput."""
        return self.best.end_to_end_rate / self.forward_rate

    def lines(self) -> list[str]:
        return [
            f"model        : {self.architecture}, batch {self.batch_size}, "
            f"{self.workers} decoding worker(s), {self.images} images, best of {len(self.rounds)}",
            f"forward only : {self.forward_rate:8.2f} images/s",
            f"end to end   : {self.best.end_to_end_rate:8.2f} images/s "
            f"(forward pass {self.best.compute_share:.1%} of its wall time)",
            f"ratio end-to-end/forward throughput: {self.ratio:.3f}",
        ]

    def summary(self) -> dict[str, object]:
        return {
            "model": self.architecture,
            "images": self.images,
            "batch_size": self.batch_size,
            "workers": self.workers,
            "rounds": [asdict(one) for one in self.rounds],
            "forward_images_per_second": self.forward_rate,
            "end_to_end_images_per_second": self.best.end_to_end_rate,
            "ratios": {"end_to_end_over_forward": self.ratio},
        }


def bench_encoder() -> ImageEncoder:
    """The model ``bench extract`` measures: a randomly initialised ViT-B/16 at 224 (Medical MAE's
    architecture and preprocessing; nothing is downloaded)."""
    return build_image_encoder("medical-mae", "random", device="cpu")


def _forward_rate(encoder: ImageEncoder, batches: list[torch.Tensor]) -> float:
    start = time.perf_counter()
    with torch.inference_mode():
        for batch in batches:
            encoder(batch)
    return sum(len(batch) for batch in batches) / (time.perf_counter() - start)


def _round(
    encoder: _Stopwatch,
    batches: list[torch.Tensor],
    manifest: Manifest,
    cache_dir: Path,
    options: ExtractOptions,
) -> Round:
    forward = _forward_rate(encoder, batches)
    encoder.seconds = 0.0
    start = time.perf_counter()
    extract_image_features(encoder, manifest, cache_dir, options=options)
    seconds = time.perf_counter() - start
    return Round(forward, len(manifest.frame) / seconds, encoder.seconds / seconds)


def _calibrate(encoder: ImageEncoder, batch_size: int) -> float:
    """Forward images/s on random input, after a warm-up batch (first-call allocations)."""
    side = encoder.info.input_size or 224
    noise = Image.effect_noise((side, side), 64)
    batch = torch.stack([encoder.preprocess(noise)] * batch_size)
    _forward_rate(encoder, [batch])
    return _forward_rate(encoder, [batch])


def images_for_budget(rate: float, batch_size: int, rounds: int, seconds: float) -> int:
    """Images per measurement so that 2 x ``rounds`` measurements take about ``seconds``."""
    batches = max(1, int(seconds * rate / (2 * rounds) / batch_size))
    return min(MAX_IMAGES, max(MIN_IMAGES, batches * batch_size))


def run_extract_bench(
    encoder: ImageEncoder | None,
    batch_size: int,
    workers: int,
    rounds: int,
    seconds: float,
    images: int | None = None,
    report: Callable[[str], None] = lambda line: None,
) -> ExtractBench:
    """Alternate bare-forward and end-to-end measurements, so machine noise hits both alike.

    Without ``images``, the image count is sized from a calibration pass so the measurements
    take about ``seconds`` on this machine, however fast it is. ``encoder`` defaults to
    ``bench_encoder()``.
    """
    torch.set_flush_denormal(True)
    if encoder is None:
        encoder = bench_encoder()
    if images is None:
        rate = _calibrate(encoder, batch_size)
        images = images_for_budget(rate, batch_size, rounds, seconds)
        report(f"calibration: {rate:.2f} images/s, so {images} images per measurement")
    watched = _Stopwatch(encoder)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        benchmark = synthesize(SynthConfig(samples=images), root / "images")
        manifest = benchmark.manifest(benchmark.task_names[0])
        pixels = [encoder.preprocess(decode_image(path)) for path in manifest.image_paths()]
        batches = [
            torch.stack(pixels[start : start + batch_size])
            for start in range(0, len(pixels), batch_size)
        ]
        options = ExtractOptions(batch_size=batch_size, workers=workers)
        results = []
        for index in range(rounds):
            one = _round(watched, batches, manifest, root / f"cache-{index}", options)
            results.append(one)
            report(
                f"round {index + 1}: forward {one.forward_rate:.2f} images/s, end to end "
                f"{one.end_to_end_rate:.2f} images/s ({one.compute_share:.1%} of it in forward)"
            )
    return ExtractBench(encoder.info.architecture, images, batch_size, workers, results)
