"""Encoder weights: where they come from, what they are, and how a release's file fits a module.

A release file rarely holds only the backbone: it nests the state dict in a container
(``ckpt['model']``), prefixes the keys (``encoder.module.``) and carries decoders, text towers or
projection heads. One adapter (container, prefix, drop list, strict load) covers every release, so
a registry entry only states its ``CheckpointFormat``. The feature cache keys on ``identity``.
"""

import _compat_pickle
import os
import pickle
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from radsweep.errors import WeightsError
from radsweep.weights.identity import local_identity

RANDOM_WEIGHTS = "random"  # ``weights="random"``: the full-size architecture, randomly initialised
RANDOM_IDENTITY_PREFIX = "random-init"
INIT_SEED = 0
NO_HUB_HINT = (  # the flags that exist: --weights (a backbone), --text-weights (a text encoder)
    "not in the HF cache and the hub cannot be reached — pass a local copy with --weights (image "
    "backbone) or --text-weights (text encoder), or register it: radsweep weights add NAME PATH"
)
_WRONG_FILE_HINT = (
    "pass the release named by `radsweep features encoders` (not a fine-tuned or other-size model)"
)
_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+(@[\w./-]+)?")


@dataclass(frozen=True)
class CheckpointFormat:
    """Where a release keeps the backbone inside its file."""

    containers: tuple[str, ...] = ("",)  # sub-dicts tried in order; "" is the top level itself
    prefixes: tuple[str, ...] = ("",)  # the first prefix any key carries is kept and stripped
    drop: tuple[str, ...] = ()  # key prefixes (after stripping) the backbone does not use


@dataclass(frozen=True)
class HubSource:
    """A Hugging Face repository and the files one encoder needs from it."""

    repo_id: str
    patterns: tuple[str, ...]  # what to fetch (fnmatch patterns)
    required: str  # the file that must be there: the weight file, or config.json for HF folders


@dataclass(frozen=True)
class Weights:
    """Weights on local disk, and the identity the feature cache keys on."""

    path: Path
    identity: str


def random_identity(tiny: bool) -> str:
    """The identity of seeded random weights: tiny and full-size never share a cache key."""
    return f"{RANDOM_IDENTITY_PREFIX}:{'tiny:' if tiny else ''}seed={INIT_SEED}"


@contextmanager
def seeded_init() -> Iterator[None]:
    """Build modules under ``INIT_SEED`` without disturbing the caller's random stream."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(INIT_SEED)
        yield


def resolve_weights(source: str | Path, hub: HubSource | None = None) -> Weights:
    """A local file or folder (hashed), or a hub id ``owner/name[@revision]`` (its commit)."""
    path = Path(source).expanduser()
    if path.exists():
        return Weights(path, local_identity(path))
    text = str(source)
    if _HUB_ID.fullmatch(text) and hub is not None:
        repo_id, _, revision = text.partition("@")
        return from_hub(HubSource(repo_id, hub.patterns, hub.required), revision or None)
    raise WeightsError(
        f"weights {text!r}: no such file or folder",
        hint="pass a local checkpoint file or folder"
        + (", or a Hugging Face hub id (owner/name)" if hub else ""),
    )


def from_hub(source: HubSource, revision: str | None = None) -> Weights:
    """The repository's snapshot from the local HF cache, downloading it only when online."""
    from huggingface_hub import snapshot_download

    attempts = [True] if _offline() else [True, False]
    for local_only in attempts:
        try:
            folder = Path(
                snapshot_download(
                    source.repo_id,
                    revision=revision,
                    allow_patterns=list(source.patterns),
                    local_files_only=local_only,
                )
            )
        except OSError:  # every hub error (not cached, no network, no such repo) is an OSError
            continue
        if (folder / source.required).is_file():
            return Weights(folder, f"hf:{source.repo_id}@{folder.name}")
    raise WeightsError(f"cannot load {source.repo_id}: {NO_HUB_HINT}")


