"""radsweep's tests, mirroring app/radsweep folder by folder."""

from pathlib import Path

PUBLIC_SAMPLES = Path(__file__).parent / "public_samples"
"""Real, public radiographs and report texts (none credentialed); provenance and licences in its
NOTICE.md, which travels with them."""
