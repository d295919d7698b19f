"""``sweep plan``: totals checked against counts made by hand from the specs and the paper."""

from pathlib import Path

import pytest

from radsweep.encoders import EncoderKind
from radsweep.errors import SweepError
from radsweep.sweeps.plan import (
    DEVICES,
    TRAIN_FACTOR,
    backbone_gflops,
    choose_devices,
    load_plan,
)
from radsweep.tasks.synthetic import SynthBenchmark
from radsweep.training.registry import attention_pool_flops

SEVEN = ("rad-dino", "c2l", "medical-mae", "mrm", "biovil-t", "gloria", "biomedclip")
# (tokens incl. CLS, dim) of each backbone's stored tokens at the paper's input size
TOKENS = {
    "rad-dino": (37 * 37 + 1, 768),
    "c2l": (49, 512),
    "medical-mae": (197, 768),
    "mrm": (197, 768),
    "biovil-t": (196, 2048),
    "gloria": (49, 2048),
    "biomedclip": (197, 768),
}
MIMIC_IMAGES = 6000  # 5 classes x 1,200


def test_fig2_mimic_by_hand(tmp_path: Path) -> None:
    planned = load_plan(["fig2-mimic-5x1200"], False, tmp_path)
    assert (planned.listed, len(planned.runs)) == (42, 42)  # 7 backbones x 6 fractions
    caches = {cache.encoder: cache for cache in planned.caches}
    assert sorted(caches) == sorted(SEVEN)
    assert all(cache.samples == MIMIC_IMAGES and cache.views == 1 for cache in caches.values())
    assert caches["rad-dino"].bytes == 6000 * 1370 * 768 * 2  # 12.6 GB: 2.1 MB per image
    assert planned.cache_bytes == sum(6000 * t * d * 2 for t, d in TOKENS.values())
    assert planned.extract_flops == pytest.approx(6000 * sum(map(backbone_gflops, SEVEN)) * 1e9)
    run = next(
        r for r in planned.runs if r.config.backbone == "rad-dino" and r.config.fraction == 0.025
    )
    # score map, scores, pooled tokens, value map: one sample's forward
    pool = 2 * 1369 * 768**2 + 2 * 1369**2 * 768 + 2 * 1369 * 768 + 2 * 768**2
    # Table 2: 100 samples at 2.5 %, 100 epochs; 5 seeds; 1,000 evaluation images per epoch
    assert run.train_flops == pytest.approx(2 * pool * 100 * 100 * 5)
    assert run.eval_flops == pytest.approx(pool * 1000 * 100 * 5)


def test_table7_text_by_hand(tmp_path: Path) -> None:
    planned = load_plan(["table7-text-mimic-inspect"], False, tmp_path)
    assert len(planned.runs) == 6  # 3 tasks x 2 fractions, text-only
    assert {(c.kind, c.task, c.samples) for c in planned.caches} == {
        (EncoderKind.TEXT, "mimic-5x1200", 6000),
        (EncoderKind.TEXT, "12-month-ph", 5451),
        (EncoderKind.TEXT, "readmission", 5651),
    }
    assert planned.cache_bytes == (6000 + 5451 + 5651) * 256 * (768 * 2 + 1)


def test_specs_share_runs_and_caches(tmp_path: Path) -> None:
    """Figure 3's image-only runs are Figure 2's: counted once, as are the shared caches."""
    planned = load_plan(["fig2-mimic-5x1200", "fig3-mimic-5x1200"], False, tmp_path)
    assert planned.listed == 42 + 4 * 6 * 6
    assert len(planned.runs) == 42 + 3 * 6 * 6  # teacher, distill, self-distill are new
    assert len(planned.caches) == 7 + 1  # the BioViL-T text cache joins the seven image caches


def test_a_built_task_counts_its_manifest(small_benchmark: SynthBenchmark) -> None:
    planned = load_plan(["demo"], False, small_benchmark.directory.parent)
    assert {cache.samples for cache in planned.caches} == {400}


def test_all_plans_every_study_spec_and_projects_hours(tmp_path: Path) -> None:
    planned = load_plan([], True, tmp_path)
    assert "demo" not in planned.specs and "fig2-age" in planned.specs
    extract, train = planned.hours(DEVICES["h100"])
    slower = sum(planned.hours(DEVICES["a100"]))
    assert 0 < extract < train and slower == pytest.approx((extract + train) * 989 / 312)


def test_devices(tmp_path: Path, isolated_home: Path) -> None:
    assert [d.name for d in choose_devices("a100", isolated_home)] == ["A100 SXM"]
    with pytest.raises(SweepError, match="no throughput for device 'measured'") as raised:
        choose_devices("measured", isolated_home)
    assert "radsweep bench gpu" in raised.value.one_line()
    with pytest.raises(SweepError, match="no sweep spec to plan"):
        load_plan([], False, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("backbone", ["c2l", "medical-mae", "gloria"])
def test_backbone_flops_are_what_pytorch_counts(backbone: str) -> None:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from radsweep.encoders import build_image_encoder

    encoder = build_image_encoder(backbone, "random").to("meta")
    size = encoder.info.input_size
    with FlopCounterMode(display=False) as counter:
        encoder(torch.zeros(1, 3, size, size, device="meta"))
    assert counter.get_total_flops() / 1e9 == pytest.approx(backbone_gflops(backbone), abs=0.01)


@pytest.mark.parametrize(("tokens", "dim"), [(24, 16), (64, 48)])
def test_attention_pool_flops_are_what_pytorch_counts(tokens: int, dim: int) -> None:
    """The plan's head cost is the real pool's: forward, and forward plus backward."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from radsweep.training.layers import StackedAttentionPool, normalise_tokens

    seeds, batch = 2, 64
    pool = StackedAttentionPool(dim, [torch.Generator().manual_seed(s) for s in range(seeds)])
    x = normalise_tokens(torch.randn(seeds, batch, tokens, dim))
    with FlopCounterMode(display=False) as forward, torch.no_grad():
        pool(x)
    with FlopCounterMode(display=False) as step:
        pool(x).sum().backward()
    per_sample = attention_pool_flops(tokens, dim)
    assert forward.get_total_flops() / (seeds * batch) == pytest.approx(per_sample, rel=0.05)
    trained = step.get_total_flops() / (seeds * batch)
    assert trained == pytest.approx(TRAIN_FACTOR * per_sample, rel=0.05)