def _offline() -> bool:
    from huggingface_hub import constants

    flag = os.environ.get("HF_HUB_OFFLINE", "").upper() in {"1", "ON", "YES", "TRUE"}
    return flag or constants.HF_HUB_OFFLINE


def weight_file(weights: Weights, filename: str | None) -> Path:
    """The checkpoint file itself, or ``filename`` inside a folder (a hub snapshot, say)."""
    if weights.path.is_file():
        return weights.path
    if filename is None:
        raise WeightsError(f"{weights.path} is a folder", hint="pass the checkpoint file itself")
    candidate = weights.path / filename
    if not candidate.is_file():
        raise WeightsError(
            f"{weights.path}: no {filename} in this folder",
            hint=f"pass the checkpoint file itself, or a folder that holds {filename}",
        )
    return candidate


def read_checkpoint(path: Path) -> Mapping[str, Any]:
    """A safetensors or PyTorch file's top-level mapping, without running pickled code."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(path)
        except Exception as error:  # safetensors raises its own SafetensorError (no public base)
            message = f"{path.name} is not a readable safetensors file: {error}"
            raise WeightsError(message) from error
    try:
        with torch.serialization.safe_globals(_release_globals()), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Detected pickle protocol")  # any protocol is fine
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise _refused(path, error) from error
    except Exception as error:  # damaged bytes raise anything; no code of the file ran
        raise WeightsError(f"{path.name} is not a PyTorch checkpoint ({error})") from error
    if not isinstance(loaded, Mapping):
        raise WeightsError(f"{path.name} holds a {type(loaded).__name__}, not a state dict")
    return loaded


class _Dropped:
    """Stands in for the training configuration some releases pickle beside their weights: it
    is built from nothing, keeps nothing and runs no code of the file."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass


RELEASE_GLOBALS = (
    # C2L's ``opt`` and MAE's / MRM's ``args``: the training script's argparse options.
    "argparse.Namespace",
    # GLoRIA (PyTorch Lightning 1.x): ``hyper_parameters`` is an OmegaConf config, and
    # ``hparams_type`` its class; the config's nodes and metadata are pickled with it.
    "omegaconf.dictconfig.DictConfig",
    "omegaconf.listconfig.ListConfig",
    "omegaconf.base.ContainerMetadata",
    "omegaconf.base.Metadata",
    "omegaconf.nodes.AnyNode",
    "typing.Any",
)
"""The only globals beyond torch's ``weights_only`` set that a checkpoint may name, each needed
by a release of the catalogue. Each is read as an inert ``_Dropped``: only tensors are used."""


def _release_globals() -> list[Callable[..., Any] | tuple[Callable[..., Any], str]]:
    return [(_Dropped, name) for name in RELEASE_GLOBALS]


def _refused(path: Path, error: pickle.UnpicklingError) -> WeightsError:
    """One line naming what torch's ``weights_only`` unpickler refused, and what to do."""
    text = " ".join(str(error).split())
    found = re.search(r"GLOBAL (\S+)", text)
    if found is None:  # no global named: bytes torch's safe unpickler does not read at all
        detail = text.rpartition("WeightsUnpickler error: ")[2].split(" Check the")[0]
        return WeightsError(f"{path.name} is not a PyTorch checkpoint ({detail})")
    return WeightsError(
        f"{path.name}: refused to load, it pickles {_python3_name(found.group(1))}: a "
        "checkpoint may hold tensors and plain data, never code to run",
        hint="use the release named by `radsweep features encoders`; only if you trust the "
        "file, save its state dict alone (torch.save or .safetensors) and pass that",
    )


def _python3_name(name: str) -> str:
    """The name as Python 3 knows it (protocol-2 files say ``commands.Popen``), for the message."""
    module, _, attribute = name.rpartition(".")
    module, attribute = _compat_pickle.NAME_MAPPING.get((module, attribute), (module, attribute))
    return f"{_compat_pickle.IMPORT_MAPPING.get(module, module)}.{attribute}"


