"""RunConfig: validation, resolution against the task, canonical form and run keys."""

import pytest
import torch
from pydantic import ValidationError

from radsweep.errors import TrainingError
from radsweep.runs import config as run_config
from radsweep.runs.config import RunConfig, run_key
from radsweep.tasks.catalogue import STUDY_TASKS
from radsweep.training.config import Method

READMISSION = STUDY_TASKS["readmission"]


def test_resolution_fills_defaults_and_nulls_what_the_method_ignores() -> None:
    image = RunConfig(task="readmission", backbone="c2l", fraction=0.05, tau=4.0, lam=0.9)
    resolved = image.resolve(READMISSION)
    assert resolved.epochs == READMISSION.size(0.05).epochs
    assert resolved.lr == 1e-4
    assert resolved.tau is None and resolved.lam is None and resolved.text_encoder is None
    same = RunConfig(task="readmission", backbone="c2l", fraction=0.05, tau=0.1)
    assert same.resolve(READMISSION).canonical() == resolved.canonical()


def test_distillation_keeps_its_temperature_and_weight() -> None:
    config = RunConfig(task="readmission", backbone="c2l", method="distill", fraction=0.05)
    resolved = config.resolve(READMISSION)
    assert (resolved.tau, resolved.lam) == (READMISSION.default_tau, 0.5)
    assert resolved.text_encoder == "biovil-t"
    linear = config.model_copy(update={"head": "mean-lp"}).resolve(READMISSION)
    assert linear.lr == 1e-3


def test_text_only_runs_need_no_backbone() -> None:
    resolved = RunConfig(task="readmission", method="text", fraction=0.05).resolve(READMISSION)
    assert resolved.backbone is None and resolved.text_encoder == "biovil-t"
    assert resolved.lr == 1e-4  # the report's attention pool, at its lr
    probe = RunConfig(task="readmission", method="text", fraction=0.05, head="mean-lp")
    linear = probe.resolve(READMISSION)  # a linear text probe, at the probes' lr
    assert linear.head == "mean-lp" and linear.lr == 1e-3
    assert run_key(linear, ["a"]) != run_key(resolved, ["a"])
    with pytest.raises(ValidationError, match="text-only model takes head"):
        RunConfig(task="readmission", method="text", fraction=0.05, head="cls-lp")
    with pytest.raises(ValidationError, match="needs a backbone"):
        RunConfig(task="readmission", method="image", fraction=0.05)


@pytest.mark.parametrize(
    "bad",
    [
        {"fraction": 1.5},
        {"fraction": 0.0},
        {"lam": 1.2},
        {"lam": -0.1},
        {"tau": 0.0},
        {"seeds": (1, 1)},
        {"unknown": 3},
    ],
)
def test_invalid_values_are_rejected(bad: dict[str, object]) -> None:
    base = {"task": "readmission", "backbone": "c2l", "fraction": 0.05}
    with pytest.raises(ValidationError):
        RunConfig.model_validate({**base, **bad})


def test_run_key_depends_on_config_and_caches_only() -> None:
    config = RunConfig(task="readmission", backbone="c2l", fraction=0.05, seeds=(2, 0, 1))
    assert config.seeds == (0, 1, 2)
    resolved = config.resolve(READMISSION)
    assert run_key(resolved, ["a", "b"]) == run_key(resolved, ["b", "a"])
    assert run_key(resolved, ["a"]) != run_key(resolved, ["c"])
    other = resolved.model_copy(update={"fraction": 0.1})
    assert run_key(other, ["a"]) != run_key(resolved, ["a"])


# Keys of resolved configurations, written before the heads became a catalogue: stored results
# and W&B runs are found by these, so they must never change.
STORED_KEYS = {
    ("attention", "image"): "f457e9cd9a347d341aee6df532c58889",
    ("attention", "distill"): "31bd2a2a849cb6f92daf4ef62ad047d1",
    ("attention", "text"): "0a5d092914f2d4781eec53a956843485",
    ("mean-lp", "image"): "871fed72e8d0b7777813e0b9bb0b1844",
    ("mean-lp", "distill"): "3d9ebd011db73ad7d127d2289be90afc",
    ("cls-lp", "image"): "70421cc3db26c792c614d70dd171c375",
    ("cls-lp", "distill"): "c0c2df7de19d83ae04898ad06abdc7f7",
}


@pytest.mark.parametrize(("head", "method"), sorted(STORED_KEYS))
def test_run_keys_of_stored_results_do_not_change(head: str, method: str) -> None:
    config = RunConfig(
        task="readmission",
        backbone="rad-dino",
        method=method,
        head=head,
        fraction=0.05,
        scoring="validation",  # every run stored before held-out scoring was scored this way
    )
    resolved = config.resolve(READMISSION, device="cpu")  # fp32, as every stored run
    assert run_key(resolved, ["cache-a", "cache-b"]) == STORED_KEYS[head, method]
    stored = RunConfig.from_stored(resolved.canonical())
    assert stored == resolved and stored.scoring == "validation"
    held_out = resolved.model_copy(update={"scoring": "held-out"})
    assert run_key(held_out, ["cache-a", "cache-b"]) != STORED_KEYS[head, method]
    assert RunConfig.from_stored(held_out.canonical()) == held_out


