"""Options that several commands share, declared once: one name, one metavar, one help text."""

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast, get_args, get_origin

import typer
from pydantic import BaseModel, create_model

Command = TypeVar("Command", bound=Callable[..., None])

WEIGHTS_METAVAR = "PATH|HUB_ID"

ResultsDbOption = Annotated[
    Path | None,
    typer.Option(
        "--from",
        help="Results database to read (default: RESULTS/results.sqlite).",
        metavar="RESULTS_DB",
    ),
]
WeightsOption = Annotated[
    str | None,
    typer.Option(
        help="Backbone weights: a local file or folder, a hub id owner/name[@revision], or "
        "random (default: the published release).",
        metavar=WEIGHTS_METAVAR,
    ),
]
TextWeightsOption = Annotated[
    str | None,
    typer.Option(
        help="Text encoder weights: a local folder or a hub id owner/name[@revision] "
        "(default: the published release).",
        metavar=WEIGHTS_METAVAR,
    ),
]
DeviceOption = Annotated[
    str | None,
    typer.Option(
        help="Torch device for extraction and training (default: auto, a CUDA GPU if visible).",
        metavar="auto|cpu|cuda|cuda:N",
    ),
]
SpecPath = Annotated[
    Path, typer.Argument(help="A sweep spec: a packaged name (sweep specs) or a YAML file.")
]
UploadHeadsFlag = Annotated[
    bool,
    typer.Option(
        "--upload-heads",
        help="Upload each run's trained heads to W&B as a model artifact (default: off; a "
        "spec's upload_heads: true or RADSWEEP_UPLOAD_HEADS=1 does the same). The results store "
        "keeps them either way.",
    ),
]
JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")
]


# --- options derived from the library's pydantic models -------------------------------------------


def _help(option: object) -> str:
    """The help text of an ``Annotated[..., typer.Option(...)]`` alias."""
    return str(get_args(option)[1].help)


FIELD_HELP: dict[str, str] = {
    # RunConfig and ScreenOptions (train, screen)
    "task": "Task name or folder (radsweep data tasks).",
    "backbone": "Image encoder (radsweep features encoders).",
    "method": "What the model reads and learns from.",
    "head": "Image head (Appendix C.1).",
    "fraction": "Training fraction in (0, 1] (radsweep data splits TASK lists them).",
    "tau": "Teacher temperature τ (default: the task's).",
    "lam": "Imitation weight λ in [0, 1] (default 0.5).",
    "text_encoder": "Text encoder that reads the reports (default: the backbone's family's: "
    "minilm-sentences for pixel-patches, else biovil-t).",
    "max_length": "Report tokens kept (default: the encoder's).",
    "epochs": "Epochs (default: the backbone's, e.g. 20 for the light encoders; else the "
    "task's table).",
    "teacher_epochs": "Epochs of a distillation run's teacher (default: the run's epochs).",
    "lr": "Adam learning rate (default: the backbone's, e.g. 1e-3 for the light encoders; else "
    "the head's).",
    "batch_size": "Training batch size (default: the backbone's, e.g. 32 for the light "
    "encoders; else 64).",
    "views": "Augmented views cached per image.",
    "view_seed": "Seed of the augmented views' crop boxes.",
    "pool": "Average-pool the token grid in PxP windows.",
    "variant": "Backbone preprocessing variant.",
    "weights": _help(WeightsOption),
    "text_weights": _help(TextWeightsOption),
    "tiny": "Tiny random encoders (tests, demos).",
    "precision": "Head arithmetic: fp32, tf32 (CUDA matmuls) or bf16 autocast; float32 weights "
    "and metrics (default: bf16 on a CUDA GPU, fp32 on the CPU).",
    "budget_minutes": "Start no training step after this many minutes (default: no limit).",
    # SynthConfig (data synth)
    "samples": "Number of images (and reports).",
    "seed": "Seed: the same seed builds the same bytes.",
    "image_size": "Image side in pixels.",
    "finding_visibility": "0-1: how clearly images show the diagnostic finding.",
    "report_fidelity": "0-1: how often the report names the finding drawn.",
    "prognosis_image_weight": "Weight of the image-visible acute state in the outcome.",
    "prognosis_report_weight": "Weight of the chronic history (report only) in the outcome.",
    "outcome_noise": "Noise of the prognostic outcome given the latent state.",
    "severity_image_noise": "Noise of the image's read of the acute state.",
    "report_privileged": "The report adds nothing the image lacks (its state phrases are "
    "unrelated to the patient).",
    "age_visibility": "0-1: strength of ageing cues.",
    "age_mention_rate": "0-1: how often reports hint at age.",
}
"""Help for every model field a command exposes: one text per field, whichever command shows it."""

