"""``radsweep sweep specs`` and ``radsweep sweep plan``: what a user sees before a sweep."""

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from radsweep.cli.main import cli


def test_specs_lists_every_packaged_spec_with_its_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["sweep", "specs"]) == 0
    rows = {
        line.split("│")[1].strip(): line
        for line in capsys.readouterr().out.splitlines()
        if line.count("│") >= 3
    }
    assert "fig2-mimic-5x1200" in rows and " 42 " in rows["fig2-mimic-5x1200"]


def test_plan_of_two_specs(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["sweep", "plan", "fig2-mimic-5x1200", "fig3-mimic-5x1200", "--device", "h100"]) == 0
    out = capsys.readouterr().out
    assert "runs: 150 distinct (186 listed; 36 shared between specs)" in out
    assert "feature caches: 8" in out
    assert "image mimic-5x1200     rad-dino" in out and "12.6 GB" in out
    assert "H100 SXM:" in out and "A100" not in out
    assert out.strip().splitlines()[-1].startswith("the paper: about 5,000 T4-hours")


def test_plan_uses_a_saved_bench_result(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = isolated_home / "bench" / "device.json"
    saved.parent.mkdir(parents=True)
    device = {"name": "this CPU", "extract_tflops": 0.1, "train_tflops": 0.05, "source": "bench"}
    saved.write_text(json.dumps(device))
    assert cli(["sweep", "plan", "table7-text-mimic-inspect", "--device", "measured"]) == 0
    assert "this CPU:" in capsys.readouterr().out


def test_plan_of_a_missing_spec_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["sweep", "plan", "no-such-spec"]) == 2
    assert "radsweep sweep specs" in capsys.readouterr().err


NUMBER = {"type": "number", "minimum": 0}
COUNT = {"type": "integer", "minimum": 0}


def _closed(properties: dict[str, object]) -> dict[str, object]:
    """An object with exactly these keys: a renamed or dropped key breaks scripts, so fails here."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


SPECS_SCHEMA = _closed(
    {
        "specs": {
            "type": "array",
            "minItems": 1,
            "items": _closed(
                {
                    "name": {"type": "string"},
                    "path": {"type": "string"},
                    "runs": {"type": "integer", "minimum": 1},
                    "description": {"type": "string"},
                }
            ),
        }
    }
)
HOURS = _closed({"extraction": NUMBER, "training": NUMBER, "total": NUMBER})
PLAN_SCHEMA = _closed(
    {
        "specs": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "runs": _closed({"distinct": COUNT, "listed": COUNT}),
        "caches": {
            "type": "array",
            "items": _closed(
                {
                    "kind": {"enum": ["image", "text"]},
                    "task": {"type": "string"},
                    "encoder": {"type": "string"},
                    "views": {"type": "integer", "minimum": 1},
                    "samples": COUNT,
                    "bytes": COUNT,
                    "flops": NUMBER,
                }
            ),
        },
        "disk": _closed(
            {
                "cache_bytes": COUNT,
                "free_bytes": COUNT,
                "folder": {"type": "string"},
                "fits": {"type": "boolean"},
            }
        ),
        "flops": _closed({"extraction": NUMBER, "training": NUMBER, "validation": NUMBER}),
        "devices": {
            "type": "array",
            "minItems": 1,
            "items": _closed(
                {
                    "name": {"type": "string"},
                    "extract_tflops": NUMBER,
                    "train_tflops": NUMBER,
                    "source": {"type": "string"},
                    "hours": HOURS,
                }
            ),
        },
        "paper_t4_hours": COUNT,
    }
)


def test_specs_json_matches_its_schema_and_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["sweep", "specs", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    Draft202012Validator(SPECS_SCHEMA).validate(listed)
    runs = {spec["name"]: spec["runs"] for spec in listed["specs"]}
    assert runs["fig2-mimic-5x1200"] == 42 and "demo" in runs
    assert all(Path(spec["path"]).is_file() for spec in listed["specs"])


def test_plan_json_matches_its_schema_and_the_text(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["sweep", "plan", "fig2-mimic-5x1200", "fig3-mimic-5x1200", "--device", "h100"]
    assert cli([*args, "--json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    Draft202012Validator(PLAN_SCHEMA).validate(planned)
    assert planned["runs"] == {"distinct": 150, "listed": 186}
    assert len(planned["caches"]) == 8
    assert planned["disk"]["cache_bytes"] == sum(cache["bytes"] for cache in planned["caches"])
    assert planned["flops"]["extraction"] == pytest.approx(
        sum(cache["flops"] for cache in planned["caches"])
    )
    (h100,) = planned["devices"]
    assert h100["name"] == "H100 SXM"
    assert h100["hours"]["total"] == pytest.approx(
        h100["hours"]["extraction"] + h100["hours"]["training"]
    )
    assert cli(args) == 0
    assert f"H100 SXM: {h100['hours']['total']:,.1f} h" in capsys.readouterr().out
