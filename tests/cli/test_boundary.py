"""The error boundary names where to report radsweep's own bugs: the package metadata's link."""

from email.message import Message
from importlib import metadata

import pytest

from radsweep.cli.boundary import INTERNAL_ERROR, describe, issue_tracker

ISSUES = "https://example.org/radsweep/issues"


def _metadata(*urls: str) -> Message:
    message = Message()
    message["Name"] = "radsweep"
    for url in urls:
        message["Project-URL"] = url
    return message


def test_a_bug_names_the_issues_link_of_the_package_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    urls = ("Homepage, https://example.org/radsweep", f"Issues, {ISSUES}")
    monkeypatch.setattr(metadata, "metadata", lambda name: _metadata(*urls))
    assert issue_tracker() == ISSUES
    failure = describe(TypeError("unsupported operand"))
    assert failure.code == INTERNAL_ERROR
    assert f"report it at {ISSUES} with the output" in failure.message


def test_without_an_issues_link_the_hint_still_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> Message:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "metadata", lambda name: _metadata("Homepage, https://x.org"))
    assert issue_tracker() == "radsweep's issue tracker"
    monkeypatch.setattr(metadata, "metadata", not_installed)
    assert "report it at radsweep's issue tracker" in describe(KeyError("x")).message
