"""Train every seed of one configuration in one vectorized pass.

Each seed has its own initialisation, training subset, validation set, batch order, view draws and
dropout masks, all drawn from generators derived from (seed, stage), never from a shared stream;
parameters are stacked over seeds and stepped by a per-seed Adam. So a pass over S seeds computes
what S separate runs compute (the tests check it), while the features stay on the device, batches
are gathered there, and the per-epoch metrics stay there until the stage ends. A step too large
for the device's memory runs its seeds a chunk at a time (``training.chunks``), to the same
numbers.
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from radsweep.devices import resolve_device
from radsweep.errors import TrainingError
from radsweep.training.allocator import keep_freed_memory
from radsweep.training.chunks import SeedChunks, seeds_per_chunk
from radsweep.training.config import Precision, TrainConfig
from radsweep.training.heads import HeadInput, build_head
from radsweep.training.inputs import SeedSplit, TrainingData, check_inputs
from radsweep.training.layers import SeedDropout, normalise_tokens
from radsweep.training.losses import mixed_targets, per_seed_loss, teacher_targets
from radsweep.training.metrics import batched_auc, batched_auprc
from radsweep.training.optim import StackedAdam
from radsweep.training.precision import autocast, float32_matmuls, for_device
from radsweep.training.registry import head_spec
from radsweep.training.results import Curves, Evaluation, FitResult
from radsweep.training.teacher import TeacherRecord


@dataclass(frozen=True)
class EpochEvent:
    """One finished epoch of one stage: each seed's training loss and validation AUC/AUPRC
    (NaN on epochs not validated), ``[S]`` tensors left on the training device, so a listener
    that ignores them costs nothing. ``cached``: replayed from a stored teacher's curves, not
    trained now."""

    stage: str
    epoch: int  # 1-based
    epochs: int
    loss: torch.Tensor
    auc: torch.Tensor
    auprc: torch.Tensor
    cached: bool = False


# Called once per finished epoch.
Progress = Callable[[EpochEvent], None]
_EVAL_BATCH = 256
_LOAD_CHUNK = 1024  # samples normalised at a time when features are loaded: bounded memory


def derived_seed(seed: int, *purpose: str) -> int:
    """A 63-bit seed for one purpose of one seed, stable across machines and seed counts."""
    text = "\x1f".join([str(seed), *purpose]).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest()) >> 1


def _generators(
    splits: Sequence[SeedSplit], *purpose: str, device: str = "cpu"
) -> list[torch.Generator]:
    return [
        torch.Generator(device=device).manual_seed(derived_seed(split.seed, *purpose))
        for split in splits
    ]


def training_views(views: int) -> range:
    """Views drawn in training: the augmented ones, or the centre view if there are none."""
    return range(1, views) if views > 1 else range(1)


@dataclass(frozen=True)
class DeviceFeatures:
    """The features on the device, in the form the heads read (moved and normalised once)."""

    labels: torch.Tensor
    views: int
    image: torch.Tensor | None
    text: torch.Tensor | None
    text_mask: torch.Tensor | None

    @classmethod
    def load(
        cls, data: TrainingData, config: TrainConfig, device: torch.device, text: bool
    ) -> "DeviceFeatures":
        """Move what ``config`` reads (and the text when ``text``) to ``device``; tokens are
        kept in bf16 for bf16 heads, which read them in bf16 anyway (half the gather traffic,
        no cast per product), else in their own dtype."""
        mask, normalise = data.text_mask, config.normalise_tokens
        reads_image = config.method.needs_image
        bf16 = for_device(config.precision, device) is Precision.BF16
        dtype = torch.bfloat16 if bf16 else None
        return cls(
            labels=data.labels.to(device),
            views=data.views,
            image=(
                _image_input(data, config.head, device, normalise, dtype) if reads_image else None
            ),
            text=(
                _normalised(data.text, device, 0, normalise, dtype=dtype)
                if text and data.text is not None
                else None
            ),
            text_mask=mask.to(device) if text and mask is not None else None,
        )

    def without_text(self) -> "DeviceFeatures":
        return replace(self, text=None, text_mask=None)

    @property
    def training_views(self) -> range:
        return training_views(self.views)

    def batch(self, rows: torch.Tensor, views: torch.Tensor | int) -> HeadInput:
        """Gather ``[S, B]`` rows (each at its own view) into one head input."""
        image = _float_rows(self.image, rows, views) if self.image is not None else None
        text = _float_rows(self.text, rows) if self.text is not None else None
        mask = self.text_mask[rows] if self.text_mask is not None else None
        return HeadInput(image=image, text=text, text_mask=mask)


def _float_rows(
    source: torch.Tensor, rows: torch.Tensor, views: torch.Tensor | int | None = None
) -> torch.Tensor:
    """``source[views, rows]`` (``source[rows]`` without views) as ``[S, B, ...]``: float32, or
    bfloat16 from a bfloat16 source (the tokens of bf16 heads), gathered as they are.

    float16 sources are gathered and converted to float32 seed by seed, so a seed's rows are
    converted while they are still in cache: converting all seeds' rows in one pass ran at a
    quarter of the speed at ViT-B shape on a 2-core CPU.
    """

    def gather(seed: int | slice) -> torch.Tensor:
        if views is None:
            return source[rows[seed]]
        return source[views if isinstance(views, int) else views[seed], rows[seed]]

    if source.dtype in (torch.float32, torch.bfloat16):
        return gather(slice(None))
    sample_shape = source.shape[1:] if views is None else source.shape[2:]
    stacked = torch.empty((*rows.shape, *sample_shape), dtype=torch.float32, device=source.device)
    for seed in range(rows.shape[0]):
        stacked[seed].copy_(gather(seed))
    return stacked


def _image_input(
    data: TrainingData,
    head: str,
    device: torch.device,
    normalise: bool,
    dtype: torch.dtype | None = None,
) -> torch.Tensor | None:
    """The image features the head reads, normalised once (tokens then in ``dtype``); pooled
    to one float32 vector per sample when the head's spec pools (Mean-LP's mean over tokens,
    CLS-LP's CLS token)."""
    spec = head_spec(head)
    source = getattr(data, spec.features)
    if source is None:
        return None
    return _normalised(source, device, 1, normalise, then=spec.pool, dtype=dtype)


