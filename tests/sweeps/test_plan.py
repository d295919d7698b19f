"""``sweep plan``: totals checked against counts made by hand from the specs and the paper."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from radsweep.encoders import EncoderKind
from radsweep.errors import SweepError
from radsweep.runs.config import RunConfig
from radsweep.sweeps.plan import (
    DEVICES,
    TRAIN_FACTOR,
    backbone_gflops,
    choose_devices,
    load_plan,
    plan,
    project,
)
from radsweep.sweeps.plan.measured import RATES_FILE, load_measured
from radsweep.sweeps.plan.pricing import head_parameters
from radsweep.sweeps.plan.projection import UPDATE_BYTES, run_memory, run_seconds
from radsweep.sweeps.spec import SweepSpec, load_spec
from radsweep.tasks.synthetic import SynthBenchmark
from radsweep.training.config import Method
from radsweep.training.registry import attention_maps_flops, attention_pool_flops
from tests.sweeps.rates import rates_document

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
    maps = 2 * 768**3 + 8 * 768**2  # W_q W_k^T and the folded biases: once per pass and seed
    # Table 2: 100 samples at 2.5 %, 100 epochs, 5 seeds: 2 steps of 64 rows (28 of them
    # padding); the value map trains both operands (2 D^2 more per sample), the maps 3 x
    train_step = (2 * pool + 2 * 768**2) * 64 + 3 * maps
    assert run.train_flops == pytest.approx(train_step * 2 * 100 * 5)
    # 1,000 evaluation images per epoch in 4 chunks of at most 256
    assert run.eval_flops == pytest.approx((pool * 1000 + maps * 4) * 100 * 5)


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


def test_all_plans_every_study_spec(tmp_path: Path) -> None:
    planned = load_plan([], True, tmp_path)
    assert "demo" not in planned.specs and "fig2-age" in planned.specs
    assert len(planned.runs) == 1521 and len(planned.caches) == 51


def test_no_projection_beats_the_ceiling_of_its_precision(tmp_path: Path) -> None:
    """Head FLOPs never run faster than the data sheet's dense peak at the runs' precision, and
    a T4 (no bf16, no TF32) prices bf16 as fp32."""
    planned = load_plan(["fig2-mimic-5x1200"], False, tmp_path)
    for device in DEVICES.values():
        for precision in ("fp32", "tf32", "bf16"):
            peak = device.peak_tflops[device.precision_used(precision)] * 1e12
            assert device.train_flops_per_s(precision) < peak
            for run in planned.runs:
                flops = run.train_flops + run.eval_flops
                assert run_seconds(run, device, precision).compute > flops / peak
    t4 = DEVICES["t4"]
    assert project(planned, t4, "bf16").seconds == project(planned, t4, "fp32").seconds
    h100 = DEVICES["h100"]
    bf16, fp32 = project(planned, h100, "bf16"), project(planned, h100, "fp32")
    assert bf16.seconds.total < fp32.seconds.total == pytest.approx(bf16.fp32_seconds.total)
    assert bf16.seconds.memory < fp32.seconds.memory  # tokens kept, gathered in bf16: no casts


def test_every_term_is_counted(tmp_path: Path) -> None:
    """Per-run overhead, cache reads, the step floor and the T^2 traffic all add time."""
    planned = load_plan(["fig2-mimic-5x1200"], False, tmp_path)
    seconds = project(planned, DEVICES["h100"], "bf16").seconds
    assert seconds.overhead == pytest.approx(42 * 10.0)
    rows = sum(run.rows_read for run in planned.runs)
    assert rows > 42 * 6000 * 49 * 512 * 2  # every run loads at least the smallest cache's rows
    # the finite check reads each cache once (recorded beside it), not once per run
    assert seconds.disk == pytest.approx((rows + planned.cache_bytes) / 2e9)
    assert seconds.floor > 0 and seconds.memory > 0 and seconds.upload == 0
    t2 = next(r for r in planned.runs if r.config.backbone == "rad-dino").stages[0].squares
    assert t2 == 1369**2


def test_a_shared_teacher_is_counted_once(tmp_path: Path) -> None:
    """The τ ablation's distillation runs differ in τ alone: one teacher per fraction."""
    planned = load_plan(["fig17-tau-mimic-5x1200"], False, tmp_path)
    distilled = [run for run in planned.runs if run.config.method is Method.DISTILL]
    teachers = {run.config.teacher_identity() for run in distilled}
    assert len(distilled) > len(teachers) > 1
    assert planned.shared_teachers == len(distilled) - len(teachers)
    trained = [run for run in distilled if run.stages[0].name == "teacher"]
    assert len(trained) == len(teachers)
    assert all(len(run.stages) == 1 for run in distilled if run.shared_teacher)


