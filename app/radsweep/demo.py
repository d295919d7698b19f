"""The embedded default job: synthetic benchmark, features, a local sweep, the HTML report.

The demo sweep (``sweeps/demo.yaml``, packaged as the spec ``demo``) is an ordinary spec; this
module adds what turns it into a one-command tour (``run_demo``): features extracted up front (one
progress bar, not one per worker), the run keys of exactly this benchmark's runs (a store may hold
other runs), the paired findings read off those runs (``radsweep.results.findings``, as the
report's opening section), and a report redrawn only when the runs behind it changed. A second
demo reuses the benchmark, every cache, every run and the report.

Replication is built in: besides the default benchmark (generator seed 0) the demo draws
``DRAWS - 1`` more benchmarks with other generator seeds (same sizes and knobs; their tasks are
``synth-prognostic.draw1`` and so on) and runs the spec's prognostic comparison (the one the demo
claims a gain on) at its smallest fraction on each. The findings pool the draws
(``replicated_findings``): "the report helped" needs the control to exclude zero on every draw,
and says on how many it did.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from radsweep.atomic import write_text_atomic
from radsweep.errors import SweepError
from radsweep.features.service import TaskProgress
from radsweep.reports.build import make_report
from radsweep.results.findings import Finding, paired_findings, replicated_findings
from radsweep.results.frames import ResultFrames
from radsweep.results.runset import frames_of
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import RunConfig, run_key
from radsweep.runs.execute import RunHooks, prepare
from radsweep.settings import Settings
from radsweep.sweeps.local import Counts, Interrupted, run_local
from radsweep.sweeps.packaged import packaged_folder
from radsweep.sweeps.queue import JobState, queue_path
from radsweep.sweeps.spec import expand, load_spec, task_specs
from radsweep.tasks.spec import TaskKind
from radsweep.tasks.synthetic import SynthConfig, synthesize
from radsweep.tracking.folders import sync_hint
from radsweep.training import Method

DEMO_SPEC = packaged_folder() / "demo.yaml"
FINGERPRINT_FILE = "runs.json"  # beside report.html: the run keys it was drawn from
DRAWS = 2  # benchmark draws (generator seeds 0 .. DRAWS - 1); docs/synthetic.md says why


def draw_suffix(draw: int) -> str:
    """The task-name suffix of benchmark draw ``draw`` (none for the default benchmark)."""
    return f".draw{draw}" if draw else ""


def draw_directory(settings: Settings, draw: int) -> Path:
    """Where draw ``draw`` is built: the default benchmark's folder, or one beside it."""
    return (
        settings.synthetic
        if draw == 0
        else settings.synthetic.with_name(f"{settings.synthetic.name}{draw_suffix(draw)}")
    )


def demo_configs(settings: Settings, draws: int = DRAWS) -> list[RunConfig]:
    """The demo spec's configurations (the synthetic tasks must be built under DATA), then the
    prognostic comparison at the spec's smallest fraction on every other benchmark draw."""
    tasks = task_specs(settings.data)
    configs = expand(load_spec(DEMO_SPEC), tasks)
    smallest = min(config.fraction for config in configs)
    replicated = [
        config
        for config in configs
        if config.fraction == smallest and tasks[config.task].kind is TaskKind.PROGNOSTIC
    ]
    for draw in range(1, draws):
        for config in replicated:
            task = tasks[config.task + draw_suffix(draw)]
            configs.append(config.model_copy(update={"task": task.name}).resolve(task))
    return configs


def extract_features(
    configs: list[RunConfig], settings: Settings, hooks: RunHooks | None = None
) -> dict[str, list[str]]:
    """Extract every task's image and text features once; the cache keys per task."""
    keys: dict[str, list[str]] = {}
    for config in configs:
        if config.task not in keys and config.method is Method.DISTILL:  # reads image and text
            keys[config.task] = prepare(config, settings, hooks=hooks or RunHooks()).cache_keys
    return keys


def run_keys(
    configs: list[RunConfig], cache_keys: dict[str, list[str]], settings: Settings
) -> list[str]:
    """The results-store keys of ``configs`` on the features extracted for them."""
    tasks = task_specs(settings.data)
    keys = []
    for config in configs:
        resolved = config.resolve(tasks[config.task])
        image_key, *text_key = cache_keys[config.task]  # prepare() lists the image cache first
        used = [image_key, *text_key] if resolved.text_encoder else [image_key]
        keys.append(run_key(resolved, used))
    return keys


def stored(store_path: Path, keys: list[str]) -> bool:
    """Whether every one of ``keys`` is already in the results store at ``store_path``."""
    if not store_path.is_file():
        return False
    store = ResultsStore(store_path)
    return all(store.has(key) for key in keys)


