"""Frontal chest radiographs drawn with OpenCV from a study's latent state.

Bright is dense (bone, heart, fluid); dark is air (lungs). The patient's right is on the viewer's
left. Coordinates are fractions of the image side, so every size draws the same anatomy.
"""

import cv2
import numpy as np

from radsweep.tasks.synthetic.cohort import AGE_RANGE, FINDINGS, Study
from radsweep.tasks.synthetic.config import SynthConfig


class _Canvas:
    """A float image in [0, 1] with drawing helpers in fractional coordinates."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pixels: np.ndarray = np.zeros(
            (size, size), np.float32
        )  # OpenCV returns untyped arrays

    def px(self, value: float) -> int:
        return round(value * self.size)

    def point(self, x: float, y: float) -> tuple[int, int]:
        return self.px(x), self.px(y)

    def ellipse(
        self,
        x: float,
        y: float,
        ax: float,
        ay: float,
        value: float,
        angle: float = 0.0,
        start: int = 0,
        end: int = 360,
        thickness: int = -1,
    ) -> None:
        cv2.ellipse(
            self.pixels,
            self.point(x, y),
            (max(1, self.px(ax)), max(1, self.px(ay))),
            angle,
            start,
            end,
            float(value),
            thickness,
            cv2.LINE_AA,
        )

    def add(self, layer: np.ndarray, weight: float) -> None:
        self.pixels += weight * layer

    def layer(self) -> "_Canvas":
        return _Canvas(self.size)


def _extent(study: Study) -> float:
    """How far a finding has spread, 0..1: the image's read Sx of the acute state, not S itself."""
    return float(1.0 / (1.0 + np.exp(-study.seen_severity)))


def _lung_centres(study: Study, visibility: float) -> dict[str, tuple[float, float]]:
    # Atelectasis pulls its side's diaphragm up (volume loss), as visibly as the finding shows.
    lift = 0.05 * visibility if FINDINGS[study.finding] == "Atelectasis" else 0.0
    return {
        "right": (0.32, 0.46 - (lift if study.side == "right" else 0.0)),
        "left": (0.68, 0.46 - (lift if study.side == "left" else 0.0)),
    }


def _anatomy(
    canvas: _Canvas, study: Study, config: SynthConfig, rng: np.random.Generator, heart_scale: float
) -> None:
    ageing = config.age_visibility * (study.age - AGE_RANGE[0]) / (AGE_RANGE[1] - AGE_RANGE[0])
    bone = 0.32 * (1.0 - 0.6 * ageing) * rng.uniform(0.9, 1.1)
    canvas.ellipse(0.5, 0.55, rng.uniform(0.40, 0.46), 0.52, 0.45)  # soft tissue of the torso
    for x, y in _lung_centres(study, config.finding_visibility).values():
        canvas.ellipse(x, y, 0.15, 0.30, 0.12)
    canvas.ellipse(0.5, 0.98, 0.42, 0.24, 0.55)  # abdomen under the diaphragm domes
    canvas.pixels[:, canvas.px(0.46) : canvas.px(0.54)] += 0.25  # mediastinum and spine
    for level in np.linspace(0.12, 0.95, 11):
        canvas.ellipse(0.5, level, 0.025, 0.025, 0.6 + bone, thickness=-1)  # vertebral bodies
    canvas.ellipse(0.54, 0.63, 0.13 * heart_scale, 0.11 * heart_scale**0.5, 0.58, angle=-15)
    ribs = canvas.layer()
    for level in np.linspace(0.20, 0.62, 8):
        for x, direction in ((0.32, 1), (0.68, -1)):
            ribs.ellipse(
                x,
                level,
                0.19,
                0.07,
                1.0,
                angle=8 * direction,
                start=180,
                end=360,
                thickness=max(1, canvas.px(0.012)),
            )
    ribs.ellipse(0.36, 0.15, 0.13, 0.03, 1.0, start=180, end=360, thickness=canvas.px(0.015))
    ribs.ellipse(0.64, 0.15, 0.13, 0.03, 1.0, start=180, end=360, thickness=canvas.px(0.015))
    canvas.add(ribs.pixels, bone)
    _age_cues(canvas, ageing, rng)


def _age_cues(canvas: _Canvas, ageing: float, rng: np.random.Generator) -> None:
    if rng.random() < ageing**1.5:  # calcified aortic knob
        canvas.ellipse(
            0.45, 0.30, 0.04, 0.03, 0.9, start=180, end=330, thickness=max(1, canvas.px(0.008))
        )
    for _ in range(rng.poisson(6 * ageing)):  # spine osteophytes
        y = rng.uniform(0.2, 0.9)
        x = 0.5 + rng.choice([-1, 1]) * 0.028
        canvas.ellipse(x, y, 0.008, 0.005, 0.85)


