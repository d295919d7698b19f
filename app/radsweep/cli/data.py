"""``radsweep data``: tasks, manifests, splits and the synthetic benchmark."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from radsweep.cli.context import console, err_console, settings
from radsweep.cli.lazy import lazy_groups
from radsweep.cli.options import JsonFlag
from radsweep.cli.output import print_json
from radsweep.cli.synth import synth
from radsweep.tasks.spec import FixedPoolSplit, TaskSpec

BUILD_HELP = (
    "Build task manifests: the study's from your credentialed copies (MIMIC-CXR-JPG 2.1.0 + "
    "MIMIC-CXR 2.1.0 reports, + MIMIC-IV 3.1, and INSPECT), and the public IU X-ray tasks. "
    "Nothing leaves your machine."
)
FETCH_HELP = "Download public datasets (resumable, SHA-256 verified)."
app = typer.Typer(
    cls=lazy_groups(
        build=("radsweep.cli.build:app", BUILD_HELP),
        fetch=("radsweep.cli.iu_xray:fetch_app", FETCH_HELP),
    ),
    help="Tasks, manifests, per-seed splits and the synthetic benchmark.",
    no_args_is_help=True,
)


def _split_text(task: TaskSpec) -> str:
    if isinstance(task.split, FixedPoolSplit):
        return "fixed"
    share = task.split.validation_share * 100
    return f"{100 - share:.0f}/{share:.0f}"


def _sizes_text(task: TaskSpec) -> str:
    first, last = task.sizes[0].fraction, task.sizes[-1].fraction
    return f"{len(task.sizes)}: {first:.3g}-{last:.3g}"


@app.command("tasks")
def list_tasks(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List every task: the study's catalogue, the synthetic tasks, and task folders on disk.

    Example: radsweep data tasks --json
    """
    from radsweep.tasks.registry import all_tasks, unreadable_tasks

    data_dir = settings(ctx).data
    if as_json:
        print_json(
            [
                entry.spec.model_dump(mode="json") | {"directory": entry.directory}
                for entry in all_tasks(data_dir)
            ]
        )
        return
    table = Table(title=f"radsweep tasks (built under {data_dir})", title_justify="left")
    table.add_column("name", no_wrap=True)
    for column in ("kind", "classes", "split", "fractions", "τ", "built"):
        table.add_column(column)
    for entry in all_tasks(data_dir):
        task = entry.spec
        built = entry.directory
        if built is not None and built.is_relative_to(data_dir):
            built = built.relative_to(data_dir)
        table.add_row(
            task.name,
            task.kind.value,
            str(task.n_classes),
            _split_text(task) + (" bal." if task.balanced else ""),
            _sizes_text(task),
            f"{task.default_tau:g}",
            str(built) if built else "-",
        )
    console.print(table)
    for problem in unreadable_tasks(data_dir):
        err_console.print(f"skipped: {problem.one_line()}", markup=False, soft_wrap=True)
    console.print("Fractions, epochs and class counts per seed: radsweep data splits TASK")


@app.command("init")
def init(
    folder: Annotated[
        Path, typer.Argument(help="Folder for your task (created if missing).", metavar="DIR")
    ],
    name: Annotated[
        str | None,
        typer.Option(help="Task name (default: from the folder name).", metavar="NAME"),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing task.json with the example.")
    ] = False,
) -> None:
    """Start a task from your own data: write a complete example task.json into DIR.

    Then edit it, put the images and manifest.parquet beside it, and run radsweep data validate.

    Example: radsweep data init ~/data/my-task --name my-task
    """
    from radsweep.tasks.template import init_task_folder

    made = init_task_folder(folder, name, force)
    lines = [
        f"wrote {made.task_file}",
        "next:",
        f"  1. edit {made.task_file.name}: title, kind, classes, split, sizes (fraction, epochs)",
        f"  2. put the images under {made.images} (JPEG, PNG or DICOM)",
        f"  3. write {made.manifest}: one row per image, columns {', '.join(made.columns)}",
        "     (image_path relative to the images folder, label = class index from 0)",
        f"  4. radsweep data validate {folder}",
    ]
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


