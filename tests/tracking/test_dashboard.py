"""``radsweep dashboard``: W&B's ``wandb-workspaces`` saves a report and a workspace view to a
stand-in server that keeps what it is sent; their specs hold the paper's panels, each on the
spec's runs only. W&B's and wandb-workspaces' client code runs unmodified."""

import json
from typing import Any

import pytest
import wandb

from radsweep.cli.main import cli
from radsweep.results.findings import paired_findings
from radsweep.results.frames import ResultFrames
from radsweep.results.runset import select
from radsweep.results.store import ResultsStore, default_store_path
from radsweep.sweeps.runset import spec_run_set
from tests.tracking.spec_runs import (  # noqa: F401 (fixtures)
    SpecRuns,
    server_fixture,
    spec_runs_fixture,
    trained_spec_fixture,
)
from tests.tracking.wandb_api import ENTITY, WandbApi

pytestmark = pytest.mark.slow
GROUPS = ["wb-app", "wb-app/sweep9"]  # the spec's own group, and that of a sweep passed by id


def _dashboard(spec_runs: SpecRuns, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    settings = spec_runs.settings
    folders = ["--home", str(settings.home), "--data-dir", str(settings.data)]
    code = cli([*folders, "dashboard", str(spec_runs.spec), "--sweep", "sweep9"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _grids(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [block["metadata"] for block in report["blocks"] if block["type"] == "panel-grid"]


def _filters(runset: dict[str, Any]) -> dict[str, Any]:
    return {item["key"]["name"]: item["value"] for item in runset["filters"]["filters"]}


def _panels(grid: dict[str, Any]) -> list[dict[str, Any]]:
    return grid["panelBankSectionConfig"]["panels"]


def test_the_dashboard_saves_the_papers_panels_on_the_specs_runs(
    spec_runs: SpecRuns, server: WandbApi, capsys: pytest.CaptureFixture[str]
) -> None:
    wandb.Api().create_project("radsweep", ENTITY)  # the project the spec's runs are in

    code, out = _dashboard(spec_runs, capsys)

    assert code == 0, out
    assert server.saved.unknown == []
    [report_view] = server.views_of_type("runs")
    [workspace_view] = server.views_of_type("project-view")
    assert f"report: {server.url}/{ENTITY}/radsweep/reports/" in out and "workspace: " in out
    report = json.loads(report_view["spec"])
    grids = _grids(report)
    for grid in grids:  # every panel reads the spec's runs only
        assert all(_filters(runset)["group"] == GROUPS for runset in grid["runSets"])

    size, curves, teacher = grids
    assert {_filters(runset)["jobType"] for runset in size["runSets"]} == {
        "image",
        "distill",
        "self-distill",
    }
    assert all(_filters(r)["backbone"] == "pixel-patches" for r in size["runSets"])
    [scatter] = _panels(size)
    assert scatter["config"]["xAxis"] == "summary:n_train/seed_0"
    assert scatter["config"]["yAxis"] == "summary:auc/final/mean"

    lines = {tuple(p["config"]["metrics"]): p["config"] for p in _panels(curves)}
    assert {("auc/mean",), ("teacher/auc/mean",)} <= set(lines)
    assert all(config["xAxis"] == "epoch" for config in lines.values())

    axes = [p["config"].get("xAxis") for p in _panels(teacher)]
    assert "summary:teacher/auc/best/mean" in axes
    assert any('"comparison"' in json.dumps(p["config"]) for p in _panels(teacher))

    [findings] = [b["content"] for b in report["blocks"] if b["type"] == "markdown-block"]
    frames = ResultFrames.from_store(ResultsStore(default_store_path(spec_runs.settings)))
    selection = select(frames, spec_run_set(spec_runs.spec, spec_runs.settings.data))
    [finding] = paired_findings(selection.frames.seed_metrics)
    assert "distill - self-distill" in findings and "verdict" in findings
    assert f"{finding.gains[-1].interval.mean:+.3f}" in findings  # the store's numbers

    workspace = json.loads(workspace_view["spec"])["section"]
    assert _filters(workspace["runSets"][0])["group"] == GROUPS
    sections = {s["name"] for s in workspace["panelBankConfig"]["sections"]}
    assert {"AUC against training-set size", "Per-epoch curves", "Teacher and student"} <= sections


def test_the_dashboard_without_a_server_is_one_line(
    spec_runs: SpecRuns, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _dashboard(spec_runs, capsys)  # WANDB_MODE=offline (conftest)
    assert code == 2
    assert out.strip().count("\n") == 0 and "WANDB_API_KEY" in out
