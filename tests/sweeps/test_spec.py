import random
import warnings
from collections import Counter
from pathlib import Path

import pytest

from radsweep.demo import DEMO_SPEC
from radsweep.errors import SweepError
from radsweep.sweeps.spec import expand, load_spec, suggestions, task_specs
from radsweep.tasks.catalogue import STUDY_TASKS
from radsweep.training.config import Method
from tests.training.max_pool_head import max_pool_head

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # sweeps 0.2 declares pydantic-v1 options
    from sweeps import SweepConfig

SPECS = Path(__file__).parents[2] / "sweeps"
ALL_BACKBONES = {"rad-dino", "c2l", "medical-mae", "mrm", "biovil-t", "gloria", "biomedclip"}
DISTILLATION_BACKBONES = ALL_BACKBONES - {"biomedclip"}  # Appendix D: 6 backbones in Figure 3
METHODS = {Method.IMAGE, Method.TEACHER, Method.DISTILL, Method.SELF_DISTILL}


def sizes(task: str) -> int:
    return len(STUDY_TASKS[task].sizes)


# Distinct configurations per spec, from the paper's grids (and Tables 2-6 for the fractions).
EXPECTED = {
    **{f"fig2-{task}": 7 * sizes(task) for task in STUDY_TASKS if task != "pe"},
    "fig3-readmission": 4 * 6 * sizes("readmission"),
    "fig3-mimic-5x1200": 4 * 6 * sizes("mimic-5x1200"),
    "fig7-pe": 4 * 6 * sizes("pe"),
    "fig8-12-month-ph": 4 * 6 * sizes("12-month-ph"),
    "fig9-age": 4 * 6 * sizes("age"),
    "fig10-3-day-discharge": 4 * 6 * sizes("3-day-discharge"),
    "fig14-head-readmission": 4 * 3 * sizes("readmission"),
    "fig15-head-mimic-5x1200": 4 * 3 * sizes("mimic-5x1200"),
    # distilled runs store their image-only baseline; it is no grid point of the ablations
    "fig16-tau-readmission": 6 * sizes("readmission") * 6,
    "fig17-tau-mimic-5x1200": 6 * sizes("mimic-5x1200") * 6,
    "fig18-text-encoder-readmission": 6 * sizes("readmission") * 3 * 2,
    "fig19-text-encoder-mimic-5x1200": 6 * sizes("mimic-5x1200") * 3 * 2,
    "table7-text-mimic-inspect": 3 * 2,
    "table7-text-age-discharge": 2 * 2,
    "lambda-readmission": 24,
    "demo": 2 * 3,  # tasks x methods, at one fraction
    "iu-xray": 2 * 8 * 4 * 5,  # 2 IU X-ray tasks x 8 backbones x 4 methods x 5 fractions
}


