"""``radsweep features``: the frozen encoders, and the feature cache: extract, list, verify."""

import shlex
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress as Bar
from rich.table import Table

from radsweep.cli.context import console, err_console, progress_bar, settings
from radsweep.cli.options import DeviceOption, JsonFlag, TextWeightsOption, WeightsOption
from radsweep.cli.output import print_json
from radsweep.devices import resolve_device
from radsweep.errors import FeatureCacheError, RadsweepError
from radsweep.settings import Settings
from radsweep.tasks.manifest import Manifest
from radsweep.tasks.registry import find_task_directory

if TYPE_CHECKING:
    from radsweep.encoders import EncoderInfo
    from radsweep.features.extract import ExtractionResult, Progress
    from radsweep.features.store import CacheDir

app = typer.Typer(
    help="Frozen image/text encoders and the feature cache: extract, list, verify.",
    no_args_is_help=True,
)


class Precision(StrEnum):
    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"


def _command(ctx: typer.Context, config: Settings) -> str:
    """The command line that resumes this extraction: the options given, minus --force."""
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


def _size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def _advance(bar: Bar, label: str) -> "Progress":
    job = bar.add_task(label, total=None)

    def advance(done: int, total: int) -> None:
        bar.update(job, total=total, advance=done)

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


@app.command()
def extract(
    ctx: typer.Context,
    task: Annotated[str, typer.Option(help="Task name or folder holding task.json.")],
    backbone: Annotated[
        str | None, typer.Option(help="Image encoder to cache (see radsweep features encoders).")
    ] = None,
    weights: WeightsOption = None,
    variant: Annotated[
        str | None, typer.Option(help="The backbone's preprocessing variant (e.g. paper, repo).")
    ] = None,
    text_encoder: Annotated[
        str | None, typer.Option(help="Text encoder to cache the reports with.")
    ] = None,
    text_weights: TextWeightsOption = None,
    max_length: Annotated[
        int | None, typer.Option(min=1, help="Report tokens kept (default: the encoder's).")
    ] = None,
    views: Annotated[
        int,
        typer.Option(
            min=0, max=64, help="Augmented views (RandomResizedCrop 0.4-0.9) besides the centre."
        ),
    ] = 0,
    view_seed: Annotated[int, typer.Option(help="Seed of the augmented crop boxes.")] = 0,
    pool: Annotated[
        int, typer.Option(min=1, help="Average-pool the token grid in PxP windows (1 = off).")
    ] = 1,
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
    tiny: Annotated[
        bool,
        typer.Option("--tiny", help="Tiny randomly initialised encoders (tests and demos)."),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Discard an existing cache and extract again.")
    ] = False,
) -> None:
    """Cache a task's image tokens (--backbone) and/or report tokens (--text-encoder).

    Tokens are stored as fp16 memory maps under CACHE/features/KEY; KEY hashes
    everything that changes them, so an existing complete cache is reused. An
    interrupted run resumes from its last finished shard when the same command
    runs again. Unusable images stop the run with their list (bad-images.tsv),
    unless --skip-bad records them as exclusions in the cache metadata.
    """
    from radsweep.features.extract import ExtractOptions
    from radsweep.weights.catalogue import catalogue_file

    if backbone is None and text_encoder is None:
        raise RadsweepError(
            "nothing to extract", hint="pass --backbone NAME and/or --text-encoder NAME"
        )
    config = settings(ctx)
    manifest = Manifest.load(find_task_directory(task, config.data), check_images=False)
    options = ExtractOptions(
        batch_size=batch_size,
        workers=workers,
        shard_size=shard_size,
        skip_bad=skip_bad,
        precision=precision.value if precision else None,
        force=force,
        command=_command(ctx, config),
    )
    target = str(resolve_device(device))
    catalogue = catalogue_file(config)
    if backbone is not None:
        from radsweep.encoders import build_image_encoder
        from radsweep.features.extract import extract_image_features
        from radsweep.features.views import ViewPlan

        image_encoder = build_image_encoder(
            backbone, weights, tiny=tiny, variant=variant, device=target, catalogue=catalogue
        )
        plan = ViewPlan(augmented=views, seed=view_seed)
        with progress_bar("images") as bar:
            advance = _advance(bar, f"{image_encoder.info.name}: {manifest.task.name}")
            result = extract_image_features(
                image_encoder, manifest, config.cache, plan, pool, options, advance
            )
        _report("image", result)
    if text_encoder is not None:
        from radsweep.encoders import build_text_encoder
        from radsweep.features.extract import extract_text_features

        encoder = build_text_encoder(
            text_encoder, text_weights, tiny=tiny, max_length=max_length, catalogue=catalogue
        )
        encoder.to(target)
        with progress_bar("reports") as bar:
            advance = _advance(bar, f"{encoder.info.name}: {manifest.task.name}")
            result = extract_text_features(encoder, manifest, config.cache, options, advance)
        _report("text", result)


def _state(cache: "CacheDir") -> tuple[str, str, str]:
    """(views, samples, state) columns of one cache for ``ls``."""
    record = cache.record()
    spec = record.spec
    views = str(spec.views.count) if spec.kind == "image" else "-"
    total = len(record.plan.shards())
    if not cache.is_complete():
        return views, str(record.plan.samples), f"{len(cache.done_shards())}/{total} shards"
    try:
        excluded = len(cache.metadata().excluded)
    except FeatureCacheError:
        return views, str(record.plan.samples), "damaged: run verify"
    note = f", {excluded} excluded" if excluded else ""
    return views, str(record.plan.samples), f"complete{note}"


