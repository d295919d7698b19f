"""Seeds in chunks: what fits, the retry when memory runs out, the same numbers as one pass."""

import itertools

import numpy as np
import pytest
import torch

from radsweep.errors import TrainingError
from radsweep.training import HeadKind, Method, SeedSplit, TrainConfig, engine, fit
from radsweep.training.chunks import SeedChunks, seeds_per_chunk
from radsweep.training.losses import per_seed_loss
from radsweep.training.optim import StackedAdam
from radsweep.training.results import FitResult
from tests.training.synthetic import seed_splits, token_features

torch.set_flush_denormal(True)
GiB = 2**30


def test_seeds_per_chunk_keeps_every_seeds_state_and_fits_the_steps_beside_it() -> None:
    # 20 GiB free, 90 % usable (18 GiB): 10 seeds keep 1 GiB each, 8 GiB left for 3 GiB steps
    assert seeds_per_chunk(10, 1 * GiB, 3 * GiB, 20 * GiB) == 2
    assert seeds_per_chunk(10, 1 * GiB, 3 * GiB, 20 * GiB, safety=1.0) == 3
    assert seeds_per_chunk(4, 0, 1 * GiB, 100 * GiB) == 4  # never more than the seeds
    assert seeds_per_chunk(10, 2 * GiB, 1 * GiB, 20 * GiB) == 0  # the states alone overflow
    assert seeds_per_chunk(10, 1 * GiB, 9 * GiB, 20 * GiB) == 0  # not one step fits
    # the Adam update runs over all seeds at once beside their state (8 GiB left)
    assert seeds_per_chunk(10, 1 * GiB, 3 * GiB, 20 * GiB, update=GiB // 2) == 2
    assert seeds_per_chunk(10, 1 * GiB, 3 * GiB, 20 * GiB, update=GiB) == 0


def _out_of_memory_above(size: int, seen: list[int]):
    def work(part: slice) -> list[int]:
        seen.append(part.stop - part.start)
        if part.stop - part.start > size:
            raise torch.OutOfMemoryError("CUDA out of memory (injected)")
        return list(range(part.start, part.stop))

    return work


def test_a_slice_that_runs_out_of_memory_is_retried_at_half_the_size() -> None:
    chunks, seen = SeedChunks(5), []
    done = chunks.run(5, _out_of_memory_above(2, seen))
    assert [seed for part in done for seed in part] == [0, 1, 2, 3, 4]
    assert seen == [5, 2, 2, 1]  # 5 fails, then 2, 2 and the last seed
    assert chunks.size == 2  # the rest of the stage keeps the size that fit
    assert chunks.run(3, _out_of_memory_above(2, [])) == [[0, 1], [2]]


def test_the_sizes_that_ran_are_kept_in_order() -> None:
    chunks = SeedChunks(4)
    chunks.run(4, _out_of_memory_above(4, []))
    chunks.run(4, _out_of_memory_above(1, []))  # 4 fails, 2 fails, then one seed at a time
    chunks.run(4, _out_of_memory_above(1, []))
    assert chunks.ran == [4, 1] and chunks.size == 1


def test_chunks_that_do_not_halve_raise_the_out_of_memory_error_as_it_came() -> None:
    seen: list[int] = []
    chunks = SeedChunks(4, halves=False)
    with pytest.raises(torch.OutOfMemoryError, match="injected"):
        chunks.run(4, _out_of_memory_above(2, seen))
    assert seen == [4] and chunks.size == 4 and chunks.ran == []


def test_one_seed_that_does_not_fit_is_a_clear_error() -> None:
    with pytest.raises(TrainingError, match="one seed's training step does not fit"):
        SeedChunks(4).run(4, _out_of_memory_above(0, []))


def _splits() -> list[SeedSplit]:
    data = token_features()
    # Unequal training sizes: seeds finish their epochs after different numbers of steps; test
    # rows: the curves are scored there and the selection curves kept.
    splits = seed_splits(data.samples, [0, 1, 2, 3, 4], [100, 70, 129, 90, 110], validation=70)
    return [SeedSplit(s.seed, s.train, s.validation[:50], s.validation[50:]) for s in splits]


def _assert_same(chunked: FitResult, whole: FitResult) -> None:
    """Curves, the teacher it taught from and every seed's final weights, in seed order."""
    assert chunked.seeds == whole.seeds
    pairs = [(chunked.model, whole.model), (chunked.selection, whole.selection)]
    if whole.teacher is not None:
        pairs.append((chunked.teacher, whole.teacher))
    for got, wanted in pairs:
        assert got is not None and wanted is not None
        for name in ("auc", "auprc", "loss"):
            np.testing.assert_allclose(getattr(got, name), getattr(wanted, name), atol=2e-5)
        np.testing.assert_array_equal(got.selected, wanted.selected)
    if whole.teacher_record is not None:
        assert chunked.teacher_record is not None
        for got, wanted in zip(
            chunked.teacher_record.logits, whole.teacher_record.logits, strict=True
        ):
            np.testing.assert_allclose(got, wanted, atol=1e-4)
    assert chunked.predictor is not None and whole.predictor is not None
    heads = chunked.predictor.model.state_dict()
    for name, value in whole.predictor.model.state_dict().items():
        torch.testing.assert_close(heads[name], value, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    ("method", "head"),
    [
        (Method.IMAGE, HeadKind.ATTENTION),
        (Method.DISTILL, HeadKind.ATTENTION),
        (Method.SELF_DISTILL, HeadKind.MEAN_LP),
    ],
)
def test_seeds_in_chunks_train_what_one_pass_trains(method: Method, head: HeadKind) -> None:
    data, splits = token_features(), _splits()
    config = TrainConfig(method=method, head=head, epochs=3, batch_size=32)
    whole = fit(data, splits, config, device="cpu")
    chunked = fit(data, splits, config.model_copy(update={"seed_chunk": 2}), device="cpu")
    _assert_same(chunked, whole)
    assert chunked.predictor is not None and chunked.predictor.chunks == SeedChunks(2)
    # the chunked model scores new rows as the whole one does
    image = data.image[:, :20] if data.image is not None else None
    np.testing.assert_allclose(
        chunked.predictor.probabilities(image=image),
        whole.predictor.probabilities(image=image),  # type: ignore[union-attr]
        atol=1e-5,
    )


def test_a_step_out_of_memory_after_its_backward_is_undone_and_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The failed slice drew its dropout masks and wrote its gradients before failing: the
    retry rewinds the one and zeroes the other, so the run still trains what one pass does."""
    data, splits = token_features(), _splits()
    config = TrainConfig(method=Method.DISTILL, epochs=2, batch_size=32)
    whole = fit(data, splits, config, device="cpu")
    sizes: list[int] = []

    def failing_loss(logits: torch.Tensor, *args: torch.Tensor) -> torch.Tensor:
        losses = per_seed_loss(logits, *args)
        sizes.append(logits.shape[0])
        if logits.shape[0] > 2:
            losses.sum().backward()
            raise torch.OutOfMemoryError("CUDA out of memory (injected)")
        return losses

    monkeypatch.setattr(engine, "per_seed_loss", failing_loss)
    retried = fit(data, splits, config, device="cpu")
    assert sizes[:4] == [5, 2, 2, 1]  # the teacher's first step: 5 fails, then slices of 2
    # each stage fails once at all five seeds (the student starts whole), then keeps what fit
    assert sizes.count(5) == 2 and sizes[-3:] == [2, 2, 1]
    _assert_same(retried, whole)
    assert whole.seed_chunks == {"teacher": (5,), "student": (5,)}
    assert retried.seed_chunks == {"teacher": (2,), "student": (2,)}  # 5 never completed


class _FakeCuda:
    """CUDA's memory readings for a probe: each seed keeps 1 MB (read after its step), its
    forward and backward or validation chunk peaks 10 MB above that, its Adam update
    ``update`` bytes above it; 30 MB are free."""

    def __init__(self, update: int) -> None:
        # before the probe, after its backward, after its update; then the free memory's reading
        self.allocated = itertools.cycle([0, 10**6, 10**6, 0])
        # after the backward, after the update, after the validation chunk
        self.peaks = itertools.cycle([11 * 10**6, 10**6 + update, 11 * 10**6])
        self.probes = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        fakes = {
            "synchronize": lambda device: None,
            "reset_peak_memory_stats": lambda device: None,
            "memory_allocated": lambda device: next(self.allocated),
            "max_memory_allocated": lambda device: next(self.peaks),
            "memory_reserved": lambda device: 0,
            "mem_get_info": self.free,
        }
        for name, fake in fakes.items():
            monkeypatch.setattr(torch.cuda, name, fake)
        monkeypatch.setattr(engine, "_measures_memory", lambda device: True)

    def free(self, device: torch.device) -> tuple[int, int]:
        self.probes += 1
        return 30 * 10**6, 80 * 10**9


@pytest.mark.parametrize(("update", "chunk"), [(5 * 10**5, 2), (5 * 10**6, 1)])
def test_unset_chunks_come_from_a_measured_seed_and_the_free_memory(
    monkeypatch: pytest.MonkeyPatch, update: int, chunk: int
) -> None:
    """The CUDA probe's path on the CPU, its memory readings stood in for: 30 MB free (27
    usable) fit two seeds' 10 MB steps beside five seeds' 1 MB state, so the run trains in
    chunks of two, to the numbers of one pass; unless the Adam update of all five seeds at once
    (5 MB each: 25 MB) does not fit beside that state either, when it goes one seed at a time
    (the update's own error then names it, see below)."""
    cuda = _FakeCuda(update)
    cuda.install(monkeypatch)
    data, splits = token_features(), _splits()
    config = TrainConfig(method=Method.DISTILL, epochs=2, batch_size=32)
    measured = fit(data, splits, config, device="cpu")
    monkeypatch.undo()
    assert cuda.probes == 2  # the teacher and the student each measure their own step
    assert measured.predictor is not None and measured.predictor.chunks == SeedChunks(chunk)
    assert measured.seed_chunks == {"teacher": (chunk,), "student": (chunk,)}
    if chunk == 2:
        _assert_same(measured, fit(data, splits, config, device="cpu"))


def _out_of_memory(*args: object, **kwargs: object) -> None:
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (injected)")


@pytest.mark.parametrize(
    ("target", "what"),
    [
        ("step", "the Adam update of the model stage ran out of memory on cpu"),
        ("__init__", "Adam state or epoch plans of the model stage ran out of memory on cpu"),
    ],
)
def test_memory_that_runs_out_outside_the_seed_slices_is_one_line(
    monkeypatch: pytest.MonkeyPatch, target: str, what: str
) -> None:
    """The Adam update spans every seed (no slice to halve, and it may have updated some
    tensors), and the parameters and moments are built for every seed: out of memory there
    fails the fit in one line naming the stage, device, seeds and shape, with a hint."""
    monkeypatch.setattr(StackedAdam, target, _out_of_memory)
    data, splits = token_features(), _splits()
    with pytest.raises(TrainingError) as raised:
        fit(data, splits, TrainConfig(epochs=2, batch_size=32), device="cpu")
    line = raised.value.one_line()
    assert what in line and "\n" not in line
    assert "(5 seeds, attention head on 8 x 16 image tokens, batch 32)" in line
    assert "nothing was recorded" in line and raised.value.hint
    assert isinstance(raised.value.__cause__, torch.OutOfMemoryError)