def test_a_teacher_is_priced_at_its_own_epochs(tmp_path: Path) -> None:
    loaded = load_spec("fig17-tau-mimic-5x1200")
    longer = SweepSpec(
        loaded.path,
        loaded.config
        | {"parameters": loaded.config["parameters"] | {"teacher_epochs": {"value": 99}}},
    )
    run = next(r for r in plan([longer], tmp_path).runs if len(r.stages) == 2)
    teacher, student = run.stages
    assert (teacher.name, teacher.epochs) == ("teacher", 99)
    assert student.epochs == run.config.epochs != 99


def test_uploaded_heads_are_counted(tmp_path: Path) -> None:
    loaded = load_spec("fig2-mimic-5x1200")
    uploading = SweepSpec(loaded.path, loaded.config | {"upload_heads": True})
    assert plan([loaded], tmp_path).upload_bytes == 0
    planned = plan([uploading], tmp_path)
    run = next(r for r in planned.runs if r.config.backbone == "c2l")
    assert run.upload == (3 * 512 * 512 + 5 * 512 + 512 * 5 + 5) * 4 * 5  # pool + classifier
    assert planned.upload_bytes == sum(r.parameters * 4 * 5 for r in planned.runs)
    assert project(planned, DEVICES["h100"]).seconds.upload == pytest.approx(
        planned.upload_bytes / 50e6
    )


def test_heads_kept_for_predict_are_counted_whether_or_not_uploaded(tmp_path: Path) -> None:
    planned = plan([load_spec("fig2-mimic-5x1200")], tmp_path)
    run = next(r for r in planned.runs if r.config.backbone == "c2l")
    assert run.kept_heads == (3 * 512 * 512 + 5 * 512 + 512 * 5 + 5) * 4 * 5
    assert planned.kept_heads_bytes == sum(
        r.parameters * 4 * len(r.config.seeds) for r in planned.runs
    )
    assert planned.upload_bytes == 0 < planned.kept_heads_bytes


@pytest.mark.parametrize(
    ("method", "head"),
    [("image", "attention"), ("teacher", "attention"), ("text", "mean-lp"), ("image", "cls-lp")],
)
def test_head_parameters_are_the_models(method: str, head: str) -> None:
    import torch

    from radsweep.training.heads import build_head

    config = RunConfig(task="t", backbone="c2l", method=Method(method), head=head, fraction=1)
    generators = [torch.Generator().manual_seed(s) for s in range(2)]
    model = build_head(Method(method), head, 512, 768, 3, generators)
    counted = sum(p.numel() for p in model.parameters()) // 2
    assert head_parameters(config, 3) == counted


def test_rad_dino_at_ten_seeds_does_not_fit_a_t4(tmp_path: Path) -> None:
    planned = load_plan(["fig2-readmission"], False, tmp_path)
    run = next(r for r in planned.runs if r.config.backbone == "rad-dino")
    assert len(run.config.seeds) == 10
    on_t4 = run_memory(run, DEVICES["t4"], "fp32")
    on_h100 = run_memory(run, DEVICES["h100"], "fp32")
    per_sample = run.stages[0].token_values * 4 + 1369 * 768 * 4 + 1369**2 * 32
    assert on_t4.step == pytest.approx(64 * per_sample)  # a step's activations per seed
    assert not on_t4.fits and on_t4.seeds_that_fit < on_h100.seeds_that_fit < 10
    projected = project(planned, DEVICES["t4"])
    assert projected.memory["rad-dino"].fits is False
    assert any(r.config.backbone == "rad-dino" for r in projected.cannot_run)
    assert project(planned, DEVICES["h100"]).memory["c2l"].fits


