"""The embedded default job: synthetic benchmark, features, a local sweep, the HTML report.

The demo sweep (``sweeps/demo.yaml``, packaged as the spec ``demo``) is an ordinary spec; this
module adds what turns it into a one-command tour: features extracted up front (one progress bar,
not one per worker), the run keys of exactly this benchmark's runs (a store may hold other runs),
the paired findings read off those runs (``radsweep.results.findings``, as the report's opening
section), and a report redrawn only when the runs behind it changed.
"""

import hashlib
import json
from pathlib import Path

from radsweep.atomic import write_text_atomic
from radsweep.results.findings import Finding, paired_findings
from radsweep.results.frames import ResultFrames
from radsweep.results.store import ResultsStore
from radsweep.runs.config import RunConfig, run_key
from radsweep.runs.execute import RunHooks, prepare
from radsweep.settings import Settings
from radsweep.sweeps.packaged import packaged_folder
from radsweep.sweeps.spec import expand, load_spec, task_specs
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