@pytest.fixture(scope="module")
def tasks() -> dict:
    return task_specs(Path("/nonexistent"))


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_there_is_a_spec_for_every_experiment() -> None:
    assert {path.stem for path in SPECS.glob("*.yaml")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_spec_is_a_valid_wandb_sweep_that_expands_to_its_grid(name: str, tasks: dict) -> None:
    spec = load_spec(SPECS / f"{name}.yaml")
    # W&B's own schema; sweeps 0.2's copy predates run_cap, which the server accepts
    SweepConfig({key: value for key, value in spec.config.items() if key != "run_cap"})
    assert spec.config["name"] == name
    assert spec.config["metric"] == {"name": "auc/final/mean", "goal": "maximize"}
    assert spec.config["command"][-1] == "${args_json}"
    configs = expand(spec, tasks)
    assert len(configs) == EXPECTED[name]
    assert len(suggestions(spec)) == len(configs)  # no W&B run repeats a configuration
    for config in configs:
        task = tasks[config.task]
        if task.name in STUDY_TASKS:
            assert config.fraction in {size.fraction for size in task.sizes}
        assert config.resolve(task) == config  # queued configurations are already resolved


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_stock_agent_runs_the_spec_under_its_name(name: str) -> None:
    """``wandb agent`` launches the command; --spec makes the spec's name the runs' group."""
    spec = load_spec(SPECS / f"{name}.yaml")
    command = spec.config["command"]
    assert command[:4] == ["${env}", "radsweep", "sweep", "run-config"]
    assert command[command.index("--spec") + 1] == name
    assert spec.config["program"] == "radsweep"


def test_configurations_shared_across_specs_are_listed(tasks: dict) -> None:
    """A configuration in several specs trains once; its other runs replay it (tagged cached)."""
    owners: dict[str, list[str]] = {}
    for path in sorted(SPECS.glob("*.yaml")):
        spec = load_spec(path)
        for config in expand(spec, tasks):
            owners.setdefault(config.canonical(), []).append(spec.name)
    shared = Counter(tuple(names) for names in owners.values() if len(names) > 1)
    for names, count in sorted(shared.items()):
        print(f"{count:4d} configurations shared by {', '.join(names)}")
    assert all(len(set(names)) == len(names) for names in shared)  # never twice in one spec
    assert sum(shared.values()) > 0  # fig2's image-only runs are fig3's baselines


def test_sample_efficiency_covers_seven_backbones_at_every_fraction(tasks: dict) -> None:
    configs = expand(load_spec(SPECS / "fig2-readmission.yaml"), tasks)
    assert {config.backbone for config in configs} == ALL_BACKBONES
    assert {config.method for config in configs} == {Method.IMAGE}
    assert all(config.seeds == tuple(range(10)) for config in configs)  # 10 for Readmission


def test_distillation_crosses_four_methods_and_six_backbones(tasks: dict) -> None:
    configs = expand(load_spec(SPECS / "fig3-mimic-5x1200.yaml"), tasks)
    assert {config.backbone for config in configs} == DISTILLATION_BACKBONES
    assert {config.method for config in configs} == METHODS
    assert {config.tau for config in configs if config.method.distils} == {2.5}  # MIMIC's τ
    assert all(config.seeds == (0, 1, 2, 3, 4) for config in configs)


def test_the_demo_runs_light_encoders_on_the_synthetic_tasks(tasks: dict) -> None:
    configs = expand(load_spec(SPECS / "demo.yaml"), tasks)
    assert {config.backbone for config in configs} == {"pixel-patches"}
    assert {config.task for config in configs} == {"synth-diagnostic", "synth-prognostic"}
    assert {config.method for config in configs} == {
        Method.IMAGE,
        Method.DISTILL,
        Method.SELF_DISTILL,
    }
    assert {config.text_encoder for config in configs} == {"minilm-sentences", None}
    assert all(config.epochs == 20 and config.seeds == tuple(range(40)) for config in configs)
    assert all(config.scoring == "held-out" for config in configs)


def test_the_demo_spec_ships_inside_the_package() -> None:
    assert (SPECS / "demo.yaml").resolve() == DEMO_SPEC.resolve()


def test_random_search_is_deterministic_and_capped(tasks: dict) -> None:
    spec = load_spec(SPECS / "lambda-readmission.yaml")
    state = random.getstate()
    first, second = expand(spec, tasks), expand(spec, tasks)
    assert random.getstate() == state  # the caller's random stream is left alone
    assert first == second and len(first) == spec.run_cap == 24
    assert len({config.lam for config in first}) == 24
    assert all(0.0 <= (config.lam or 0) <= 1.0 for config in first)
    assert all(0.1 <= (config.tau or 0) <= 5.0 for config in first)


def test_run_cap_also_caps_a_grid(tmp_path: Path, tasks: dict) -> None:
    path = write(
        tmp_path,
        "method: grid\nrun_cap: 3\nparameters:\n  task: {value: synth-age}\n"
        "  backbone: {values: [c2l, mrm]}\n  fraction: {values: [0.05, 0.1, 0.5]}\n",
    )
    assert len(expand(load_spec(path), tasks)) == 3


def test_grid_follows_wandb_int_uniform_rules(tmp_path: Path, tasks: dict) -> None:
    path = write(
        tmp_path,
        "method: grid\nparameters:\n  task: {value: synth-age}\n  backbone: {value: c2l}\n"
        "  fraction: {value: 0.1}\n  views: {value: 2}\n"
        "  view_seed: {distribution: int_uniform, min: 0, max: 2}\n",
    )
    assert [config.view_seed for config in expand(load_spec(path), tasks)] == [0, 1, 2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("method: grid\nparameters: {task: {value: age}\n", "invalid YAML at line 3"),
        ("- just a list\n", "a sweep spec is a YAML mapping"),
        ("method: sideways\nparameters: {task: {value: age}}\n", "not a valid W&B sweep"),
        ("method: grid\nparameters: {task: {valuez: [age]}}\n", "not a valid W&B sweep"),
        ("method: grid\nrun_cap: 0\nparameters: {task: {value: age}}\n", "run_cap must be"),
        ("method: grid\nparameters: {colour: {value: red}}\n", "unknown parameter 'colour'"),
    ],
)
def test_bad_specs_fail_on_load_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SweepError, match=message) as raised:
        load_spec(path)
    assert str(path) in str(raised.value)
    assert "\n" not in raised.value.one_line()