def adapt(raw: Mapping[str, Any], fmt: CheckpointFormat, name: str) -> dict[str, torch.Tensor]:
    """The backbone's state dict: pick the container, keep and strip the prefix, drop extras."""
    state = _container(raw, fmt.containers, name)
    prefix = next((p for p in fmt.prefixes if any(k.startswith(p) for k in state)), None)
    if prefix is None:
        heads = sorted({key.split(".", 1)[0] for key in state})
        raise WeightsError(
            f"{name}: no key starts with {' or '.join(fmt.prefixes)} "
            f"(keys start with {_listing(heads)})",
            hint=_WRONG_FILE_HINT,
        )
    kept = {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}
    return {key: value for key, value in kept.items() if not key.startswith(fmt.drop)}


def _container(
    raw: Mapping[str, Any], containers: tuple[str, ...], name: str
) -> Mapping[str, torch.Tensor]:
    for container in containers:
        candidate = raw if container == "" else raw.get(container)
        if not isinstance(candidate, Mapping) or not candidate:
            continue
        if all(isinstance(value, torch.Tensor) for value in candidate.values()):
            return candidate
    wanted = " or ".join(repr(c) if c else "the top level" for c in containers)
    raise WeightsError(
        f"{name}: no state dict under {wanted} (top-level keys: {_listing(sorted(map(str, raw)))})",
        hint=_WRONG_FILE_HINT,
    )


def load_strict(module: torch.nn.Module, state: Mapping[str, torch.Tensor], name: str) -> None:
    """Load every parameter and buffer or fail naming the missing, unexpected and misshapen keys."""
    expected = module.state_dict()
    _check_keys(
        name,
        missing=[k for k in expected if k not in state and not k.endswith("num_batches_tracked")],
        unexpected=[k for k in state if k not in expected],
        misshapen=[k for k in state if k in expected and state[k].shape != expected[k].shape],
    )
    module.load_state_dict(state, strict=False)


def _check_keys(name: str, missing: list[str], unexpected: list[str], misshapen: list[str]) -> None:
    problems = [
        f"{label} {_listing(sorted(keys))}"
        for label, keys in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("wrong shapes", misshapen),
        )
        if keys
    ]
    if problems:
        message = f"{name} does not fit the model: {'; '.join(problems)}"
        raise WeightsError(message, hint=_WRONG_FILE_HINT)


def from_pretrained_strict(
    model_class: Any, folder: Path, extra: tuple[str, ...] = (), **kwargs: Any
) -> torch.nn.Module:
    """A transformers model from a HF folder, as strictly as ``load_strict``.

    ``from_pretrained`` maps the release's key names onto the installed transformers' (v5
    renamed DINOv2's attention keys; old BERTs say ``gamma``/``beta``) but tolerates missing keys;
    this fails on any missing, misshapen, or unexpected key outside the ``extra`` prefixes.
    """
    from transformers.utils import logging

    verbosity, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()  # our error names the keys; its load report is noise
    logging.disable_progress_bar()
    try:
        model, report = model_class.from_pretrained(folder, output_loading_info=True, **kwargs)
    except (OSError, ValueError, RuntimeError) as error:
        first = str(error).strip().splitlines()[0]
        raise WeightsError(f"{folder}: cannot load {model_class.__name__} ({first})") from error
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()
    base = f"{model_class.base_model_prefix}."  # released heads wrap the model (``bert.``)
    _check_keys(
        folder.name,
        missing=list(report["missing_keys"]),
        unexpected=[
            key for key in report["unexpected_keys"] if not key.removeprefix(base).startswith(extra)
        ],
        misshapen=[str(k) for k in report["mismatched_keys"]],
    )
    return model


def load_checkpoint(module: torch.nn.Module, path: Path, fmt: CheckpointFormat) -> None:
    """Read ``path``, adapt it with ``fmt`` and load it strictly into ``module``."""
    load_strict(module, adapt(read_checkpoint(path), fmt, path.name), path.name)


def _listing(keys: Iterable[str], shown: int = 4) -> str:
    keys = list(keys)
    more = f", … {len(keys) - shown} more" if len(keys) > shown else ""
    return f"{len(keys)}: {', '.join(keys[:shown])}{more}"