def demo_frames(store: ResultsStore, keys: list[str]) -> ResultFrames:
    """The store's tables cut down to the demo's runs."""
    frames = ResultFrames.from_store(store)
    return frames_of(frames, keys, f"{frames.source} (the demo's {len(set(keys))} runs)")


def findings(frames: ResultFrames) -> list[Finding]:
    """The demo's paired findings (the report's opening section's definition), each benchmark
    draw of a task pooled into one finding with the draws as replicates."""
    return replicated_findings(paired_findings(frames.seed_metrics))


def report_is_current(out: Path, keys: list[str]) -> bool:
    """Whether ``out`` holds a report drawn from exactly these runs."""
    fingerprint = out / FINGERPRINT_FILE
    return (
        (out / "report.html").is_file()
        and fingerprint.is_file()
        and json.loads(fingerprint.read_text()) == _fingerprint(keys)
    )


def write_fingerprint(out: Path, keys: list[str]) -> None:
    write_text_atomic(out / FINGERPRINT_FILE, json.dumps(_fingerprint(keys)))


def _fingerprint(keys: list[str]) -> dict[str, object]:
    digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()
    return {"runs": len(keys), "sha256": digest}


@dataclass(frozen=True)
class DemoHooks:
    """What the demo reports while it runs (the CLI draws bars and prints notes with these)."""

    note: Callable[[str], None] = lambda line: None
    drawing: Callable[[int, int], None] | None = None  # (images drawn so far, images in all)
    extraction: TaskProgress | None = None
    runs: Callable[[Counts], None] | None = None


@dataclass(frozen=True)
class DemoResult:
    """Where the report is, and the paired findings it opens with."""

    report: Path
    findings: list[Finding]
    runs: int
    trained: bool  # False: every run was already in the results store


def _build(settings: Settings, samples: int, draws: int, hooks: DemoHooks) -> None:
    done = 0

    def drawn(count: int) -> None:
        nonlocal done
        done += count
        if hooks.drawing is not None:
            hooks.drawing(done, samples * draws)

    for draw in range(draws):
        config, where = SynthConfig(samples=samples, seed=draw), draw_directory(settings, draw)
        benchmark = synthesize(config, where, False, drawn, suffix=draw_suffix(draw))
        verb = "reused" if benchmark.reused else "built"
        name = "synthetic benchmark" if draw == 0 else f"benchmark draw {draw}"
        hooks.note(f"{verb} {name} ({samples} samples) in {where}")


def _train(configs: list[RunConfig], settings: Settings, workers: int, hooks: DemoHooks) -> None:
    """The demo sweep through the local queue, W&B offline, as ``radsweep sweep local`` runs it."""
    spec = load_spec(DEMO_SPEC)
    path = queue_path(settings.results)
    hooks.note(f"{spec.name}: {len(configs)} configurations, {workers} worker(s), queue {path}")
    try:
        counts = run_local(
            spec.queue_name,
            configs,
            settings,
            workers=workers,
            on_progress=hooks.runs,
            group=spec.name,
        )
    except Interrupted:  # SIGTERM: the jobs are back in line, as after Ctrl-C
        raise KeyboardInterrupt from None
    if counts[JobState.FAILED]:
        raise SweepError(
            f"{counts[JobState.FAILED]} of the demo's {len(configs)} runs failed",
            hint=f"`radsweep sweep status {spec.name}` shows why; "
            f"`radsweep sweep local {spec.name} --retry-failed` runs them again",
        )
    hooks.note(sync_hint(settings.wandb))


def _draw(store: ResultsStore, keys: list[str], out: Path, hooks: DemoHooks) -> list[Finding]:
    frames = demo_frames(store, keys)
    if report_is_current(out, keys):
        hooks.note(f"report unchanged: the same {len(keys)} runs")
    else:
        hooks.note(f"drawing the report from {len(keys)} runs")
        make_report(frames, out)
        write_fingerprint(out, keys)
    return findings(frames)


def run_demo(
    settings: Settings,
    *,
    samples: int = SynthConfig().samples,
    workers: int = 2,
    out: Path | None = None,
    hooks: DemoHooks = DemoHooks(),
    draws: int = DRAWS,
) -> DemoResult:
    """Build the benchmark draws, extract their features, train the demo sweep (and the
    comparison on every other draw), draw the report."""
    _build(settings, samples, draws, hooks)
    configs = demo_configs(settings, draws)
    cache_keys = extract_features(configs, settings, RunHooks(extraction=hooks.extraction))
    keys = run_keys(configs, cache_keys, settings)
    store_path = default_store_path(settings)
    trained = not stored(store_path, keys)
    if trained:
        _train(configs, settings, workers, hooks)
    else:
        hooks.note(f"all {len(keys)} runs of the demo sweep are stored: nothing to train")
    out = out or settings.results / "demo-report"
    found = _draw(ResultsStore.open_existing(store_path), keys, out, hooks)
    return DemoResult(out / "report.html", found, len(keys), trained)
