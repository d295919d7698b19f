"""``radsweep features``: the frozen encoders, and the feature cache: extract, list, verify."""

import shlex
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress as Bar
from rich.progress import TaskID

from radsweep.cli.caches import list_command, verify
from radsweep.cli.context import console, err_console, progress_bar, settings
from radsweep.cli.encoders import encoders
from radsweep.cli.options import DeviceOption, field_model, model_options
from radsweep.runs.config import RunConfig

if TYPE_CHECKING:
    from radsweep.features.extract import ExtractionResult
    from radsweep.features.service import TaskProgress
    from radsweep.settings import Settings

app = typer.Typer(
    help="Frozen image/text encoders and the feature cache: extract, list, verify.",
    no_args_is_help=True,
)


class Precision(StrEnum):
    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"


def _command(ctx: typer.Context, config: "Settings") -> str:
    """The command line that resumes this extraction: the options given, minus --force."""
    from radsweep.settings import Settings

    words = ["radsweep"]
    defaults = Settings()
    if config.data != defaults.data:
        words += ["--data-dir", str(config.data)]
    if config.cache != defaults.cache:
        words += ["--cache-dir", str(config.cache)]
    words += ["features", "extract"]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if value is None or value == param.default or param.name == "force" or not param.opts:
            continue
        words += [param.opts[0]] if value is True else [param.opts[0], str(value)]
    return shlex.join(words)


def _advance(bar: Bar) -> "TaskProgress":
    """One bar per encoder, advanced with its running total."""
    jobs: dict[str, TaskID] = {}

    def advance(what: str, done: int, total: int) -> None:
        if what not in jobs:
            jobs[what] = bar.add_task(what, total=total)
        bar.update(jobs[what], completed=done, total=total)

    return advance


def _report(kind: str, result: "ExtractionResult") -> None:
    how = (
        "reused"
        if result.reused
        else f"computed {result.computed_shards} of {result.total_shards} shard(s)"
    )
    console.print(f"{kind} cache [bold]{result.key}[/]: {how} — {result.directory}")
    if result.excluded:
        err_console.print(
            f"[yellow]note[/]: {len(result.excluded)} bad image(s) excluded; the cache metadata "
            "lists them"
        )


EXTRACT_FIELDS = (
    "task", "backbone", "weights", "variant", "text_encoder", "text_weights", "max_length",
    "views", "view_seed", "pool", "tiny",
)  # fmt: skip
"""The RunConfig fields that name a feature cache: ``extract`` offers them as ``train`` does
(text_encoder without a default: extraction caches only the encoders asked for)."""


@app.command()
@model_options(RunConfig, EXTRACT_FIELDS, defaults={"text_encoder": None})
def extract(
    ctx: typer.Context,
    skip_bad: Annotated[
        bool,
        typer.Option(
            "--skip-bad", help="Record unusable images as exclusions instead of stopping."
        ),
    ] = False,
    batch_size: Annotated[
        int | None,
        typer.Option(min=1, help="Images per forward pass (default: fit GPU memory; 32 on CPU)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=0, help="Decoding processes (default: one per spare core).")
    ] = None,
    shard_size: Annotated[
        int, typer.Option(min=1, help="Samples per shard, the unit of resuming.")
    ] = 1024,
    device: DeviceOption = None,
    precision: Annotated[
        Precision | None,
        typer.Option(help="Autocast precision (default: bf16 on CUDA, else fp16; fp32 on CPU)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Discard an existing cache and extract again.")
    ] = False,
    **fields: Any,
) -> None:
    """Cache a task's image tokens (--backbone) and/or report tokens (--text-encoder).

    Tokens are stored as fp16 memory maps under CACHE/features/KEY; KEY hashes
    everything that changes them, so an existing complete cache is reused. An
    interrupted run resumes from its last finished shard when the same command
    runs again. Unusable images stop the run with their list (bad-images.tsv),
    unless --skip-bad records them as exclusions in the cache metadata.

    Example: radsweep features extract --task synth-diagnostic --backbone pixel-patches
    """
    from radsweep.features.extract import ExtractOptions
    from radsweep.features.service import ImageRequest, TextRequest, extract_for_task
    from radsweep.features.views import ViewPlan

    asked = field_model(RunConfig, EXTRACT_FIELDS).model_validate(fields).model_dump()
    config = settings(ctx)
    options = ExtractOptions(
        batch_size=batch_size,
        workers=workers,
        shard_size=shard_size,
        skip_bad=skip_bad,
        precision=precision.value if precision else None,
        force=force,
        command=_command(ctx, config),
    )
    image = text = None
    if asked["backbone"] is not None:
        views = ViewPlan(augmented=asked["views"], seed=asked["view_seed"])
        image = ImageRequest(
            asked["backbone"],
            weights=asked["weights"],
            variant=asked["variant"],
            tiny=asked["tiny"],
            views=views,
            pool=asked["pool"],
        )
    if asked["text_encoder"] is not None:
        text = TextRequest(
            asked["text_encoder"],
            weights=asked["text_weights"],
            max_length=asked["max_length"],
            tiny=asked["tiny"],
        )
    with progress_bar("samples") as bar:
        done = extract_for_task(
            asked["task"],
            config,
            image,
            text,
            device=device,
            options=options,
            progress=_advance(bar),
        )
    for kind, result in (("image", done.image), ("text", done.text)):
        if result is not None:
            _report(kind, result)


app.command("ls")(list_command)
app.command()(verify)
app.command("encoders")(encoders)
