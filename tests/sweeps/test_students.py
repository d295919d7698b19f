"""``sweep local`` trains a τ/λ grid in one pass, and records each run as the ungrouped run."""

from pathlib import Path

import numpy as np
import pytest

from radsweep.results.store import ResultsStore, default_store_path
from radsweep.runs import students
from radsweep.runs.config import RunConfig
from radsweep.settings import Settings
from radsweep.sweeps.local import run_local
from radsweep.sweeps.queue import JobQueue, JobState, queue_path
from radsweep.tasks.synthetic import SynthBenchmark
from tests.runs.grid import grid, image_only, stored_numbers


def test_a_grid_is_run_grouped_to_the_numbers_of_its_runs_alone(
    small_benchmark: SynthBenchmark,
    grid_alone: dict[str, list[np.ndarray]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(home=tmp_path / "home", data_dir=small_benchmark.directory.parent)
    passes: list[list[tuple[float, float]]] = []
    fit_students = students.fit_students

    def counted(data, splits, configs, **options):  # type: ignore[no-untyped-def]
        passes.append([(config.tau, config.lam) for config in configs])
        return fit_students(data, splits, configs, **options)

    monkeypatch.setattr(students, "fit_students", counted)
    configs = [*grid(), image_only()]
    final = run_local("grid", configs, settings, device="cpu")

    assert final[JobState.DONE] == 5 and sum(final.values()) == 5
    assert passes == [[(0.5, 0.3), (0.5, 0.8), (2.0, 0.3), (2.0, 0.8)]]  # one pass: the grid
    runs = list((settings.wandb / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(runs) == 5  # one W&B run per configuration
    with JobQueue(queue_path(settings.results)) as queue:
        keys = [job.run_key for job in queue.jobs("grid")]
    store = ResultsStore(default_store_path(settings))
    assert len(store.runs()) == 5 and store.runs()["wandb_run_id"].notna().all()
    assert sorted(keys) == sorted(grid_alone)  # the runs alone have the same keys
    for key in keys:
        for grouped, own in zip(stored_numbers(store, key), grid_alone[key], strict=True):
            np.testing.assert_allclose(grouped, own, atol=2e-5)


def test_a_claim_takes_the_oldest_job_with_the_pending_students_of_its_group(
    tmp_path: Path,
) -> None:
    many = RunConfig.model_validate(grid()[0].model_dump() | {"seeds": tuple(range(40))})
    other_fraction = grid()[0].model_copy(update={"fraction": 0.5})
    jobs = [
        grid("image")[0],
        *grid(),
        other_fraction,
        *(many.model_copy(update={"tau": tau}) for tau in (0.1, 0.2, 0.3)),
    ]
    with JobQueue(tmp_path / "queue.sqlite") as queue:
        queue.enqueue("a", jobs)
        queue.enqueue("b", grid())
        claimed = [queue.claim_students("w", "a") for _ in range(5)]
        assert queue.claim_students("w", "a") == []
        left = queue.claim_students("w")
    assert (
        [[job.config for job in group] for group in claimed]
        == [
            [jobs[0]],  # no teacher: alone
            grid(),  # the grid, not the other fraction, not spec b's
            [other_fraction],
            jobs[6:8],  # 40 seeds each: two fit in one pass of at most 100 seeds
            jobs[8:],
        ]
    )
    assert [job.spec for job in left] == ["b"] * 4
    assert all(job.attempts == 1 and job.wandb_run for group in claimed for job in group)
