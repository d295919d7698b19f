"""The study's sweep specs as package data, and spec arguments given by name or by path.

The specs live in the repository's top-level ``sweeps/`` folder; the package reaches them
through ``radsweep/specs`` (a link in a checkout, real files in a wheel), so ``pip install
radsweep`` alone is enough to run every experiment of the study by its spec's name.
"""

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