def test_new_runs_are_scored_on_held_out_rows() -> None:
    config = RunConfig(task="readmission", backbone="c2l", fraction=0.05)
    assert config.scoring == "held-out"
    assert '"scoring":"held-out"' in config.resolve(READMISSION).canonical()


def test_the_catalogue_gives_the_light_encoders_their_training_and_text_encoder() -> None:
    light = RunConfig(task="readmission", backbone="pixel-patches", method="distill", fraction=0.05)
    assert light.text_encoder == "minilm-sentences"  # the backbone's family's
    resolved = light.resolve(READMISSION)
    assert (resolved.epochs, resolved.lr, resolved.batch_size) == (20, 1e-3, 32)
    assert resolved.train_config(READMISSION).batch_size == 32
    chosen = light.model_copy(update={"epochs": 7, "lr": 5e-4, "batch_size": 64})
    resolved = chosen.resolve(READMISSION)
    assert (resolved.epochs, resolved.lr, resolved.batch_size) == (7, 5e-4, 64)  # the user's win
    text = RunConfig(
        task="readmission", method="text", text_encoder="minilm-sentences", fraction=0.05
    )
    assert (text.resolve(READMISSION).epochs, text.resolve(READMISSION).lr) == (20, 1e-3)
    paper = RunConfig(task="readmission", backbone="c2l", method="distill", fraction=0.05)
    assert paper.text_encoder == "biovil-t"
    assert paper.resolve(READMISSION).batch_size == 64  # the paper's encoders name none
    explicit = RunConfig(task="t", backbone="c2l", method="image", fraction=0.1, text_encoder=None)
    assert explicit.text_encoder is None


def test_an_unset_precision_is_the_devices_default_and_named_in_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = RunConfig(task="readmission", backbone="c2l", fraction=0.05)
    on_cpu = config.resolve(READMISSION, device="cpu")
    assert on_cpu.precision == "fp32" and "precision" not in on_cpu.canonical()
    assert on_cpu.train_config(READMISSION).precision == "fp32"
    monkeypatch.setattr(run_config, "resolve_device", lambda device: torch.device("cuda"))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda **_: True)
    on_gpu = config.resolve(READMISSION, device="cuda")
    assert on_gpu.precision == "bf16" and '"precision":"bf16"' in on_gpu.canonical()
    assert run_key(on_gpu, ["a"]) != run_key(on_cpu, ["a"])  # results differ: so do keys
    assert RunConfig.from_stored(on_gpu.canonical()) == on_gpu
    assert RunConfig.from_stored(on_cpu.canonical()) == on_cpu
    tf32 = config.model_copy(update={"precision": "tf32"})
    assert tf32.resolve(READMISSION, device="cuda").precision == "tf32"


def test_a_chosen_precision_holds_on_any_device_but_tf32_is_fp32_off_cuda() -> None:
    config = RunConfig(task="readmission", backbone="c2l", fraction=0.05, precision="bf16")
    assert config.resolve(READMISSION, device="cpu").precision == "bf16"
    tf32 = config.model_copy(update={"precision": "tf32"}).resolve(READMISSION, device="cpu")
    fp32 = config.model_copy(update={"precision": "fp32"}).resolve(READMISSION, device="cpu")
    assert tf32 == fp32  # the same numbers on the CPU: the same run key
    with pytest.raises(ValidationError):
        RunConfig(task="readmission", backbone="c2l", fraction=0.05, precision="fp16")


def test_a_gpu_without_bfloat16_defaults_to_fp32_and_refuses_bf16(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A T4 (before Ampere): autocast cannot run bf16 there."""
    monkeypatch.setattr(run_config, "resolve_device", lambda device: torch.device("cuda"))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda **_: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: "Tesla T4")
    config = RunConfig(task="readmission", backbone="c2l", fraction=0.05)
    assert config.resolve(READMISSION, device="cuda").precision == "fp32"
    bf16 = config.model_copy(update={"precision": "bf16"})
    with pytest.raises(TrainingError, match="Tesla T4 has no bfloat16"):
        bf16.resolve(READMISSION, device="cuda")


def test_a_teacher_may_train_longer_than_its_student() -> None:
    config = RunConfig(task="readmission", backbone="c2l", method="distill", fraction=0.05)
    plain = config.resolve(READMISSION)
    longer = config.model_copy(update={"teacher_epochs": 2 * plain.epochs}).resolve(READMISSION)
    train = longer.train_config(READMISSION)
    assert (train.epochs, train.teacher_config().epochs) == (plain.epochs, 2 * plain.epochs)
    assert longer.teacher_identity() != plain.teacher_identity()  # another teacher
    assert RunConfig.from_stored(longer.canonical()) == longer
    # the run's own epochs, or a method without a teacher: one resolved form, one key
    same = config.model_copy(update={"teacher_epochs": plain.epochs}).resolve(READMISSION)
    assert same.teacher_epochs is None and same.canonical() == plain.canonical()
    assert "teacher_epochs" not in plain.canonical()
    image = longer.model_copy(update={"method": Method.IMAGE}).resolve(READMISSION)
    assert image.teacher_epochs is None