def _cache_record(cache: "CacheDir") -> dict[str, object]:
    record = cache.record()
    spec = record.spec
    image = spec.kind == "image"
    return {
        "key": cache.key,
        "kind": spec.kind,
        "encoder": spec.encoder,
        "task": record.task,
        "views": spec.views.count if image else None,
        "pool": spec.pool if image else None,
        "samples": record.plan.samples,
        "state": _state(cache)[2],
        "complete": cache.is_complete(),
        "bytes": cache.size_on_disk(),
    }


@app.command("ls")
def list_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List feature caches: key, encoder, task, views, state and size on disk."""
    from radsweep.features.store import list_caches

    root = settings(ctx).cache
    caches = list_caches(root)
    if as_json:
        print_json([_cache_record(cache) for cache in caches])
        return
    if not caches:
        console.print(f"no feature caches under {root} (radsweep features extract makes them)")
        return
    table = Table(title=f"feature caches in {root}", title_justify="left")
    table.add_column("key", overflow="fold")
    for column in ("encoder", "task", "views", "pool", "samples", "state", "size"):
        table.add_column(column, justify="right" if column in ("views", "samples") else "left")
    for cache in caches:
        try:
            record = cache.record()
        except FeatureCacheError:
            damaged = "damaged spec.json: remove the folder"
            table.add_row(cache.key, "-", "-", "-", "-", "-", damaged, _size(cache.size_on_disk()))
            continue
        spec = record.spec
        views, samples, state = _state(cache)
        pool = f"{spec.pool}x{spec.pool}" if spec.kind == "image" and spec.pool > 1 else "-"
        table.add_row(
            cache.key,
            spec.encoder,
            record.task,
            views,
            pool,
            samples,
            state,
            _size(cache.size_on_disk()),
        )
    console.print(table)


@app.command()
def verify(
    ctx: typer.Context,
    key: Annotated[
        str | None, typer.Argument(help="Cache key (default: every cache; see features ls).")
    ] = None,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Keep the shards that verify and drop the rest, so extract recomputes only them.",
        ),
    ] = False,
) -> None:
    """Check caches byte for byte against their recorded sha256 checksums."""
    from radsweep.features.store import CacheDir, list_caches, resume_hint
    from radsweep.features.verify import repair_cache, repair_hint, verify_cache

    root = settings(ctx).cache
    keys = [key] if key else [cache.key for cache in list_caches(root)]
    if not keys:
        console.print(f"no feature caches under {root}")
        return
    failed = []
    for name in keys:
        result = verify_cache(root, name)
        state = "complete" if result.complete else "in progress"
        if result.ok:
            console.print(f"[green]ok[/] {name} ({state}, {result.shards} shards)")
            continue
        console.print(
            f"[red]damaged[/] {name} ({state}): {len(result.bad_shards)} of {result.shards} "
            "shards affected"
        )
        for problem in result.problems:
            console.print(f"  {problem}", markup=False, highlight=False)
        if not repair:
            failed.append(name)
            continue
        fixed = repair_cache(root, name)
        command = CacheDir(root, name).record().command
        console.print(
            f"  repaired: kept {fixed.kept} shard(s), dropped {fixed.dropped}; "
            + resume_hint(command),
            markup=False,
            highlight=False,
        )
    if failed:
        raise FeatureCacheError(
            f"{len(failed)} feature cache(s) failed verification",
            hint=repair_hint(CacheDir(root, failed[0]))
            if len(failed) == 1
            else "run `radsweep features verify KEY --repair` for each, then its extract command",
        )


@app.command("encoders")
def encoders(
    kind: Annotated[
        str | None, typer.Option(help="Only image or only text encoders.", metavar="image|text")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List the registered encoders: architecture, tokens, default weights, licence."""
    # Imported here so that `radsweep --help` does not pay for torch.
    from radsweep.encoders import EncoderKind, encoder_variants, list_encoders
    from radsweep.encoders.pretrained import pretrained
    from radsweep.errors import RadsweepError

    if kind is not None and kind not in set(EncoderKind):
        raise RadsweepError(f"unknown encoder kind {kind!r}", hint="use 'image' or 'text'")
    kinds = [EncoderKind(kind)] if kind else list(EncoderKind)
    if as_json:
        infos = [info for each in kinds for info in list_encoders(each)]
        print_json(
            [
                info.model_dump(mode="json")
                | {
                    "variants": list(encoder_variants(info.name, info.kind)),
                    "display": pretrained(info.name, info.kind.value).display,
                    "citation": pretrained(info.name, info.kind.value).citation,
                }
                for info in infos
            ]
        )
        return
    for each in kinds:
        console.print(_table(each, list_encoders(each)))
    console.print(
        "Grids at the paper's input size; text tokens: up to 256 per report by default. "
        "Variants: the first is the default. Weights: a checkpoint file or folder, or a hub id "
        "owner/name(@revision).",
        markup=False,
    )


def _table(kind: str, infos: "list[EncoderInfo]") -> Table:
    from radsweep.encoders import encoder_variants

    image = kind == "image"
    table = Table(title=f"{kind} encoders", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("architecture")
    if image:
        for column in ("input", "grid", "CLS"):
            table.add_column(column, no_wrap=True)
    table.add_column("dim", no_wrap=True)
    table.add_column("default weights", overflow="fold", ratio=2)
    table.add_column("licence", ratio=1)
    for info in infos:
        variants = encoder_variants(info.name, info.kind)
        name = info.name + "".join(f"\n {variant}" for variant in variants)
        layout = []
        if image and info.grid is not None:
            grid = f"{info.grid[0]}x{info.grid[1]}"
            layout = [str(info.input_size), grid, "yes" if info.has_cls else "no"]
        table.add_row(
            name, info.architecture, *layout, str(info.dim), info.default_weights, info.licence
        )
    return table