@app.command()
def validate(
    ctx: typer.Context,
    task: Annotated[str, typer.Argument(help="Task name or folder holding task.json.")],
    skip_images: Annotated[
        bool, typer.Option("--skip-images", help="Do not check that every image file exists.")
    ] = False,
) -> None:
    """Validate a task folder's manifest.parquet and task.json against the manifest contract.

    Example: radsweep data validate ~/data/my-task
    """
    from radsweep.tasks.manifest import Manifest
    from radsweep.tasks.registry import find_task_directory

    manifest = Manifest.load(find_task_directory(task, settings(ctx).data), not skip_images)
    counts = manifest.frame["label"].value_counts()
    console.print(
        f"[green]valid[/]: {manifest.task.name} — {len(manifest.frame)} samples, "
        f"{manifest.frame['patient_id'].nunique()} patients, classes "
        + ", ".join(f"{name} {counts.get(i, 0)}" for i, name in enumerate(manifest.task.classes))
    )


@app.command()
def splits(
    ctx: typer.Context,
    task: Annotated[str, typer.Argument(help="Task name or folder holding task.json.")],
    seed: Annotated[int, typer.Option(help="Split seed.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Show one seed's validation set and nested training subsets with their class counts.

    Example: radsweep data splits synth-diagnostic --seed 1
    """
    from radsweep.tasks.manifest import Manifest
    from radsweep.tasks.registry import find_task_directory
    from radsweep.tasks.splits import make_split

    manifest = Manifest.load(find_task_directory(task, settings(ctx).data), check_images=False)
    spec = manifest.task
    summary = make_split(manifest, seed).summary()
    if as_json:
        print_json(summary)
        return
    table = Table(title=f"{spec.name}, seed {seed}", title_justify="left")
    table.add_column("subset", no_wrap=True)
    table.add_column("epochs", justify="right")
    table.add_column("samples", justify="right")
    for name in spec.classes:
        table.add_column(name, justify="right")
    notes = []
    for row in summary["training"]:
        subset, epochs = f"train {row['fraction']:g}", str(row["epochs"])
        if row["class_counts"] is None:
            table.add_row(subset, epochs, "too few", style="dim")
            notes.append(row.get("note", ""))
            continue
        table.add_row(subset, epochs, str(row["samples"]), *map(str, row["class_counts"].values()))
    validation = summary["validation"]
    counts = validation["class_counts"] or {}
    table.add_row(
        "validation", "", str(validation["samples"]), *map(str, counts.values()), style="bold"
    )
    console.print(table)
    if notes:
        console.print(f"[yellow]note[/]: {notes[0]}")


@app.command("probe")
def probe_tasks(
    ctx: typer.Context,
    tasks: Annotated[
        list[str] | None,
        typer.Argument(help="Task names or folders (default: the three synthetic tasks)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Split seed.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """How much the report and the image each say about a task's label.

    AUC on one seed's validation set of a logistic regression on report word n-grams, and of
    one on 32x32 pixels: a quick read of a task's causal structure before any backbone runs.

    Example: radsweep data probe synth-diagnostic synth-prognostic
    """
    from radsweep.tasks.probe import probe_tasks
    from radsweep.tasks.synthetic.tasks import SYNTHETIC_TASKS

    with err_console.status("probing") as status:
        records = probe_tasks(
            tasks or list(SYNTHETIC_TASKS),
            settings(ctx).data,
            seed,
            lambda name: status.update(f"probing {name}"),
        )
    if as_json:
        print_json({"seed": seed, "tasks": records})
        return
    table = Table(
        title=f"What each modality says about the label (seed {seed})",
        title_justify="left",
        caption="AUC of logistic regression on report n-grams / 32x32 pixels, validation set.",
        caption_justify="left",
    )
    table.add_column("task", no_wrap=True)
    for column in ("samples", "patients", "train/val", "report AUC", "image AUC"):
        table.add_column(column, justify="right")
    for row in records:
        table.add_row(
            str(row["task"]),
            str(row["samples"]),
            str(row["patients"]),
            f"{row['training_samples']}/{row['validation_samples']}",
            f"{row['report_auc']:.3f}",
            f"{row['image_auc']:.3f}",
        )
    console.print(table)


app.command()(synth)
