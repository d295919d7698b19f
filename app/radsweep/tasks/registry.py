"""Every task radsweep can run: the study's catalogue plus task directories found on disk."""

from dataclasses import dataclass
from pathlib import Path

from radsweep.errors import ManifestError, RadsweepError, did_you_mean
from radsweep.tasks.catalogue import IU_XRAY_TASKS, STUDY_TASKS
from radsweep.tasks.spec import TaskSpec
from radsweep.tasks.synthetic.tasks import SYNTHETIC_TASKS
from radsweep.tasks.taskfile import TASK_FILE, read_task_file

KNOWN_TASKS: dict[str, TaskSpec] = {**STUDY_TASKS, **IU_XRAY_TASKS, **SYNTHETIC_TASKS}
"""Tasks defined in code: the study's six, the public IU X-ray tasks and the synthetic three."""

_SEARCH_DEPTH = 3


@dataclass(frozen=True)
class TaskEntry:
    """A task definition and, when its manifest has been built, the directory holding it."""

    spec: TaskSpec
    directory: Path | None


def _task_files(data_dir: Path) -> list[Path]:
    if not data_dir.is_dir():
        return []
    depths = range(_SEARCH_DEPTH)
    return [p for d in depths for p in sorted(data_dir.glob("/".join(["*"] * d + [TASK_FILE])))]


def discover(data_dir: Path) -> list[TaskEntry]:
    """Task directories (those with a readable task.json) up to three levels under ``data_dir``.

    One damaged task.json must not hide every other task: it is left out here and reported by
    ``unreadable_tasks``.
    """
    found = []
    for path in _task_files(data_dir):
        try:
            found.append(TaskEntry(read_task_file(path.parent).task, path.parent))
        except ManifestError:
            continue
    return found


def unreadable_tasks(data_dir: Path) -> list[ManifestError]:
    """The task.json files under ``data_dir`` that cannot be read, each as its one-line error."""
    problems = []
    for path in _task_files(data_dir):
        try:
            read_task_file(path.parent)
        except ManifestError as error:
            problems.append(error)
    return problems


def all_tasks(data_dir: Path) -> list[TaskEntry]:
    """The known tasks (with their directory when built) followed by the user's own tasks."""
    on_disk = discover(data_dir)
    built = {entry.spec.name: entry.directory for entry in on_disk}
    entries = [TaskEntry(spec, built.get(name)) for name, spec in KNOWN_TASKS.items()]
    return entries + [entry for entry in on_disk if entry.spec.name not in KNOWN_TASKS]


def find_task_directory(name_or_path: str, data_dir: Path) -> Path:
    """The directory of a built task, given its name or a path to it."""
    path = Path(name_or_path).expanduser()
    if (path / TASK_FILE).is_file():
        return path
    for entry in discover(data_dir):
        if entry.spec.name == name_or_path and entry.directory is not None:
            return entry.directory
    known = sorted({entry.spec.name for entry in all_tasks(data_dir)})
    if name_or_path not in known and (path.is_dir() or path.name != name_or_path):
        where = f"{path} has no {TASK_FILE}" if path.is_dir() else f"no folder {path}"
        raise RadsweepError(where, hint=f"start one with: radsweep data init {path}")
    if name_or_path in known:
        raise RadsweepError(
            f"task {name_or_path} has no manifest under {data_dir}",
            hint="build it first (radsweep data synth for the synthetic tasks) or pass its folder",
        )
    unreadable = unreadable_tasks(data_dir)
    skipped = f"; {len(unreadable)} unreadable: {unreadable[0]}" if unreadable else ""
    raise RadsweepError(
        f"unknown task {name_or_path!r}{skipped}",
        hint=f"{did_you_mean(name_or_path, known)}pass a task folder holding {TASK_FILE}, or one "
        f"of: {', '.join(known)}",
    )
