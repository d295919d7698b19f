"""The embedded default job: synthetic benchmark, features, a local sweep, the HTML report.

The demo sweep (``sweeps/demo.yaml``, packaged as the spec ``demo``) is an ordinary spec; this
module adds what turns it into a one-command tour (``run_demo``): features extracted up front (one
progress bar, not one per worker), the run keys of exactly this benchmark's runs (a store may hold
other runs), the paired findings read off those runs (``radsweep.results.findings``, as the
report's opening section), and a report redrawn only when the runs behind it changed. A second
demo reuses the benchmark, every cache, every run and the report.
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
from radsweep.results.findings import Finding, paired_findings
from radsweep.results.frames import ResultFrames
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs.config import RunConfig, run_key
from radsweep.runs.execute import RunHooks, prepare
from radsweep.settings import Settings
from radsweep.sweeps.local import Counts, Interrupted, run_local
from radsweep.sweeps.packaged import packaged_folder
from radsweep.sweeps.queue import JobState, queue_path
from radsweep.sweeps.spec import expand, load_spec, task_specs
from radsweep.tasks.synthetic import SynthConfig, synthesize
from radsweep.tracking.folders import sync_hint
from radsweep.training import Method

DEMO_SPEC = packaged_folder() / "demo.yaml"
FINGERPRINT_FILE = "runs.json"  # beside report.html: the run keys it was drawn from


def demo_configs(settings: Settings) -> list[RunConfig]:
    """The demo spec's configurations (the synthetic tasks must be built under DATA)."""
    return expand(load_spec(DEMO_SPEC), task_specs(settings.data))


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
    wanted = set(keys)
    return ResultFrames(
        runs=frames.runs[frames.runs["run_key"].isin(wanted)],
        seed_metrics=frames.seed_metrics[frames.seed_metrics["run_key"].isin(wanted)],
        curves=frames.curves[frames.curves["run_key"].isin(wanted)],
        source=f"{frames.source} (the demo's {len(wanted)} runs)",
    )


def findings(frames: ResultFrames) -> list[Finding]:
    """The demo's paired findings: the same definition the report's opening section uses."""
    return paired_findings(frames.seed_metrics)


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


def _build(settings: Settings, samples: int, hooks: DemoHooks) -> None:
    done = 0

    def drawn(count: int) -> None:
        nonlocal done
        done += count
        if hooks.drawing is not None:
            hooks.drawing(done, samples)

    benchmark = synthesize(SynthConfig(samples=samples), settings.synthetic, False, drawn)
    verb = "reused" if benchmark.reused else "built"
    hooks.note(f"{verb} synthetic benchmark ({samples} samples) in {settings.synthetic}")


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
) -> DemoResult:
    """Build the benchmark, extract its features, train the demo sweep, draw the report."""
    _build(settings, samples, hooks)
    configs = demo_configs(settings)
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
