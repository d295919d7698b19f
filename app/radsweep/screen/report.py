"""The screen as data: what ``radsweep screen --json`` prints and the terminal shows.

Numbers and settings only (AUCs, gains, sample counts, thresholds): nothing of a report or an
image. The terminal's text is drawn from the same model, so the two cannot disagree.
"""

from typing import Any

from pydantic import BaseModel

from radsweep.runs.summary import json_count, json_number
from radsweep.screen.task import ScreenAnswer
from radsweep.screen.verdict import Thresholds, group_rules
from radsweep.training.config import Method


class Rule(BaseModel):
    """One rule: the number it read (as printed and as a number), its line, crossed or not."""

    rule: str
    value: str
    number: float | None
    threshold: str
    crossed: bool


class RuleGroup(BaseModel):
    """A family of rules (modalities, probes, headroom, control) and the thresholds it uses."""

    group: str
    thresholds: str
    rules: list[Rule]


class Quantity(BaseModel):
    """One row of the screen's table: an AUC or a paired gain, with its interval."""

    quantity: str
    fraction: float
    train_samples: int | None
    mean: float | None
    ci95_low: float | None
    ci95_high: float | None
    seeds: int | None


class Step(BaseModel):
    """One training step of the screen: its configuration's key, and whether it was stored."""

    method: str
    fraction: float
    key: str
    reused: bool
    seconds: float


class ScreenReport(BaseModel):
    """Everything a screen found: the verdict first, then its evidence and what it rests on."""

    task: str
    verdict: str
    advice: str
    notes: list[str]
    cannot_run: list[str]
    evidence: list[RuleGroup]
    fractions: list[float]
    settings: dict[str, Any]
    numbers: list[Quantity]
    steps: list[Step]
    not_run: list[str]
    limits: list[str]
    spec: str | None
    spec_runs: int
    wandb_dir: str | None
    spec_notes: list[str]
    seconds: float
    cpu_seconds: float


def _evidence(answer: ScreenAnswer, thresholds: Thresholds) -> list[RuleGroup]:
    rules = answer.screen.judgement.evidence
    return [
        RuleGroup(
            group=group.value,
            thresholds=text,
            rules=[
                Rule(
                    rule=rule.rule,
                    value=rule.value,
                    number=rule.number,
                    threshold=rule.threshold,
                    crossed=rule.crossed,
                )
                for rule in rules
                if rule.group is group
            ],
        )
        for group, text in group_rules(thresholds).items()
        if any(rule.group is group for rule in rules)
    ]


def _settings(answer: ScreenAnswer) -> dict[str, Any]:
    """The options as given, and the training settings the runs resolved them to."""
    screen = answer.screen
    settings = screen.options.model_dump(mode="json")
    if screen.fractions:
        config = screen.options.run_config(Method.DISTILL, screen.fractions[0], screen.options.head)
        resolved = config.resolve(screen.task)
        settings |= {"epochs": resolved.epochs, "lr": resolved.lr, "tau": resolved.tau}
        settings |= {"lam": resolved.lam}
    return settings


def screen_report(answer: ScreenAnswer, thresholds: Thresholds | None = None) -> ScreenReport:
    """``answer`` as one document, in the order a reader needs it."""
    screen, judgement = answer.screen, answer.screen.judgement
    thresholds = thresholds or Thresholds()
    return ScreenReport(
        task=screen.task.name,
        verdict=judgement.verdict.value,
        advice=judgement.advice,
        notes=list(judgement.notes),
        cannot_run=list(screen.cannot_run),
        evidence=_evidence(answer, thresholds),
        fractions=list(screen.fractions),
        settings=_settings(answer),
        numbers=[
            Quantity(
                quantity=str(row.quantity),
                fraction=float(str(row.fraction)),
                train_samples=json_count(row.train_samples),
                mean=json_number(row.mean),
                ci95_low=json_number(row.ci95_low),
                ci95_high=json_number(row.ci95_high),
                seeds=json_count(row.seeds),
            )
            for row in answer.table.itertuples(index=False)
        ],
        steps=[
            Step(
                method=run.step.config.method.value,
                fraction=run.step.config.fraction,
                key=run.key,
                reused=run.reused,
                seconds=run.seconds,
            )
            for run in screen.runs
        ],
        not_run=[step.purpose for step in screen.not_run],
        limits=list(screen.limits),
        spec=str(answer.spec) if answer.spec is not None else None,
        spec_runs=answer.spec_runs,
        wandb_dir=answer.wandb_dir,
        spec_notes=list(answer.notes),
        seconds=screen.seconds,
        cpu_seconds=screen.cpu_seconds,
    )