def test_the_plans_chunks_keep_every_seeds_weights_and_fit_the_usable_memory(
    tmp_path: Path,
) -> None:
    """The engine's arithmetic: all seeds' weights stay, one chunk's activations come and go."""
    planned = load_plan(["fig2-readmission"], False, tmp_path)
    run = next(r for r in planned.runs if r.config.backbone == "rad-dino")
    for device in DEVICES.values():
        memory = run_memory(run, device, "fp32")
        fit = memory.seeds_that_fit
        assert memory.fits == (fit == memory.seeds)
        if fit:
            activations = max(memory.step, memory.validation)
            held = memory.resident + memory.seeds * memory.weights + fit * activations
            assert held <= memory.usable < held + activations or fit == memory.seeds
            assert memory.chunks == -(-memory.seeds // fit)


def test_the_plan_holds_room_for_the_adam_update_of_every_seed(tmp_path: Path) -> None:
    """The update runs over all seeds at once after the activations are freed: 6 float32
    copies of the largest tensor (a pool's Q/K/V map) per seed, whatever the chunk."""
    planned = load_plan(["fig2-readmission"], False, tmp_path)
    run = next(r for r in planned.runs if r.config.backbone == "rad-dino")
    memory = run_memory(run, DEVICES["h100"], "fp32")
    assert memory.update == 3 * 768**2 * UPDATE_BYTES
    tight = replace(memory, usable=memory.resident + memory.seeds * (memory.weights + 1))
    assert tight.seeds_that_fit == 0 and not tight.fits  # no room for the update: cannot run
    one_step = max(memory.step, memory.validation)
    roomy = replace(tight, usable=tight.usable + memory.seeds * memory.update + one_step)
    assert roomy.seeds_that_fit == 1


def test_devices(tmp_path: Path, isolated_home: Path) -> None:
    [(device, rates)] = choose_devices("a100", isolated_home)
    assert device.name == "A100 SXM" and rates is None
    with pytest.raises(SweepError, match="no measured rates") as raised:
        choose_devices("measured", isolated_home)
    assert "radsweep bench gpu" in raised.value.one_line()
    with pytest.raises(SweepError, match="no data sheet for device 'v100'"):
        choose_devices("v100", isolated_home)
    with pytest.raises(SweepError, match="no sweep spec to plan"):
        load_plan([], False, tmp_path)


def _rates(home: Path, step_s: float, kind: str = "h100") -> None:
    path = home / RATES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rates_document(step_s, kind)))


def test_measured_rates_replace_the_assumed_ones(tmp_path: Path, isolated_home: Path) -> None:
    planned = load_plan(["fig2-mimic-5x1200"], False, tmp_path)
    assumed = project(planned, DEVICES["h100"], "bf16")
    _rates(isolated_home, 1.0)
    [(device, rates)] = choose_devices("measured", isolated_home)
    measured = project(planned, device, "bf16", rates)
    assert measured.source == "measured on NVIDIA H100 80GB HBM3 at 2026-12-07T06:00:00+00:00"
    (calibration,) = measured.calibrations
    assert calibration.train == pytest.approx(1.0 / calibration.modelled_step_s)
    assert measured.seconds.compute > assumed.seconds.compute  # a slow measured step
    assert measured.seconds.overhead == assumed.seconds.overhead  # fixed costs stay assumed
    on_a100 = project(planned, DEVICES["a100"], "bf16", rates)  # another kind: assumed
    assert on_a100.source == "assumed" and not on_a100.calibrations
    _rates(isolated_home, 1e-12)  # faster than the data sheet: held to the ceiling
    impossible = project(planned, device, "bf16", load_measured(isolated_home))
    run = next(r for r in planned.runs if r.config.backbone == "rad-dino")
    peak = device.peak_tflops["bf16"] * 1e12
    assert impossible.seconds.compute >= (run.train_flops + run.eval_flops) / peak
    fp32 = project(planned, device, "fp32", rates)  # nothing measured at fp32
    assert fp32.seconds == project(planned, device, "fp32").seconds


def test_a_damaged_rates_file_is_one_line(isolated_home: Path) -> None:
    assert load_measured(isolated_home) is None
    path = isolated_home / RATES_FILE
    path.parent.mkdir(parents=True)
    path.write_text('{"schema": 1}')
    with pytest.raises(SweepError, match="not a saved `radsweep bench gpu` result"):
        load_measured(isolated_home)


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
    maps = attention_maps_flops(dim)  # once per pass and seed, whatever the batch
    assert forward.get_total_flops() == pytest.approx(seeds * (batch * per_sample + maps))
    trained = seeds * (batch * (TRAIN_FACTOR * per_sample + 2 * dim**2) + 3 * maps)
    assert step.get_total_flops() == pytest.approx(trained)
