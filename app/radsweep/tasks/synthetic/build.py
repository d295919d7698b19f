"""Build the synthetic benchmark on disk: images, then one manifest per task, like any builder.

The build is staged in a hidden sibling folder and moved into place only when complete, so an
interrupted build leaves nothing half-written; a finished build with the same knobs is reused.
"""

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from radsweep import __version__
from radsweep.atomic import write_text_atomic
from radsweep.errors import RadsweepError
from radsweep.tasks.catalogue import AGE_BIN_EDGES
from radsweep.tasks.manifest import Manifest, TaskFile
from radsweep.tasks.splits import keyed_uniform
from radsweep.tasks.synthetic.cohort import FINDINGS, Study, sample_cohort
from radsweep.tasks.synthetic.config import SynthConfig
from radsweep.tasks.synthetic.radiograph import draw_radiograph
from radsweep.tasks.synthetic.reports import extract_finding, write_report
from radsweep.tasks.synthetic.tasks import AGE, DIAGNOSTIC, PROGNOSTIC

MARKER = "synthetic.json"
IMAGES = "images"


@dataclass(frozen=True)
class SynthBenchmark:
    """A built benchmark: its folder, knobs, and whether this call reused an earlier build."""

    directory: Path
    config: SynthConfig
    reused: bool
    suffix: str = ""

    def manifest(self, task_name: str) -> Manifest:
        return Manifest.load(self.directory / task_name)

    @property
    def task_names(self) -> tuple[str, ...]:
        return tuple(task.name + self.suffix for task in (DIAGNOSTIC, PROGNOSTIC, AGE))


def _read_marker(directory: Path) -> tuple[SynthConfig, str] | None:
    marker = directory / MARKER
    if not marker.is_file():
        return None
    written = json.loads(marker.read_text())
    return SynthConfig.model_validate(written["config"]), written.get("suffix", "")


def _common_columns(studies: list[Study], reports: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sample_id": [study.sample_id for study in studies],
            "image_path": [f"{IMAGES}/{study.sample_id}.png" for study in studies],
            "report": reports,
            "patient_id": [study.patient_id for study in studies],
            # Metadata: the latent truth behind each study, for analysis only.
            "age_years": [round(study.age, 2) for study in studies],
            "severity": [study.severity for study in studies],
            "history": [study.history for study in studies],
            "finding_drawn": [FINDINGS[study.finding] for study in studies],
        }
    )


def _task_frames(
    studies: list[Study], reports: list[str], config: SynthConfig
) -> dict[str, pd.DataFrame]:
    common = _common_columns(studies, reports)
    found = [extract_finding(report) for report in reports]
    diagnostic_labels = [label for label in found if label is not None]
    if len(diagnostic_labels) != len(found):
        raise AssertionError("the labeler missed a finding the report generator wrote")
    patients = common["patient_id"].drop_duplicates()
    is_eval = keyed_uniform(f"synth-pool\x1f{config.seed}", patients) < config.eval_share
    eval_patients = set(patients[is_eval])
    age_bins = np.searchsorted(np.array(AGE_BIN_EDGES), common["age_years"], side="right")
    return {
        DIAGNOSTIC.name: common.assign(
            label=diagnostic_labels,
            pool=np.where(common["patient_id"].isin(eval_patients), "eval", "train"),
        ),
        PROGNOSTIC.name: common.assign(label=[study.outcome for study in studies]),
        AGE.name: common.assign(label=age_bins),
    }


def _write_images(
    studies: list[Study], config: SynthConfig, folder: Path, progress: Callable[[int], None]
) -> None:
    folder.mkdir(parents=True)
    for study in studies:
        if not cv2.imwrite(str(folder / f"{study.sample_id}.png"), draw_radiograph(study, config)):
            raise RadsweepError(f"could not write images to {folder}", hint="check disk space")
        progress(1)


def _build(
    config: SynthConfig, staging: Path, progress: Callable[[int], None], suffix: str
) -> None:
    studies = sample_cohort(config)
    _write_images(studies, config, staging / IMAGES, progress)
    reports = [write_report(study, config) for study in studies]
    builder = {"name": "synthetic", "radsweep": __version__, "config": config.model_dump()}
    frames = _task_frames(studies, reports, config)
    for task in (DIAGNOSTIC, PROGNOSTIC, AGE):
        named = task.model_copy(update={"name": task.name + suffix})
        info = TaskFile(task=named, image_root="..", builder=builder)
        Manifest.write(staging / named.name, frames[task.name], info)
    marker = {"config": config.model_dump(), "digest": config.digest(), "suffix": suffix}
    write_text_atomic(staging / MARKER, json.dumps(marker))


def synthesize(
    config: SynthConfig,
    directory: Path,
    force: bool = False,
    progress: Callable[[int], None] = lambda done: None,
    suffix: str = "",
) -> SynthBenchmark:
    """Build the benchmark in ``directory`` (reusing an identical finished build unless ``force``).

    ``progress`` is called with the number of images just written. ``suffix`` is appended to the
    task names, so that other draws of the benchmark (other generator seeds) are tasks of their
    own beside the default one (the demo's replicates: ``synth-prognostic.draw1``).
    """
    existing = _read_marker(directory)
    if existing == (config, suffix) and not force:
        return SynthBenchmark(directory, config, reused=True, suffix=suffix)
    if directory.exists() and existing is None and any(directory.iterdir()):
        raise RadsweepError(
            f"{directory} exists and is not a synthetic benchmark",
            hint="choose an empty or new folder with --out",
        )
    staging = directory.with_name(f".{directory.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _build(config, staging, progress, suffix)
        shutil.rmtree(directory, ignore_errors=True)
        staging.rename(directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SynthBenchmark(directory, config, reused=False, suffix=suffix)
