"""Sweep specs: W&B sweep configurations in YAML, validated and expanded into run configurations.

A spec is a plain W&B sweep configuration whose parameters are ``RunConfig`` fields, so W&B accepts
it unchanged (``radsweep sweep register``) and the local runner visits the same configurations:
W&B's own suggestion engine (the ``sweeps`` package) checks the schema and expands grid and random
searches. Every configuration is then checked against its task, the encoder registry and the head
catalogue, so a bad spec fails at once, naming the file and the parameter, instead of failing run
by run later.
"""

import random
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from pydantic import ValidationError

from radsweep.encoders import EncoderKind, list_encoders
from radsweep.errors import SweepError, did_you_mean
from radsweep.runs.config import RunConfig
from radsweep.sweeps.packaged import packaged_specs, queue_name, resolve_spec, spec_label
from radsweep.tasks.registry import all_tasks
from radsweep.tasks.spec import TaskSpec
from radsweep.training.registry import head_spec

with warnings.catch_warnings():
    # sweeps 0.2 declares pydantic-v1 model options; pydantic v2 warns about them on import.
    warnings.simplefilter("ignore")
    import sweeps

LOCAL_METHODS = ("grid", "random")
POINT = "point"
"""The one parameter of a sweep over chosen configurations (``sweep register --missing``): each
value is a whole configuration, unpacked into RunConfig fields when a run starts."""
RANDOM_SEED = 0
UPLOAD_HEADS = "upload_heads"
"""radsweep's own spec key beside W&B's: a run's parameter too, never a RunConfig field."""
"""Seed of the random search's draws: the same spec always gives the same configurations."""


@dataclass(frozen=True)
class SweepSpec:
    """One spec file: its W&B sweep configuration exactly as written."""

    path: Path
    config: dict[str, Any]

    @property
    def name(self) -> str:
        """The file's stem: the W&B group of the spec's runs, its name in progress and tables."""
        return self.path.stem

    @property
    def queue_name(self) -> str:
        """The spec's name in the local queue: its stem and a digest of where the file is."""
        return queue_name(self.path)

    @property
    def method(self) -> str:
        return str(self.config["method"])

    @property
    def run_cap(self) -> int | None:
        return self.config.get("run_cap")

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return self.config["parameters"]

    @property
    def upload_heads(self) -> bool:
        """Whether the spec's runs upload their trained heads to W&B (``upload_heads: true``)."""
        return bool(self.config.get(UPLOAD_HEADS, False))

    def wandb_config(self) -> dict[str, Any]:
        """The configuration W&B's server takes: ``upload_heads`` (no W&B key) travels as a
        constant parameter, so every agent's run receives it with its parameters."""
        config = {key: value for key, value in self.config.items() if key != UPLOAD_HEADS}
        if self.upload_heads:
            config["parameters"] = {**self.parameters, UPLOAD_HEADS: {"value": True}}
        return config


def load_spec(spec: str | Path) -> SweepSpec:
    """Read a spec (a path, or a packaged spec's name) and check it against W&B's sweep-config
    schema and ``RunConfig``'s fields."""
    path = resolve_spec(spec)
    try:
        text = path.read_text()
    except OSError as error:
        raise SweepError(
            f"cannot read sweep spec {spec}: {error.strerror}",
            hint=f"{did_you_mean(Path(spec).stem, packaged_specs())}pass a spec file, or a name "
            "from `radsweep sweep specs`",
        ) from error
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "not YAML"
        raise SweepError(f"{spec_label(path)}: invalid YAML{where}: {problem}") from error
    if not isinstance(config, dict):
        raise SweepError(
            f"{spec_label(path)}: a sweep spec is a YAML mapping (method, metric, parameters)"
        )
    _check_schema(path, config)
    _check_parameter_names(path, config["parameters"])
    return SweepSpec(path, config)


def _check_schema(path: Path, config: dict[str, Any]) -> None:
    """W&B's schema, as the ``sweeps`` package ships it; ``run_cap`` is checked here.

    sweeps 0.2's schema predates ``run_cap`` (the W&B server accepts it), so it is set aside for
    the schema check and validated on its own, as is radsweep's ``upload_heads``.
    """
    run_cap = config.get("run_cap")
    if run_cap is not None and (isinstance(run_cap, bool) or not isinstance(run_cap, int)):
        raise SweepError(f"{spec_label(path)}: run_cap must be a positive integer, got {run_cap!r}")
    if run_cap is not None and run_cap < 1:
        raise SweepError(f"{spec_label(path)}: run_cap must be a positive integer, got {run_cap}")
    if not isinstance(config.get(UPLOAD_HEADS, False), bool):
        raise SweepError(f"{spec_label(path)}: {UPLOAD_HEADS} must be true or false")
    checked = {key: value for key, value in config.items() if key not in ("run_cap", UPLOAD_HEADS)}
    try:
        violations = sweeps.schema_violations_from_proposed_config(checked)
    except (ValueError, jsonschema.ValidationError) as error:
        violations = [str(error)]
    if violations:
        problem = " ".join(" ".join(violations).split())
        raise SweepError(
            f"{spec_label(path)}: not a valid W&B sweep configuration: {problem}",
            hint="see docs.wandb.ai sweep configuration; parameters need value or values",
        )


def _check_parameter_names(path: Path, parameters: Mapping[str, Any]) -> None:
    fields = RunConfig.model_fields
    for name in parameters:
        if name not in fields:
            raise SweepError(
                f"{spec_label(path)}: unknown parameter {name!r}",
                hint=f"{did_you_mean(name, fields)}parameters are RunConfig fields: "
                f"{', '.join(fields)}",
            )


