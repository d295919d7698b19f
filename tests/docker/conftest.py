"""Fixtures: the Dockerfile and compose.yaml, parsed once per session."""

from typing import Any

import pytest

from .files import Image, load_compose, load_image


@pytest.fixture(scope="session")
def image() -> Image:
    return load_image()


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return load_compose()
