import pytest
from pydantic import ValidationError

from radsweep.tasks.spec import Averaging, RandomSplit, TaskKind, TaskSpec, TrainingSize


def _task(**changes: object) -> TaskSpec:
    fields: dict[str, object] = {
        "name": "my-task",
        "title": "Mine",
        "kind": TaskKind.PROGNOSTIC,
        "classes": ("no", "yes"),
        "split": RandomSplit(validation_share=0.2),
        "sizes": (TrainingSize(fraction=0.1, epochs=10), TrainingSize(fraction=0.5, epochs=5)),
    }
    return TaskSpec.model_validate(fields | changes)


def test_averaging_follows_class_count() -> None:
    assert _task().averaging is Averaging.BINARY
    assert _task(classes=("a", "b", "c")).averaging is Averaging.MICRO


def test_repeated_classes_are_rejected() -> None:
    with pytest.raises(ValidationError, match="repeat"):
        _task(classes=("a", "a"))


def test_fractions_must_increase() -> None:
    sizes = (TrainingSize(fraction=0.5, epochs=5), TrainingSize(fraction=0.1, epochs=10))
    with pytest.raises(ValidationError, match="increasing"):
        _task(sizes=sizes)


@pytest.mark.parametrize("name", ["Has Space", "UPPER", "", "-dash-first"])
def test_task_names_are_slugs(name: str) -> None:
    with pytest.raises(ValidationError):
        _task(name=name)


def test_size_lookup_exact_and_nearest() -> None:
    task = _task()
    assert task.size(0.1).epochs == 10
    assert task.size(0.4) == TrainingSize(fraction=0.4, epochs=5)


def test_task_round_trips_through_json() -> None:
    task = _task()
    assert TaskSpec.model_validate_json(task.model_dump_json()) == task