def suggestions(spec: SweepSpec) -> list[dict[str, Any]]:
    """The parameter sets a W&B controller would hand out, in its order, capped by ``run_cap``.

    Grid: every combination (W&B's grid rules: int_uniform includes max, q_uniform excludes it).
    Random: ``run_cap`` draws with a fixed seed. ``run_cap`` is enforced here because the engine
    leaves it to the server.
    """
    if spec.method not in LOCAL_METHODS:
        raise SweepError(
            f"{spec_label(spec.path)}: method {spec.method} needs a W&B server to run",
            hint="register it (radsweep sweep register) or use method grid or random locally",
        )
    if spec.method == "random" and spec.run_cap is None:
        raise SweepError(
            f"{spec_label(spec.path)}: a random search never ends on its own",
            hint="set run_cap to the number of configurations to draw",
        )
    count = spec.run_cap or sys.maxsize
    state = random.getstate()
    random.seed(RANDOM_SEED)  # the engine samples with the random module
    try:
        runs = sweeps.next_runs(spec.config, [], validate=False, n=count)
    except ValueError as error:
        raise SweepError(f"{spec_label(spec.path)}: {' '.join(str(error).split())}") from error
    finally:
        random.setstate(state)
    return [
        {name: value["value"] for name, value in run.config.items()}
        for run in runs
        if run is not None
    ]


def expand(spec: SweepSpec, tasks: Mapping[str, TaskSpec]) -> list[RunConfig]:
    """The spec's distinct configurations, each checked and resolved against its task.

    Resolving nulls the settings a method does not read (τ for image-only runs, say), so points
    that differ only there collapse into one configuration.
    """
    configs: dict[str, RunConfig] = {}
    for point in suggestions(spec):
        config = _check_point(spec.path, point, tasks)
        configs.setdefault(config.canonical(), config)
    return list(configs.values())


def point_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """A run's parameters as RunConfig fields: a ``point`` parameter's configuration unpacked."""
    fields = {name: value for name, value in values.items() if name != POINT}
    point = values.get(POINT)
    return {**point, **fields} if isinstance(point, dict) else fields


def _check_point(path: Path, point: dict[str, Any], tasks: Mapping[str, TaskSpec]) -> RunConfig:
    point = point_fields(point)
    try:
        config = RunConfig.model_validate(point)
    except ValidationError as error:
        raise SweepError(f"{spec_label(path)}: {_point_problem(error, point)}") from error
    task = tasks.get(config.task)
    if task is None:
        raise SweepError(
            f"{spec_label(path)}: parameter task = {config.task!r}: unknown task",
            hint=f"{did_you_mean(config.task, tasks)}known tasks: {', '.join(sorted(tasks))}",
        )
    _check_encoders(path, config)
    return config.resolve(task)


def _point_problem(error: ValidationError, point: dict[str, Any]) -> str:
    first = error.errors()[0]
    message = first["msg"].removeprefix("Value error, ")
    if first["loc"]:
        name = str(first["loc"][0])
        return f"parameter {name} = {point.get(name)!r}: {message}"
    shown = ", ".join(f"{key}={value}" for key, value in sorted(point.items()) if key != "seeds")
    return f"configuration ({shown}): {message}"


def _check_encoders(path: Path, config: RunConfig) -> None:
    images = {info.name: info for info in list_encoders(EncoderKind.IMAGE)}
    texts = {info.name for info in list_encoders(EncoderKind.TEXT)}
    if config.method.needs_image and config.backbone not in images:
        raise SweepError(
            f"{spec_label(path)}: parameter backbone = {config.backbone!r}: unknown image encoder",
            hint=f"{did_you_mean(config.backbone or '', images)}choose from: {', '.join(images)}",
        )
    if config.method.needs_text and config.text_encoder not in texts:
        raise SweepError(
            f"{spec_label(path)}: parameter text_encoder = {config.text_encoder!r}: "
            "unknown text encoder",
            hint=f"{did_you_mean(config.text_encoder or '', texts)}choose from: "
            f"{', '.join(sorted(texts))}",
        )
    backbone = images.get(config.backbone or "")
    head = head_spec(config.head)
    if head.reads_cls and backbone is not None and not backbone.has_cls:
        with_cls = ", ".join(name for name, info in images.items() if info.has_cls)
        raise SweepError(
            f"{spec_label(path)}: head {head.name} needs a CLS token, which backbone "
            f"{backbone.name} lacks",
            hint=f"backbones with one: {with_cls}",
        )


def task_specs(data_dir: Path) -> dict[str, TaskSpec]:
    """Every task a spec may name: the catalogue's, the synthetic ones, and built user tasks."""
    return {entry.spec.name: entry.spec for entry in all_tasks(data_dir)}


@dataclass(frozen=True)
class SpecSummary:
    """One shipped spec as ``sweep specs`` lists it."""

    name: str
    path: Path
    runs: int  # distinct configurations it expands to
    description: str


def packaged_summaries(data_dir: Path) -> list[SpecSummary]:
    """Every spec shipped with the package, with its run count against the tasks known here."""
    tasks = task_specs(data_dir)
    summaries = []
    for name, path in packaged_specs().items():
        spec = load_spec(path)
        description = str(spec.config.get("description", ""))
        summaries.append(SpecSummary(name, path, len(expand(spec, tasks)), description))
    return summaries


def load_and_expand(spec: str | Path, data_dir: Path) -> tuple[SweepSpec, list[RunConfig]]:
    """A spec (path or packaged name) and its distinct configurations against the known tasks."""
    loaded = load_spec(spec)
    return loaded, expand(loaded, task_specs(data_dir))
