"""Generated token features for training tests: no tasks, caches or encoders involved."""

import numpy as np
import torch

from radsweep.training import SeedSplit, TrainingData


def token_features(
    samples: int = 240,
    views: int = 3,
    tokens: int = 8,
    dim: int = 16,
    text_tokens: int = 6,
    text_dim: int = 12,
    classes: int = 2,
    seed: int = 0,
) -> TrainingData:
    """Images whose tokens lean towards a class direction; reports that name the class more clearly.

    Class information sits in a direction, not an offset, because LayerNorm removes offsets.
    """
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(samples) % classes
    directions = torch.randn(classes, dim, generator=g)
    image = torch.randn(views, samples, tokens, dim, generator=g)
    image += 0.4 * directions[labels][None, :, None, :]
    text_directions = torch.randn(classes, text_dim, generator=g)
    text = torch.randn(samples, text_tokens, text_dim, generator=g)
    text += 1.5 * text_directions[labels][:, None, :]
    lengths = torch.randint(2, text_tokens + 1, (samples,), generator=g)
    mask = torch.arange(text_tokens)[None, :] < lengths[:, None]
    return TrainingData(
        labels=labels,
        classes=classes,
        image=image.half(),
        image_cls=image[:, :, 0].half(),
        text=text,
        text_mask=mask,
    )


def seed_splits(
    samples: int, seeds: list[int], train: list[int], validation: int
) -> list[SeedSplit]:
    """Disjoint random train/validation rows per seed; ``train`` sizes may differ by seed."""
    splits = []
    for seed, size in zip(seeds, train, strict=True):
        order = np.random.default_rng(seed).permutation(samples)
        splits.append(
            SeedSplit(seed, np.sort(order[:size]), np.sort(order[size : size + validation]))
        )
    return splits


def privileged_features(kind: str, samples: int, seed: int = 0) -> TrainingData:
    """The paper's two regimes in miniature (its Figure 4).

    A hidden state shows faintly in the image tokens. ``prognostic``: the report describes the
    state and the label is a noisy outcome of it, so the report carries information the labels
    blur. ``diagnostic``: the label is read off the report, so a report-aware teacher can only
    echo the labels.
    """
    g = torch.Generator().manual_seed(seed)
    state = torch.randn(samples, generator=g)
    if kind == "prognostic":
        labels = (state + 1.5 * torch.randn(samples, generator=g) > 0).long()
        described = state
    else:
        labels = (state > 0).long()
        described = 2.0 * labels - 1.0
    seen = state + 0.7 * torch.randn(samples, generator=g)
    image_direction, text_direction = torch.randn(64, generator=g), torch.randn(12, generator=g)
    image = torch.randn(1, samples, 8, 64, generator=g)
    image += 0.3 * seen[None, :, None, None] * image_direction
    text = (
        torch.randn(samples, 6, 12, generator=g) + 0.8 * described[:, None, None] * text_direction
    )
    return TrainingData(labels=labels, classes=2, image=image.half(), text=text)
