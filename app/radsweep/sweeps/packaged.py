"""The study's sweep specs as package data, and spec arguments given by name or by path.

The specs live in the repository's top-level ``sweeps/`` folder; the package reaches them
through ``radsweep/specs`` (a link in a checkout, real files in a wheel), so ``pip install
radsweep`` alone is enough to run every experiment of the study by its spec's name.
"""

import hashlib
from importlib.resources import files
from pathlib import Path

SPEC_SUFFIX = ".yaml"


def packaged_folder() -> Path:
    return Path(str(files("radsweep") / "specs"))


def packaged_specs() -> dict[str, Path]:
    """Every shipped spec by name (its file's stem), sorted by name."""
    folder = packaged_folder()
    if not folder.is_dir():
        return {}
    return {path.stem: path for path in sorted(folder.glob(f"*{SPEC_SUFFIX}"))}


def resolve_spec(spec: str | Path) -> Path:
    """``spec`` itself when it is a file or names no packaged spec, else the packaged spec.

    A bare name (``fig2-age``, ``fig2-age.yaml`` or ``sweeps/fig2-age.yaml``) that is not a file
    here is the spec shipped with the package; anything else is left for the reader to report.
    """
    path = Path(spec).expanduser()
    name = path.name.removesuffix(SPEC_SUFFIX)
    if path.is_file() or path.parent not in (Path(), Path("sweeps")):
        return path
    return packaged_specs().get(name, path)


def spec_label(path: Path) -> str:
    """How messages name a spec: a packaged spec by its name (``demo``), which the user typed
    and can type again, not by where the package happens to be installed; any other by its
    path."""
    shipped = packaged_specs().get(path.stem)
    if shipped is not None and shipped.resolve() == path.expanduser().resolve():
        return f"spec {path.stem}"
    return str(path)


def queue_name(path: Path) -> str:
    """A spec's name in the local job queue: ``STEM@DIGEST``, the digest of its resolved path.

    Two specs with one file name in two folders, sharing a results store, keep their own jobs;
    one spec file keeps its jobs when edited (the queue then drops what the edit removed).
    """
    digest = hashlib.sha256(str(path.expanduser().resolve()).encode()).hexdigest()[:8]
    return f"{path.stem}@{digest}"


def spec_of(queued: str) -> str:
    """The spec's own name (its file stem) from its name in the queue."""
    return queued.partition("@")[0]
