"""A spec's grid points the results store lacks, as a W&B sweep of just those.

W&B grid sweeps do not reliably hand out a crashed or cancelled run again, so ``sweep register
SPEC --missing`` registers a second sweep over the configurations with no stored run. A stored
run counts for a configuration when its resolved config is the same and it trained on the task
data this machine has (its digest; a task not built here matches on the config alone). The
sweep is a grid over one parameter, ``point``, whose values are whole configurations: W&B's
grids are products, and the missing points are not.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from radsweep.results.store import ResultsStore
from radsweep.runs.config import RunConfig
from radsweep.sweeps.runset import local_digests
from radsweep.sweeps.spec import POINT, SweepSpec


def _stored(store_path: Path) -> pd.DataFrame:
    if not store_path.is_file():
        return pd.DataFrame(columns=["config", "meta"])
    return ResultsStore.open_existing(store_path).runs()


def missing_configurations(
    configs: Sequence[RunConfig], store_path: Path, data_dir: Path
) -> list[RunConfig]:
    """The configurations (resolved, as ``load_and_expand`` gives them) with no stored run."""
    digests = local_digests((config.task for config in configs), data_dir)
    held: dict[str, set[str | None]] = {}
    for text, meta in _stored(store_path)[["config", "meta"]].itertuples(index=False):
        held.setdefault(str(text), set()).add(json.loads(meta or "{}").get("task_digest"))
    missing = []
    for config in configs:
        found = held.get(config.canonical())
        local = digests.get(config.task)
        if found is None or (local is not None and local not in found):
            missing.append(config)
    return missing


def missing_spec(spec: SweepSpec, missing: Sequence[RunConfig]) -> SweepSpec:
    """``spec`` as a grid over the ``missing`` configurations only (same name, metric, program
    and command, so its runs join the spec's group)."""
    kept = {
        key: value
        for key, value in spec.config.items()
        if key not in ("parameters", "method", "run_cap", "name")
    }
    points = [config.model_dump(mode="json") for config in missing]
    config = {**kept, "method": "grid", "parameters": {POINT: {"values": points}}}
    return replace(spec, config=config)


@dataclass(frozen=True)
class MissingSweep:
    """What ``--missing`` registers: the spec cut to ``configs``, of ``total`` in the spec."""

    spec: SweepSpec
    configs: list[RunConfig]
    total: int


def missing_sweep(
    spec: SweepSpec, configs: Sequence[RunConfig], store_path: Path, data_dir: Path
) -> MissingSweep:
    """The sweep over the configurations of ``spec`` the store lacks (none: nothing to run)."""
    left = missing_configurations(configs, store_path, data_dir)
    return MissingSweep(missing_spec(spec, left), left, len(configs))
