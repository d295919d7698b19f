"""``sweep plan`` counts the work a τ/λ grid's students share only where they train together."""

from dataclasses import replace
from pathlib import Path

import pytest

from radsweep.sweeps.plan import DEVICES, load_plan, project
from radsweep.sweeps.plan.devices import DISK_BYTES_PER_S
from radsweep.sweeps.plan.projection import run_memory, run_seconds, student_floors
from radsweep.training.config import Method


def test_students_share_reads_and_step_floors_only_when_grouped(tmp_path: Path) -> None:
    grouped = load_plan(["fig17-tau-mimic-5x1200"], False, tmp_path)
    alone = load_plan(["fig17-tau-mimic-5x1200"], False, tmp_path, grouped=False)
    distilled = [run for run in grouped.runs if run.config.method is Method.DISTILL]
    groups = {run.config.student_group_key() for run in distilled}
    assert len(distilled) > len(groups) > 1
    assert all(run.students == len(distilled) // len(groups) > 1 for run in distilled)
    assert grouped.grouped_students == len(distilled) and alone.grouped_students == 0
    assert all(run.students == 1 for run in alone.runs)
    assert all(run.students == 1 for run in grouped.runs if run.config.method is Method.IMAGE)
    assert grouped.rows_read < alone.rows_read

    device = DEVICES["h100"]
    lower = []
    for run in (run for run in distilled if run.shared_teacher):  # a student stage alone
        fits = run_memory(run, device, None)
        share = student_floors(run, fits)
        # its share of the pass's step floors: 1/students when every member fits at once; a
        # pass that must run its members in chunks pays a floor per chunk
        assert share is not None and 1 / run.students <= share < 1
        together = run_seconds(run, device, "bf16", fits.chunks, student_floors=share)
        by_itself = run_seconds(replace(run, students=1), device, "bf16", fits.chunks)
        assert together.disk == pytest.approx(by_itself.disk / run.students)
        read = run.rows_read
        assert by_itself.disk == pytest.approx(read / DISK_BYTES_PER_S)
        assert together.compute == by_itself.compute and together.memory == by_itself.memory
        assert together.floor <= by_itself.floor
        lower.append(together.floor < by_itself.floor)
    assert any(lower)  # small steps wait on the host: the pass waits once for its students
    assert project(grouped, device).seconds.total < project(alone, device).seconds.total
