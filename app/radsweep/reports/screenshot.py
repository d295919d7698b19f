"""A picture of the report's first screen, taken by a headless Chromium: what a reader sees when
the page opens (for a README, a slide or an issue). Chromium is not a Python package: it is found
on PATH (Debian and Ubuntu: ``apt-get install chromium``)."""

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from radsweep.atomic import write_atomic
from radsweep.errors import RadsweepError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 120  # a browser that hangs on start-up must not hang the caller


def find_browser() -> str | None:
    """The first headless-capable Chromium on PATH, or None."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def _browser() -> str:
    browser = find_browser()
    if browser is None:
        raise RadsweepError(
            "no Chromium browser on PATH to take the screenshot with",
            hint="install one (Debian/Ubuntu: apt-get install chromium) and run again",
        )
    return browser


def headless(
    page: Path, width: int, height: int, *arguments: str
) -> subprocess.CompletedProcess[str]:
    """Run the browser headless on ``page`` in a ``width`` x ``height`` px window; its own
    profile folder, so it never touches (or waits on) a user's browser."""
    with tempfile.TemporaryDirectory(prefix="radsweep-browser-") as profile:
        command = [
            _browser(),
            "--headless",
            "--no-sandbox",  # containers run as root, where Chromium's sandbox refuses to start
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            *arguments,
            page.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired as error:
            raise RadsweepError(
                f"the browser did not finish rendering {page} within {TIMEOUT_S} s",
                hint="run it again; if it keeps hanging, check that headless Chromium starts",
            ) from error
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RadsweepError(
            f"the browser failed on {page}: {last}",
            hint="check that `chromium --headless --screenshot` works on this machine",
        )
    return done


def _compressed(png: bytes, max_bytes: int) -> bytes:
    """The screenshot as an indexed-colour PNG (a report is text and flat plots: 256 colours
    keep it sharp), with fewer colours until it fits ``max_bytes``."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    for colours in (256, 128, 64, 32):
        buffer = io.BytesIO()
        image.quantize(colours, dither=Image.Dither.NONE).save(buffer, "PNG", optimize=True)
        if buffer.tell() <= max_bytes:
            return buffer.getvalue()
    raise RadsweepError(
        f"the screenshot does not fit in {max_bytes:,} bytes even with 32 colours",
        hint="take a smaller window (a lower width or height)",
    )


def screenshot(
    page: Path, out: Path, width: int = 900, height: int = 800, max_bytes: int = 250_000
) -> Path:
    """Write a PNG of the first ``width`` x ``height`` px of ``page`` as a browser shows it,
    at most ``max_bytes``; return ``out``."""
    if not page.is_file():
        raise RadsweepError(
            f"no report at {page}", hint="write one first: radsweep report --out FOLDER"
        )
    with tempfile.TemporaryDirectory(prefix="radsweep-shot-") as folder:
        raw = Path(folder) / "screen.png"
        headless(page, width, height, f"--screenshot={raw}")
        if not raw.is_file():
            raise RadsweepError(
                f"the browser wrote no screenshot of {page}",
                hint="check that `chromium --headless --screenshot` works on this machine",
            )
        data = _compressed(raw.read_bytes(), max_bytes)
    write_atomic(out, lambda path: path.write_bytes(data))
    return out