GOOD = "  task: {value: synth-age}\n  backbone: {value: c2l}\n"
TEACHER = "  fraction: {value: 0.1}\n  method: {value: teacher}\n"


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (GOOD + "  fraction: {values: [0.1, 1.5]}\n", "parameter fraction = 1.5: Input should be"),
        ("  task: {value: nope}\n  backbone: {value: c2l}\n  fraction: {value: 0.1}\n",
         "parameter task = 'nope': unknown task"),
        ("  task: {value: synth-age}\n  backbone: {value: resnet-9000}\n  fraction: {value: 0.1}\n",
         "parameter backbone = 'resnet-9000': unknown image encoder"),
        (GOOD + TEACHER + "  text_encoder: {value: gpt}\n",
         "parameter text_encoder = 'gpt': unknown text encoder"),
        (GOOD + "  fraction: {value: 0.1}\n  head: {value: cls-lp}\n", "cls-lp needs a CLS token"),
        ("  task: {value: synth-age}\n  fraction: {value: 0.1}\n", "method image needs a backbone"),
        (GOOD, "parameter fraction = None: Field required"),
    ],
)  # fmt: skip
def test_bad_configurations_fail_naming_the_parameter(
    tmp_path: Path, tasks: dict, parameters: str, message: str
) -> None:
    path = write(tmp_path, "method: grid\nparameters:\n" + parameters)
    with pytest.raises(SweepError, match=message):
        expand(load_spec(path), tasks)


def test_local_runs_need_grid_or_a_capped_random_search(tmp_path: Path, tasks: dict) -> None:
    body = "parameters:\n" + GOOD + "  fraction: {values: [0.1, 0.5]}\n"
    bayes = load_spec(write(tmp_path, "method: bayes\nmetric: {name: auc/final/mean}\n" + body))
    with pytest.raises(SweepError, match="method bayes needs a W&B server"):
        suggestions(bayes)
    uncapped = load_spec(write(tmp_path, "method: random\n" + body, "random.yaml"))
    with pytest.raises(SweepError, match="never ends on its own") as raised:
        suggestions(uncapped)
    assert "set run_cap" in raised.value.one_line()


def test_a_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="cannot read sweep spec"):
        load_spec(tmp_path / "missing.yaml")


def test_heads_are_checked_against_the_head_catalogue(tmp_path: Path, tasks: dict) -> None:
    path = write(tmp_path, "method: grid\nparameters:\n" + GOOD + "  fraction: {value: 0.1}\n"
                 "  head: {values: [attention, max-lp]}\n")  # fmt: skip
    with pytest.raises(SweepError, match="parameter head = 'max-lp': unknown head 'max-lp'"):
        expand(load_spec(path), tasks)
    with max_pool_head():
        configs = expand(load_spec(path), tasks)
    assert [(config.head, config.lr) for config in configs] == [
        ("attention", 1e-4),
        ("max-lp", 1e-3),
    ]