def _normalised(
    tokens: torch.Tensor,
    device: torch.device,
    dim: int,
    normalise: bool = True,
    then: Callable[[torch.Tensor], torch.Tensor] | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Frozen tokens LayerNorm'd without affine once (unless not ``normalise``), on ``device``,
    chunked along the sample ``dim`` for bounded memory; then ``then`` (by default: to
    ``dtype``, else back to their own dtype, so half-precision caches stay half in memory)."""
    finish = then or (lambda normalised: normalised.to(dtype or tokens.dtype))
    prepare = normalise_tokens if normalise else (lambda chunk: chunk.float())
    chunks = tokens.split(_LOAD_CHUNK, dim=dim)
    return torch.cat([finish(prepare(chunk.to(device))) for chunk in chunks], dim)


@dataclass(frozen=True)
class EpochPlan:
    """One epoch's batches for every seed, built on the host and moved to the device at once."""

    rows: torch.Tensor  # [steps, S, B]
    views: torch.Tensor  # [steps, S, B]
    weights: torch.Tensor  # [steps, S, B]: 1 real sample, 0 padding
    active: np.ndarray  # [steps, S] host copy: seeds with a batch at this step
    active_device: torch.Tensor


def _plan_epoch(
    splits: Sequence[SeedSplit],
    generators: list[np.random.Generator],
    batch_size: int,
    views: range,
    device: torch.device,
) -> EpochPlan:
    steps = max(-(-len(split.train) // batch_size) for split in splits)
    shape = (steps, len(splits), batch_size)
    rows, chosen = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
    weights = np.zeros(shape, np.float32)
    for s, (split, rng) in enumerate(zip(splits, generators, strict=True)):
        n = len(split.train)
        order = np.zeros(steps * batch_size, np.int64)
        order[:n] = split.train[rng.permutation(n)]
        drawn = np.full(steps * batch_size, views.start, np.int64)
        drawn[:n] = rng.integers(views.start, views.stop, size=n)
        rows[:, s] = order.reshape(steps, batch_size)
        chosen[:, s] = drawn.reshape(steps, batch_size)
        weights[:, s] = (np.arange(steps * batch_size) < n).reshape(steps, batch_size)
    active = np.asarray(weights.any(axis=2))
    return EpochPlan(
        rows=torch.from_numpy(rows).to(device),
        views=torch.from_numpy(chosen).to(device),
        weights=torch.from_numpy(weights).to(device),
        active=active,
        active_device=torch.from_numpy(active).to(device),
    )


def _padded(index_sets: list[np.ndarray], device: torch.device) -> tuple[torch.Tensor, ...]:
    longest = max(len(rows) for rows in index_sets)
    rows = np.zeros((len(index_sets), longest), np.int64)
    valid = np.zeros((len(index_sets), longest), bool)
    for s, chosen in enumerate(index_sets):
        rows[s, : len(chosen)], valid[s, : len(chosen)] = chosen, True
    return torch.from_numpy(rows).to(device), torch.from_numpy(valid).to(device)


def seed_slice(model: nn.Module, part: slice, seeds: int) -> Callable[..., torch.Tensor]:
    """``model`` restricted to the seeds of ``part``: its parameters sliced (views: gradients
    flow into the stacked ones); the model itself when ``part`` holds every seed."""
    if SeedChunks.whole(part, seeds):
        return model
    parameters = {name: value[part] for name, value in model.named_parameters()}
    return lambda *inputs: functional_call(model, parameters, inputs)


@torch.no_grad()
def predict(
    model: nn.Module,
    features: DeviceFeatures,
    rows: torch.Tensor,
    view: int = 0,
    precision: Precision = Precision.FP32,
    chunks: SeedChunks | None = None,
) -> torch.Tensor:
    """Float32 logits ``[S, M, K]`` of each seed's model on its rows ``[S, M]``, without
    dropout, the forward passes computed in ``precision``, ``chunks`` seeds at a time."""
    seeds = rows.shape[0]

    def logits_of(part: slice) -> torch.Tensor:
        sliced, pieces = seed_slice(model, part, seeds), []
        for chunk in rows[part].split(_EVAL_BATCH, dim=1):
            with autocast(precision, rows.device):
                pieces.append(sliced(features.batch(chunk, view)).float())
        return torch.cat(pieces, dim=1)

    parts = (chunks or SeedChunks(seeds)).run(seeds, logits_of)
    return parts[0] if len(parts) == 1 else torch.cat(parts)


@dataclass
class _Stage:
    """One trained stage: its model and curves, plus its best-epoch parameters if kept."""

    model: nn.Module
    curves: Curves
    best_state: dict[str, torch.Tensor] | None
    selection: Curves | None = None  # the validation curves, when ``curves`` are test curves
    chunks: SeedChunks | None = None  # seeds per slice at the stage's end


class StageTrainer:
    """One stage (a model, a teacher or a student) of every seed, and its optimisation step."""

    def __init__(
        self,
        features: DeviceFeatures,
        classes: int,
        splits: Sequence[SeedSplit],
        config: TrainConfig,
        stage: str,
        soft_targets: torch.Tensor | None = None,
        chunks: SeedChunks | None = None,
        lam: torch.Tensor | None = None,
    ) -> None:
        """``lam``: each seed's own λ ``[S]`` (students of a grid trained together), instead
        of ``config.lam`` for all."""
        self.features, self.classes, self.splits = features, classes, splits
        self.config, self.soft_targets, self.stage = config, soft_targets, stage
        self.chunks = chunks or SeedChunks(len(splits))
        self.device = features.labels.device
        self.lam = config.lam if lam is None else lam.to(self.device).view(-1, 1, 1)
        self.precision = for_device(config.precision, self.device)
        image_dim = int(features.image.shape[-1]) if features.image is not None else None
        text_dim = int(features.text.shape[-1]) if features.text is not None else None
        generators = _generators(splits, stage, "init")
        self.model = build_head(
            config.method, config.head, image_dim, text_dim, classes, generators
        ).to(self.device)
        self.optimizer = StackedAdam(list(self.model.parameters()), lr=config.learning_rate)
        self.dropout_generators = _generators(splits, stage, "dropout", device=self.device.type)
        self.order_generators = [
            np.random.default_rng(derived_seed(split.seed, stage, "order")) for split in splits
        ]

    def plan_epoch(self) -> EpochPlan:
        return _plan_epoch(
            self.splits,
            self.order_generators,
            self.config.batch_size,
            self.features.training_views,
            self.device,
        )

    def step(self, plan: EpochPlan, index: int) -> torch.Tensor:
        """One Adam step of every seed with a batch at ``index``; returns each seed's loss."""
        losses = self.backward(plan, index)
        self.update(plan, index)
        return losses

    def backward(self, plan: EpochPlan, index: int) -> torch.Tensor:
        """Every seed's gradients at step ``index`` and its loss: forward and backward run
        ``self.chunks`` seeds at a time into the stacked gradients."""
        self.optimizer.zero_grad()
        losses = self.chunks.run(len(self.splits), lambda part: self._backward(plan, index, part))
        return losses[0] if len(losses) == 1 else torch.cat(losses)

    def update(self, plan: EpochPlan, index: int) -> None:
        """The Adam update of every seed with a batch at ``index``. It spans all seeds at once
        and may have updated some tensors when memory runs out, so it is never retried in
        smaller slices: running out fails the run, in one line."""
        try:
            self.optimizer.step(None if plan.active[index].all() else plan.active_device[index])
        except torch.OutOfMemoryError as error:
            raise out_of_memory(
                "the Adam update",
                self.stage,
                self.features,
                len(self.splits),
                self.config,
                hint="train fewer seeds at once (--seed-chunk cuts activations, not the update "
                "of every seed), use fewer tokens (--pool), or a device with more memory",
            ) from error

    def _backward(self, plan: EpochPlan, index: int, part: slice) -> torch.Tensor:
        """Gradients of the seeds in ``part``; on running out of memory, their dropout streams
        are rewound and their gradients zeroed, so a retry computes what this would have."""
        streams = self.dropout_generators[part]
        states = [generator.get_state() for generator in streams]
        try:
            return self._slice_backward(plan, index, part)
        except torch.OutOfMemoryError:
            for generator, state in zip(streams, states, strict=True):
                generator.set_state(state)
            for parameter in self.model.parameters():
                if parameter.grad is not None:
                    parameter.grad[part] = 0.0
            raise

    def _slice_backward(self, plan: EpochPlan, index: int, part: slice) -> torch.Tensor:
        rows, views = plan.rows[index][part], plan.views[index][part]
        weights = plan.weights[index][part]
        streams = self.dropout_generators[part]
        dropout = SeedDropout(self.config.dropout, streams, plan.active[index][part])
        model = seed_slice(self.model, part, len(self.splits))
        with autocast(self.precision, self.device):
            logits = model(self.features.batch(rows, views), dropout)
        logits = logits.float()  # the loss, its gradient's start and the metrics: float32
        soft = None
        if self.soft_targets is not None:
            seed_index = torch.arange(rows.shape[0], device=self.device)[:, None]
            soft = self.soft_targets[part][seed_index, views, rows]
        lam = self.lam[part] if isinstance(self.lam, torch.Tensor) else self.lam
        targets = mixed_targets(self.features.labels[rows], self.classes, soft, lam)
        seed_losses = per_seed_loss(logits, targets, weights)
        seed_losses.sum().backward()
        return seed_losses.detach() * weights.sum(1)

    def epoch(self) -> torch.Tensor:
        """One epoch of every seed; each seed's mean training loss ``[S]``."""
        plan = self.plan_epoch()
        total = sum(self.step(plan, index) for index in range(plan.rows.shape[0]))
        assert isinstance(total, torch.Tensor)
        sizes = torch.tensor([len(split.train) for split in self.splits], device=self.device)
        return total / sizes

    def validation_rows(self, split: SeedSplit) -> np.ndarray:
        """The seed's validation rows, or its fixed random subset when the config asks for one."""
        wanted = self.config.validation_samples
        if wanted is None or len(split.validation) <= wanted:
            return split.validation
        rng = np.random.default_rng(derived_seed(split.seed, "validation-subset"))
        return np.sort(rng.choice(split.validation, wanted, replace=False))

    def validates(self, epoch: int) -> bool:
        """Every ``validate_every`` epochs, and always after the last one."""
        last = epoch == self.config.epochs - 1
        return last or (epoch + 1) % self.config.validate_every == 0

    def train(self, keep_best: bool, progress: Progress | None, stage: str) -> _Stage:
        """All epochs, validating on schedule (NaN metrics between); optionally keep each
        seed's best-AUC parameters among the validated epochs. Seeds with test rows are scored
        there too: the stage's curves are then the test curves, with the validation-chosen
        epoch, and the validation curves are kept as its ``selection``."""
        selection = _Scorer.of([self.validation_rows(split) for split in self.splits], self)
        tests = [split.test for split in self.splits if split.test is not None]
        scored = _Scorer.of(tests, self) if tests else None
        seeds, epochs = len(self.splits), self.config.epochs
        loss = torch.zeros(seeds, epochs, device=self.device)
        best_auc = torch.full((seeds,), -1.0, device=self.device)
        parameters = self.model.named_parameters()
        best_state = {n: p.detach().clone() for n, p in parameters} if keep_best else None
        for epoch in range(epochs):
            loss[:, epoch] = self.epoch()
            if self.validates(epoch):
                auc = selection.score(self, epoch, loss[:, epoch], stage)
                if scored is not None:
                    scored.score(self, epoch, loss[:, epoch], stage)
                if best_state is not None:
                    improved = auc > best_auc
                    best_auc = torch.where(improved, auc, best_auc)
                    _keep_best(self.model, best_state, improved)
            if progress is not None:  # what the run reports: the test rows where there are any
                shown = scored or selection
                at = (loss[:, epoch], shown.auc[:, epoch], shown.auprc[:, epoch])
                progress(EpochEvent(stage, epoch + 1, epochs, *at))
        chosen = selection.curves(loss)
        if scored is None:
            return _Stage(self.model, chosen, best_state, chunks=self.chunks)
        curves = replace(scored.curves(loss), selected=chosen.best_epoch)
        return _Stage(self.model, curves, best_state, selection=chosen, chunks=self.chunks)


class _Scorer:
    """One set of rows per seed, scored after validated epochs into ``[S, epochs]`` curves."""

    def __init__(self, rows: torch.Tensor, valid: torch.Tensor, labels: torch.Tensor, epochs: int):
        self.rows, self.valid, self.labels = rows, valid, labels
        shape = (rows.shape[0], epochs)
        self.auc = torch.full(shape, torch.nan, device=rows.device)
        self.auprc = torch.full(shape, torch.nan, device=rows.device)

    @classmethod
    def of(cls, index_sets: list[np.ndarray], trainer: "StageTrainer") -> "_Scorer":
        rows, valid = _padded(index_sets, trainer.device)
        return cls(rows, valid, trainer.features.labels[rows], trainer.config.epochs)

    def score(
        self, trainer: "StageTrainer", epoch: int, loss: torch.Tensor, stage: str
    ) -> torch.Tensor:
        """AUC and AUPRC of every seed at ``epoch``; returns the AUC ``[S]``."""
        logits = predict(
            trainer.model,
            trainer.features,
            self.rows,
            precision=trainer.precision,
            chunks=trainer.chunks,
        )
        probabilities = logits.softmax(-1)
        _require_finite(loss, probabilities, trainer.splits, stage, epoch)
        self.auc[:, epoch] = batched_auc(probabilities, self.labels, self.valid)
        self.auprc[:, epoch] = batched_auprc(probabilities, self.labels, self.valid)
        return self.auc[:, epoch]

    def curves(self, loss: torch.Tensor) -> Curves:
        return Curves(
            auc=self.auc.cpu().numpy(), auprc=self.auprc.cpu().numpy(), loss=loss.cpu().numpy()
        )


def _require_finite(
    loss: torch.Tensor,
    probabilities: torch.Tensor,
    splits: Sequence[SeedSplit],
    stage: str,
    epoch: int,
) -> None:
    """A diverged seed fails the whole run: its NaN AUC must never reach the results store."""
    finite = torch.isfinite(loss) & torch.isfinite(probabilities).flatten(1).all(1)
    if bool(finite.all()):
        return
    seeds = [split.seed for split, ok in zip(splits, finite.tolist(), strict=True) if not ok]
    raise TrainingError(
        f"training diverged: the {stage} loss or predictions became NaN/inf at epoch "
        f"{epoch + 1} (seeds {', '.join(map(str, seeds))}); nothing was recorded",
        hint="lower --lr (e.g. 1e-4), or check the features with `radsweep features verify`",
    )


def _keep_best(model: nn.Module, best: dict[str, torch.Tensor], improved: torch.Tensor) -> None:
    for name, parameter in model.named_parameters():
        shape = (-1,) + (1,) * (parameter.dim() - 1)
        best[name].copy_(torch.where(improved.view(shape), parameter.detach(), best[name]))


def _train_stage(
    features: DeviceFeatures,
    data: TrainingData,
    splits: Sequence[SeedSplit],
    config: TrainConfig,
    stage: str,
    soft_targets: torch.Tensor | None = None,
    *,
    keep_best: bool = False,
    progress: Progress | None = None,
    lam: torch.Tensor | None = None,
) -> _Stage:
    """One stage's training, its seeds (or a grid's members, each with its own ``lam``) in
    chunks that fit the device."""
    chunk = config.seed_chunk or _seeds_that_fit(
        features, data.classes, splits, config, stage, soft_targets
    )
    chunks = SeedChunks(chunk)
    try:
        trainer = StageTrainer(
            features, data.classes, splits, config, stage, soft_targets, chunks, lam
        )
        return trainer.train(keep_best, progress, stage)
    except torch.OutOfMemoryError as error:  # outside the slices, which halve on their own
        raise out_of_memory(
            "the parameters, Adam state or epoch plans",
            stage,
            features,
            len(splits),
            config,
            hint="set --seed-chunk 1, lower --batch-size, train fewer seeds, or use a device "
            "with more memory",
        ) from error


def out_of_memory(
    what: str,
    stage: str,
    features: DeviceFeatures,
    seeds: int,
    config: TrainConfig,
    hint: str,
) -> TrainingError:
    """The one-line error of ``what`` running out of the device's memory in a stage of
    ``seeds`` seeds (or students x seeds members) on ``features``."""
    return TrainingError(
        f"{what} of the {stage} stage ran out of memory on {features.labels.device} "
        f"({seeds} seeds, {config.head} head on {_shape(features)}, batch "
        f"{config.batch_size}); nothing was recorded",
        hint=hint,
    )


def _shape(features: DeviceFeatures) -> str:
    """What a head reads, as a message names it: ``197 x 768 image tokens``, say."""
    if features.image is not None:
        *_, tokens, width = features.image.shape
        if features.image.dim() == 4:
            return f"{tokens} x {width} image tokens"
        return f"{width}-wide image features"
    assert features.text is not None
    return f"{features.text.shape[-2]} x {features.text.shape[-1]} text tokens"


def _seeds_that_fit(
    features: DeviceFeatures,
    classes: int,
    splits: Sequence[SeedSplit],
    config: TrainConfig,
    stage: str,
    soft_targets: torch.Tensor | None,
) -> int:
    """On CUDA, how many seeds' steps fit at once: one seed measured against the free memory
    (``chunks.seeds_per_chunk``). Every seed elsewhere: the CPU has no limit to honour."""
    device = features.labels.device
    if not _measures_memory(device) or len(splits) == 1:
        return len(splits)
    soft = None if soft_targets is None else soft_targets[:1]

    def probe(_: slice) -> tuple[int, int, int]:
        return _probe_memory(features, classes, splits[0], config, stage, soft)

    # one slice of one seed: running out of memory here is the one-line error of a seed too large
    [(resident, step, update)] = SeedChunks(1).run(1, probe)
    free, _ = torch.cuda.mem_get_info(device)
    free += torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    return max(1, seeds_per_chunk(len(splits), resident, step, free, update=update))


def _measures_memory(device: torch.device) -> bool:
    """Whether ``device`` has a memory limit to measure and honour (a CUDA GPU)."""
    return device.type == "cuda"


def _probe_memory(
    features: DeviceFeatures,
    classes: int,
    split: SeedSplit,
    config: TrainConfig,
    stage: str,
    soft_targets: torch.Tensor | None,
) -> tuple[int, int, int]:
    """Bytes one seed keeps (parameters, gradients, Adam moments: ``StackedAdam`` allocates
    them when built, so the first step is no larger than the others), the most its forward and
    backward or a validation chunk adds on top, and the most its Adam update adds on top (the
    update runs over every seed at once, so it is counted apart). Measured on a throwaway
    one-seed trainer (its own generators: the run's are untouched). CUDA only."""
    device = features.labels.device
    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    probe = StageTrainer(features, classes, [split], config, stage, soft_targets)
    plan = probe.plan_epoch()
    probe.backward(plan, 0)
    gradients, peak = torch.cuda.memory_allocated(device), torch.cuda.max_memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    probe.update(plan, 0)
    update = torch.cuda.max_memory_allocated(device) - gradients
    resident = torch.cuda.memory_allocated(device) - before
    rows, _ = _padded([probe.validation_rows(split)[:_EVAL_BATCH]], device)
    predict(probe.model, features, rows, precision=probe.precision)
    peak = max(peak, torch.cuda.max_memory_allocated(device))
    return resident, peak - before - resident, update


def _teacher_record(
    teacher: _Stage,
    features: DeviceFeatures,
    splits: Sequence[SeedSplit],
    used: np.ndarray,
    config: TrainConfig,
) -> TeacherRecord:
    """The best-epoch teacher's logits on every seed's training rows at every training view,
    with its curves; rows as the caller's (``used`` maps compacted rows back to them)."""
    assert teacher.best_state is not None
    teacher.model.load_state_dict(teacher.best_state)
    rows, _ = _padded([split.train for split in splits], features.labels.device)
    views = features.training_views
    precision = for_device(config.precision, rows.device)
    logits = torch.stack(
        [predict(teacher.model, features, rows, view, precision, teacher.chunks) for view in views],
        1,
    )
    host = logits.cpu().numpy()  # [S, V, M, K]
    return TeacherRecord(
        seeds=tuple(split.seed for split in splits),
        views=tuple(views),
        rows=tuple(used[split.train] for split in splits),
        logits=tuple(host[s, :, : len(split.train)] for s, split in enumerate(splits)),
        curves=teacher.curves,
        selection=teacher.selection,
    )


def _soft_targets(
    record: TeacherRecord, features: DeviceFeatures, position: np.ndarray, tau: float
) -> torch.Tensor:
    """g^τ of the record's logits for every training row and view: ``[S, V, N, K]`` (zero
    where a seed never trains); ``position`` maps the record's rows to the fit's."""
    device, samples = features.labels.device, features.labels.shape[0]
    shape = (len(record.seeds), features.views, samples, record.classes)
    targets = torch.zeros(shape, device=device)
    for s, (rows, logits) in enumerate(zip(record.rows, record.logits, strict=True)):
        index = torch.from_numpy(position[rows]).to(device)
        for v, view in enumerate(record.views):
            stored = torch.from_numpy(logits[v]).to(device)
            targets[s, view, index] = teacher_targets(stored, tau)
    return targets


def _replay(curves: Curves, stage: str, progress: Progress | None) -> None:
    """Tell ``progress`` a stored stage's epochs, as ``cached`` events."""
    if progress is None:
        return
    epochs = curves.auc.shape[1]
    for epoch in range(epochs):
        loss, auc, auprc = (
            torch.from_numpy(values[:, epoch]) for values in (curves.loss, curves.auc, curves.auprc)
        )
        progress(EpochEvent(stage, epoch + 1, epochs, loss, auc, auprc, cached=True))


class Predictor:
    """Every seed's trained model at its final epoch, to score rows it was not validated on.

    ``probabilities`` takes plain tensors (or arrays) shaped like ``TrainingData``'s and returns
    ``[S, N, K]``; ``evaluate`` adds each seed's AUC, AUPRC and, when asked, accuracy.
    ``chunks``: the seeds per slice its training ended with (None: all at once).
    """

    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig,
        classes: int,
        device: torch.device,
        chunks: SeedChunks | None = None,
    ) -> None:
        self.model, self.config, self.classes, self.device = model, config, classes, device
        self.chunks = chunks

    def probabilities(self, **inputs: torch.Tensor | np.ndarray | None) -> np.ndarray:
        """Class probabilities ``[S, N, K]`` for ``image`` / ``image_cls`` / ``text`` /
        ``text_mask`` given as in ``TrainingData`` (the centre view, view 0, is scored)."""
        given = {name: _as_tensor(value) for name, value in inputs.items()}
        samples = _samples(**given)
        labels = torch.zeros(samples, dtype=torch.long)
        # the inputs name TrainingData's tensor fields; a wrong name fails as a TypeError
        data = TrainingData(labels=labels, classes=self.classes, **given)  # type: ignore[arg-type]
        text = self.config.method.needs_text
        features = DeviceFeatures.load(data, self.config, self.device, text=text)
        seeds = next(self.model.parameters()).shape[0]
        rows = torch.arange(samples, device=self.device).expand(seeds, samples)
        precision = for_device(self.config.precision, self.device)
        logits = predict(self.model, features, rows, precision=precision, chunks=self.chunks)
        return logits.softmax(-1).cpu().numpy()

    def evaluate(
        self, labels: torch.Tensor | np.ndarray, accuracy: bool = False, **inputs: torch.Tensor
    ) -> Evaluation:
        """Probabilities and each seed's metrics on ``labels`` (held-out rows, new arrays)."""
        probabilities = torch.from_numpy(self.probabilities(**inputs))
        target = torch.as_tensor(labels).long().expand(probabilities.shape[:2])
        valid = torch.ones_like(target, dtype=torch.bool)
        hits = (probabilities.argmax(-1) == target).float().mean(1) if accuracy else None
        return Evaluation(
            probabilities=probabilities.numpy(),
            auc=batched_auc(probabilities, target, valid).numpy(),
            auprc=batched_auprc(probabilities, target, valid).numpy(),
            accuracy=None if hits is None else hits.numpy(),
        )


def _samples(
    image: torch.Tensor | None = None,
    image_cls: torch.Tensor | None = None,
    text: torch.Tensor | None = None,
    text_mask: torch.Tensor | None = None,
) -> int:
    """How many samples ``TrainingData``-shaped inputs hold (views, if any, come first)."""
    if image is not None:
        return int(image.shape[-3])
    if image_cls is not None:
        return int(image_cls.shape[-2])
    if text is not None:
        return int(text.shape[0])
    raise TrainingError("nothing to predict from: pass image, image_cls or text")


def _as_tensor(value: torch.Tensor | np.ndarray | None) -> torch.Tensor | None:
    return torch.as_tensor(value) if value is not None else None


def fit(
    data: TrainingData,
    splits: Sequence[SeedSplit],
    config: TrainConfig,
    device: str | torch.device | None = None,
    progress: Progress | None = None,
    teacher: TeacherRecord | None = None,
) -> FitResult:
    """Train all seeds of ``config``; for distillation, the teacher first, then the student.

    The teacher the student learns from is each seed's teacher at its best validation AUC epoch
    (the paper's Appendix A); its tempered probabilities are computed once per training row and
    view, then read as fixed targets. ``teacher``, a record of the same teacher a fit returned
    before (``FitResult.teacher_record``), stands in for training it: the student then learns
    exactly what it would have, and ``progress`` hears the teacher's epochs as ``cached``. When
    ``data.teacher_probabilities`` is given, those are the targets and no teacher is trained:
    any teacher the caller has (a privileged-only model, a larger model, precomputed soft
    labels) can teach. The result's ``predictor`` scores new rows.
    """
    check_inputs(data, splits, config)
    data, splits, used, chosen, precision = prepare_fit(data, splits, config, device, teacher)
    # the result's config names the precision that ran, not "the device's default"
    config = config.model_copy(update={"precision": precision})
    with float32_matmuls(precision, chosen):
        return _fit(data, splits, used, config, chosen, progress, teacher)


def prepare_fit(
    data: TrainingData,
    splits: Sequence[SeedSplit],
    config: TrainConfig,
    device: str | torch.device | None,
    teacher: TeacherRecord | None,
) -> tuple[TrainingData, list[SeedSplit], np.ndarray, torch.device, Precision]:
    """What every fit does first: check a given teacher against the seeds, keep only the rows
    the seeds use (``_compact``), choose the device and the precision that runs on it."""
    if teacher is not None:
        teacher.check(splits, data.classes, training_views(data.views))
    data, compacted, used = _compact(data, splits)
    chosen = resolve_device(device)
    if chosen.type == "cpu":
        keep_freed_memory()
    return data, compacted, used, chosen, for_device(config.precision, chosen)


def _fit(
    data: TrainingData,
    splits: Sequence[SeedSplit],
    used: np.ndarray,
    config: TrainConfig,
    chosen: torch.device,
    progress: Progress | None,
    teacher: TeacherRecord | None,
) -> FitResult:
    if not config.method.distils:
        features = DeviceFeatures.load(data, config, chosen, text=config.method.needs_text)
        stage = _train_stage(features, data, splits, config, "model", progress=progress)
        return _result(splits, config, data, stage, chosen, chunks=chunks_ran(model=stage))
    if data.teacher_probabilities is not None:
        features = DeviceFeatures.load(data, config, chosen, text=False)
        soft = _supplied_targets(data.teacher_probabilities, len(splits), features.views, chosen)
        student = _train_stage(features, data, splits, config, "student", soft, progress=progress)
        return _result(splits, config, data, student, chosen, chunks=chunks_ran(student=student))
    trained = None
    if teacher is None:
        teacher_config = config.teacher_config()
        features = DeviceFeatures.load(
            data, teacher_config, chosen, text=teacher_config.method.needs_text
        )
        trained = _train_stage(
            features, data, splits, teacher_config, "teacher", keep_best=True, progress=progress
        )
        teacher = _teacher_record(trained, features, splits, used, config)
        features = features.without_text()
    else:
        features = DeviceFeatures.load(data, config, chosen, text=False)
        _replay(teacher.curves, "teacher", progress)
    position = np.full(int(used.max()) + 1, -1, np.int64)
    position[used] = np.arange(len(used))
    soft = _soft_targets(teacher, features, position, config.tau)
    student = _train_stage(features, data, splits, config, "student", soft, progress=progress)
    chunks = chunks_ran(teacher=trained, student=student)
    return _result(splits, config, data, student, chosen, teacher, chunks)


def chunks_ran(**stages: "_Stage | None") -> dict[str, tuple[int, ...]]:
    """Each stage trained now (None: not trained, such as a stored teacher) and the seeds per
    slice it ran (``FitResult.seed_chunks``)."""
    return {
        name: tuple(stage.chunks.ran)
        for name, stage in stages.items()
        if stage is not None and stage.chunks is not None
    }


def _supplied_targets(
    probabilities: torch.Tensor, seeds: int, views: int, device: torch.device
) -> torch.Tensor:
    """The caller's ``[N, K]`` or ``[S, N, K]`` targets as the ``[S, V, N, K]`` the trainer
    indexes (a broadcast view: every view of a sample shares its target)."""
    targets = probabilities.to(device=device, dtype=torch.float32)
    if targets.dim() == 2:
        targets = targets.unsqueeze(0)
    return targets.unsqueeze(1).expand(seeds, views, *targets.shape[1:])


def _result(
    splits: Sequence[SeedSplit],
    config: TrainConfig,
    data: TrainingData,
    stage: _Stage,
    device: torch.device,
    teacher: TeacherRecord | None = None,
    chunks: dict[str, tuple[int, ...]] | None = None,
) -> FitResult:
    predictor = Predictor(stage.model, config, data.classes, device, stage.chunks)
    return FitResult(
        seed_chunks=chunks or {},
        **_sizes(splits),
        config=config,
        model=stage.curves,
        teacher=None if teacher is None else teacher.curves,
        selection=stage.selection,
        predictor=predictor,
        teacher_record=teacher,
    )


def _compact(
    data: TrainingData, splits: Sequence[SeedSplit]
) -> tuple[TrainingData, list[SeedSplit], np.ndarray]:
    """Keep only the rows some seed uses, so a small fraction of a large cache moves to the
    device as a small tensor (and memory-mapped caches are read once, here); the rows kept,
    sorted (compacted row ``i`` is the caller's row ``used[i]``)."""
    used = np.unique(
        np.concatenate([np.concatenate([s.train, s.validation, s.scored]) for s in splits])
    )
    position = np.full(data.samples, -1, np.int64)
    position[used] = np.arange(len(used))
    index = torch.from_numpy(used)

    def rows(tensor: torch.Tensor | None, axis: int) -> torch.Tensor | None:
        return None if tensor is None else tensor.index_select(axis, index)

    probabilities = data.teacher_probabilities
    compact = replace(
        data,
        teacher_probabilities=rows(probabilities, probabilities.dim() - 2)
        if probabilities is not None
        else None,
        labels=data.labels[index],
        image=rows(data.image, 1),
        image_cls=rows(data.image_cls, 1),
        text=rows(data.text, 0),
        text_mask=rows(data.text_mask, 0),
    )
    remapped = [
        SeedSplit(
            s.seed,
            position[s.train],
            position[s.validation],
            None if s.test is None else position[s.test],
        )
        for s in splits
    ]
    return compact, remapped, used


def _sizes(splits: Sequence[SeedSplit]) -> dict[str, tuple[int, ...]]:
    return {
        "seeds": tuple(split.seed for split in splits),
        "train_sizes": tuple(len(split.train) for split in splits),
        "validation_sizes": tuple(len(split.scored) for split in splits),
    }
