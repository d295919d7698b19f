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
    assert "H100 SXM: " in out and "A100 SXM:" not in out and "[assumed]" in out
    assert "peak memory per backbone" in out and "rad-dino" in out
    assert "T4        fp32 8.1, bf16 runs as fp32" in out  # the assumptions are printed
    assert out.strip().splitlines()[-1].startswith("the paper: about 5,000 T4-hours")


def test_plan_uses_saved_bench_rates(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = isolated_home / "bench" / "gpu-rates.json"
    saved.parent.mkdir(parents=True)
    shape = {
        "backbone": "c2l",
        "tokens": 49,
        "width": 512,
        "seeds": 5,
        "batch": 64,
        "precision": "bf16",
        "train_step_s": 0.002,
        "validation_s_per_row": 1e-6,
        "peak_memory_bytes": 10**8,
        "tflops": 3.0,
    }
    rates = {
        "schema": 1,
        "device_name": "NVIDIA L4",
        "device_kind": "l4",
        "measured_at": "2026-12-07T06:00:00Z",
        "radsweep_version": "0.1.0",
        "shapes": [shape],
    }
    saved.write_text(json.dumps(rates))
    assert cli(["sweep", "plan", "fig2-mimic-5x1200", "--device", "measured"]) == 0
    out = capsys.readouterr().out
    assert "L4: " in out and "[measured on NVIDIA L4 at 2026-12-07T06:00:00Z]" in out
    assert "c2l bf16: step measured 2.00 ms" in out
    assert cli(["sweep", "plan", "fig2-mimic-5x1200", "--precision", "fp32", "--json"]) == 0
    devices = {d["kind"]: d for d in json.loads(capsys.readouterr().out)["devices"]}
    assert devices["l4"]["rates"] == "assumed"  # nothing was measured at fp32
    assert devices["t4"]["ceilings"]["fallback"] == {"bf16": "fp32", "tf32": "fp32"}


def test_plan_refuses_an_unknown_precision(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["sweep", "plan", "demo", "--precision", "fp8"]) == 2
    assert "unknown precision 'fp8'" in capsys.readouterr().err


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
HOURS = _closed(
    {
        name: NUMBER
        for name in (
            "extraction",
            "compute",
            "memory",
            "floor",
            "overhead",
            "disk",
            "upload",
            "total",
        )
    }
)
ASSUMPTION = _closed({"value": NUMBER, "unit": {"type": "string"}, "source": {"type": "string"}})
MEMORY = _closed(
    {
        "backbone": {"type": "string"},
        "run": {"type": "string"},
        "seeds": COUNT,
        "batch": COUNT,
        "peak_bytes": NUMBER,
        "resident_bytes": NUMBER,
        "step_bytes_per_seed": NUMBER,
        "validation_bytes_per_seed": NUMBER,
        "weights_bytes_per_seed": NUMBER,
        "update_bytes_per_seed": NUMBER,
        "usable_bytes": NUMBER,
        "fits": {"type": "boolean"},
        "seeds_per_chunk": COUNT,
    }
)
PLAN_SCHEMA = _closed(
    {
        "specs": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "runs": _closed(
            {
                "distinct": COUNT,
                "listed": COUNT,
                "shared_teachers": COUNT,
                "grouped_students": COUNT,
            }
        ),
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
                "rows_read_bytes": COUNT,
                "caches_read_bytes": COUNT,
                "upload_bytes": COUNT,
                "kept_heads_bytes": COUNT,
                "upload_runs": COUNT,
            }
        ),
        "flops": _closed({"extraction": NUMBER, "training": NUMBER, "validation": NUMBER}),
        "assumptions": {"type": "object", "additionalProperties": ASSUMPTION, "minProperties": 8},
        "devices": {
            "type": "array",
            "minItems": 1,
            "items": _closed(
                {
                    "kind": {"type": "string"},
                    "name": {"type": "string"},
                    "precision": {"enum": [None, "fp32", "tf32", "bf16"]},
                    "rates": {"type": "string"},
                    "ceilings": _closed(
                        {
                            "peak_tflops": {"type": "object", "additionalProperties": NUMBER},
                            "fallback": {"type": "object"},
                            "extract_tflops_peak": NUMBER,
                            "memory_bytes": NUMBER,
                            "bandwidth_bytes_per_s": NUMBER,
                            "source": {"type": "string"},
                        }
                    ),
                    "achieved": _closed(
                        {
                            "shares": {"type": "object", "additionalProperties": NUMBER},
                            "source": {"type": "string"},
                        }
                    ),
                    "floors": _closed({"step_s": NUMBER, "validation_chunk_s": NUMBER}),
                    "hours": HOURS,
                    "fp32_hours": HOURS,
                    "runnable_runs": COUNT,
                    "chunked_runs": COUNT,
                    "cannot_run": {"type": "array", "items": {"type": "string"}},
                    "memory": {"type": "array", "items": MEMORY},
                    "calibrations": {"type": "array"},
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
    assert planned["runs"] == {
        "distinct": 150,
        "listed": 186,
        "shared_teachers": 0,
        "grouped_students": 0,
    }
    assert len(planned["caches"]) == 8
    assert planned["disk"]["cache_bytes"] == sum(cache["bytes"] for cache in planned["caches"])
    assert planned["flops"]["extraction"] == pytest.approx(
        sum(cache["flops"] for cache in planned["caches"])
    )
    (h100,) = planned["devices"]
    assert h100["name"] == "H100 SXM" and h100["rates"] == "assumed"
    parts = {name: hours for name, hours in h100["hours"].items() if name != "total"}
    assert h100["hours"]["total"] == pytest.approx(sum(parts.values()))
    assert all(peak <= 989 for peak in h100["ceilings"]["peak_tflops"].values())
    assert cli(args) == 0
    assert f"H100 SXM: {h100['hours']['total']:,.1f} h" in capsys.readouterr().out
