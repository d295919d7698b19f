"""The embedded default job: synthetic benchmark, features, a local sweep, the HTML report.

The demo sweep (``radsweep/sweeps/demo.yaml``) is an ordinary spec; this module adds what turns
it into a one-command tour: features extracted up front (one progress bar, not one per worker),
the run keys of exactly this benchmark's runs (a store may hold other runs), the study's two
findings read off those runs, and a report redrawn only when the runs behind it changed.
"""

import hashlib
import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from radsweep.atomic import write_text_atomic
from radsweep.results.frames import ResultFrames
from radsweep.results.store import ResultsStore
from radsweep.runs.config import RunConfig, run_key
from radsweep.runs.execute import RunHooks, prepare
from radsweep.settings import Settings
from radsweep.stats import Interval, t_interval
from radsweep.sweeps.spec import expand, load_spec, task_specs
from radsweep.training import Method

DEMO_SPEC = Path(str(files("radsweep.sweeps") / "demo.yaml"))
FINGERPRINT_FILE = "runs.json"  # beside report.html: the run keys it was drawn from


@dataclass(frozen=True)
class Finding:
    """One task and training fraction: image-only, teacher and students, gains paired by seed."""

    task: str
    fraction: float
    image: float
    teacher: float
    distill: float
    self_distill: float
    distill_gain: Interval
    self_distill_gain: Interval


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
    """Per task and fraction, the final-epoch AUC of each arm and the students' paired gains."""
    rows = frames.seed_metrics
    result = []
    for (task, fraction), group in rows.groupby(["task", "fraction"], sort=True):
        arms = {
            "image": _per_seed(group, "image", "model"),
            "teacher": _per_seed(group, "distill", "teacher"),
            "distill": _per_seed(group, "distill", "model"),
            "self-distill": _per_seed(group, "self-distill", "model"),
        }
        if any(arm.empty for arm in arms.values()):
            continue
        result.append(
            Finding(
                task=str(task),
                fraction=float(fraction),
                image=float(arms["image"].mean()),
                teacher=float(arms["teacher"].mean()),
                distill=float(arms["distill"].mean()),
                self_distill=float(arms["self-distill"].mean()),
                distill_gain=_gain(arms["distill"], arms["image"]),
                self_distill_gain=_gain(arms["self-distill"], arms["image"]),
            )
        )
    return result


def verdicts(found: list[Finding]) -> list[str]:
    """One line per task: where distillation beats image-only (95 % interval above zero), and
    what self-distillation, which sees no report, gains at the same sizes."""
    lines = []
    for task in dict.fromkeys(finding.task for finding in found):
        rows = [finding for finding in found if finding.task == task]
        helped = [f"{row.fraction:g}" for row in rows if row.distill_gain.low > 0]
        best = max(rows, key=lambda row: row.distill_gain.mean)
        self_gain = max(row.self_distill_gain.mean for row in rows)
        if helped:
            verdict = f"distillation beats image-only at fraction {', '.join(helped)}"
        else:
            verdict = "distillation beats image-only at no fraction"
        lines.append(
            f"{task}: {verdict} (best gain {best.distill_gain.mean:+.3f} at "
            f"{best.fraction:g}); self-distillation's best gain {self_gain:+.3f}"
        )
    return lines


def _per_seed(rows: pd.DataFrame, method: str, stage: str) -> pd.Series:
    chosen = rows[(rows["method"] == method) & (rows["stage"] == stage)]
    return chosen.drop_duplicates("seed").set_index("seed")["final_auc"]


def _gain(student: pd.Series, baseline: pd.Series) -> Interval:
    paired = (student - baseline).dropna()
    return t_interval(np.asarray(paired), 0.95)


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