_METAVAR = {"weights": WEIGHTS_METAVAR, "text_weights": WEIGHTS_METAVAR, "task": "TASK"}


def _plain(annotation: Any) -> Any:
    """``int | None`` and ``Annotated[int, Field(...)]`` as typer reads them (pydantic checks
    the constraints when the model is built, and says which field broke one)."""
    if get_origin(annotation) is Annotated:
        return _plain(get_args(annotation)[0])
    return annotation


def _parameter(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    """The option for one field. A flag whose field defaults to True is offered as ``--no-NAME``
    alone (one word, no ``--NAME/--no-NAME`` pair that cuts the help's name column)."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    if annotation is bool and default is True:
        info = typer.Option("--no-" + name.replace("_", "-"), help=FIELD_HELP[name])
        annotation = Annotated[bool, info]
        return inspect.Parameter(f"no_{name}", keyword, default=False, annotation=annotation)
    flag = "--" + name.replace("_", "-")
    info = typer.Option(flag, help=FIELD_HELP[name], metavar=_METAVAR.get(name))
    return inspect.Parameter(name, keyword, default=default, annotation=Annotated[annotation, info])


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    """The command's keyword values as model fields: ``no_NAME=True`` becomes ``NAME=False``."""
    return {
        name.removeprefix("no_") if name.startswith("no_") else name: (
            not value if name.startswith("no_") else value
        )
        for name, value in values.items()
    }


def model_options(
    model: type[BaseModel],
    fields: Sequence[str],
    types: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Callable[[Command], Command]:
    """Add ``fields`` of ``model`` to a command as options (their type and default from the
    model, their help from ``FIELD_HELP``); the command takes them as ``**fields``.

    ``types`` and ``defaults`` override the model's, e.g. a choice of the registered heads, or
    None where the library fills the default (so it is stated in one place only).
    """
    types, defaults = types or {}, defaults or {}

    def decorate(command: Command) -> Command:
        signature = inspect.signature(command)
        own = [
            parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for parameter in signature.parameters.values()
            if parameter.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        derived = []
        for name in fields:
            field = model.model_fields[name]
            kind = types.get(name, _plain(field.annotation))
            default = defaults.get(
                name, inspect.Parameter.empty if field.is_required() else field.default
            )
            derived.append(_parameter(name, kind, default))
        own_names = {parameter.name for parameter in own}

        @functools.wraps(command)
        def wrapped(**values: Any) -> None:
            mine = {name: value for name, value in values.items() if name in own_names}
            rest = {name: value for name, value in values.items() if name not in own_names}
            command(**mine, **_fields(rest))

        parameters = [*own[:1], *derived, *own[1:]]  # after the context, before the command's own
        wrapped.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return cast(Command, wrapped)

    return decorate


def field_model(model: type[BaseModel], fields: Sequence[str]) -> type[BaseModel]:
    """A model of ``fields`` of ``model`` alone: their types and constraints, none of its rules
    across fields. A command whose options are some of a model's fields but that builds no
    instance of it checks them with this, so a bad value is named as the model would name it."""
    chosen: dict[str, Any] = {
        name: (model.model_fields[name].annotation, model.model_fields[name]) for name in fields
    }
    return create_model(f"{model.__name__}Fields", **chosen)