def _finding(canvas: _Canvas, study: Study, config: SynthConfig, rng: np.random.Generator) -> None:
    name = FINDINGS[study.finding]
    extent = _extent(study)
    strength = config.finding_visibility * (0.5 + 0.5 * extent)
    x, y = _lung_centres(study, config.finding_visibility)[study.side]
    layer = canvas.layer()
    if name == "Pleural Effusion":
        height = 0.06 + 0.14 * extent
        layer.ellipse(x, y + 0.27, 0.15, height, 1.0)  # basal opacity with a meniscus
        layer.pixels = cv2.GaussianBlur(layer.pixels, (0, 0), canvas.size * 0.01)
        canvas.add(layer.pixels, 0.5 * strength)
    elif name == "Consolidation":
        cy = rng.uniform(y - 0.1, y + 0.15)
        for _ in range(6):
            layer.ellipse(
                x + rng.normal(0, 0.03),
                cy + rng.normal(0, 0.03),
                0.03 + 0.03 * extent,
                0.03 + 0.02 * extent,
                1.0,
            )
        layer.pixels = cv2.GaussianBlur(layer.pixels, (0, 0), canvas.size * 0.012)
        canvas.add(layer.pixels, 0.55 * strength)
    elif name == "Edema":
        for cx in (0.32, 0.68):
            layer.ellipse(cx + (0.06 if cx < 0.5 else -0.06), 0.5, 0.10 + 0.04 * extent, 0.16, 1.0)
        layer.pixels = cv2.GaussianBlur(layer.pixels, (0, 0), canvas.size * 0.04)
        for _ in range(8):  # Kerley B lines at the periphery
            cx = rng.choice([0.19, 0.81])
            ly = rng.uniform(0.55, 0.72)
            cv2.line(
                layer.pixels,
                canvas.point(cx, ly),
                canvas.point(cx + 0.03 * np.sign(0.5 - cx), ly),
                0.8,
                1,
                cv2.LINE_AA,
            )
        canvas.add(layer.pixels, 0.4 * strength)
    elif name == "Atelectasis":
        ly = y + rng.uniform(0.12, 0.2)
        cv2.line(
            layer.pixels,
            canvas.point(x - 0.09, ly),
            canvas.point(x + 0.09, ly - 0.02),
            1.0,
            max(2, canvas.px(0.012 + 0.01 * extent)),
            cv2.LINE_AA,
        )
        layer.pixels = cv2.GaussianBlur(layer.pixels, (0, 0), canvas.size * 0.004)
        canvas.add(layer.pixels, 0.5 * strength)


def _acute_haze(canvas: _Canvas, study: Study, config: SynthConfig) -> None:
    """Diffuse airspace haze over both lungs that grows with the acute state.

    Whatever the finding, sicker patients' lungs look denser: the image's legible share of the
    prognostic state, which even a mean over patch intensities reads.
    """
    layer = canvas.layer()
    for x, y in _lung_centres(study, config.finding_visibility).values():
        layer.ellipse(x, y + 0.04, 0.13, 0.24, 1.0)
    layer.pixels = cv2.GaussianBlur(layer.pixels, (0, 0), canvas.size * 0.03)
    canvas.add(layer.pixels, 0.3 * config.severity_visibility * _extent(study))


def _devices(canvas: _Canvas, study: Study) -> None:
    if study.endotracheal_tube:
        cv2.line(
            canvas.pixels,
            canvas.point(0.5, 0.0),
            canvas.point(0.5, 0.28),
            1.0,
            max(1, canvas.px(0.008)),
            cv2.LINE_AA,
        )
    if study.central_line:
        cv2.polylines(
            canvas.pixels,
            [
                np.array(
                    [canvas.point(0.25, 0.12), canvas.point(0.42, 0.2), canvas.point(0.46, 0.42)],
                    np.int32,
                )
            ],
            False,
            1.0,
            1,
            cv2.LINE_AA,
        )


def draw_radiograph(study: Study, config: SynthConfig) -> np.ndarray:
    """The study's radiograph as an 8-bit grayscale image; the same study draws the same bytes."""
    rng = np.random.default_rng([config.seed, 2, study.index])
    canvas = _Canvas(config.image_size)
    enlarged = FINDINGS[study.finding] == "Cardiomegaly"
    heart = rng.uniform(0.9, 1.1) + (
        config.finding_visibility * (0.3 + 0.3 * _extent(study)) if enlarged else 0.0
    )
    _anatomy(canvas, study, config, rng, heart)
    if not enlarged:
        _finding(canvas, study, config, rng)
    _acute_haze(canvas, study, config)
    _devices(canvas, study)
    size = config.image_size
    turn = cv2.getRotationMatrix2D(
        (size / 2, size / 2), rng.normal(0, 2.0), rng.uniform(0.95, 1.05)
    )
    pixels = cv2.warpAffine(canvas.pixels, turn, (size, size), borderValue=0.0)
    pixels = cv2.GaussianBlur(pixels, (0, 0), size * 0.004)
    pixels = rng.uniform(0.85, 1.1) * np.clip(pixels, 0, 1.2) ** rng.uniform(0.85, 1.15)
    pixels += rng.normal(0, 0.02, pixels.shape).astype(np.float32)
    return np.clip(pixels * 200.0, 0, 255).astype(np.uint8)
