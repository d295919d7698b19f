"""The screen's verdict: which of the paper's three task structures the numbers point to.

The paper found that whether reports help depends on how the report relates to the label:

* when the label was extracted from the report, a text-only model is near perfect (its Table 7:
  text AUC 96-99 on MIMIC 5x1200 against 80-84 for the best image model), and distillation gains
  no more than self-distillation (its Figures 3c and 7; privileged information that is too
  predictive of the label does not distil well). Reports pay off there through pre-training.
* on prognostic tasks the report carries part of the patient state the image lacks; distillation
  then beats self-distillation at small training sizes (its Figure 3a, Readmission).
* on Age the image is far more predictive than the report (text 79-81 against image 92-95) and
  the teacher is worse than image-only for every backbone (its Appendix B.5): nothing to distil.

Each rule below is one of those observations turned into a threshold: the report determines the
label when text-only is near perfect and well ahead of image-only (and distillation did not beat
self-distillation) on a task whose label is read off the report; on a task declared prognostic the
same numbers mean the report strongly predicts the outcome (the advice is the same, the cause is
not); it adds information the image lacks when reading it beats not reading it (the
image + report probe over the image probe on the full pool, the attention teacher over image-only
at a small fraction, or distillation over self-distillation); otherwise it carries little.
A verdict that rests on the control is **inconclusive** when the seeds cannot carry it: when
image-only is near chance (nothing for the teacher to improve on) or the control's interval
contains zero and is wider than the smallest gain worth acting on (the rules of
``radsweep.results.findings``); the verdict then names the number that made it so and what to
change. ``judge`` applies them to measured numbers only, so the logic is testable on constructed
ones.
"""

from dataclasses import dataclass
from enum import StrEnum

from radsweep.results.findings import Finding
from radsweep.stats import Interval
from radsweep.tasks.spec import TaskKind


class Verdict(StrEnum):
    """The three answers the screen gives."""

    DETERMINES = "the report determines the label"
    PREDICTS = "the report strongly predicts the outcome"
    ADDS = "the report adds information the image lacks"
    LITTLE = "the report carries little"
    INCONCLUSIVE = "inconclusive"


ADVICE = {
    Verdict.DETERMINES: (
        "distillation is unlikely to help; prefer image backbones pre-trained with text"
    ),
    Verdict.PREDICTS: (
        "distillation is unlikely to help: privileged information this predictive does not "
        "distil well (the paper's Figures 3c and 7); a text-only model, where reports exist at "
        "prediction time, or image backbones pre-trained with text"
    ),
    Verdict.ADDS: "distillation likely helps at small training sizes",
    Verdict.LITTLE: "skip the report: the image carries what the report says about the label",
    Verdict.INCONCLUSIVE: "the runs cannot carry a verdict: the note says what to change",
}


@dataclass(frozen=True)
class Thresholds:
    """Where the rules draw their lines (AUC units); docs/screen.md gives the paper's numbers.

    ``determines_auc``: text-only AUC from which the report all but fixes the label (the paper's
    report-extracted labels score 96-99; none of its other tasks reaches 81).
    ``determines_margin``: how far text-only must lead image-only too (16 points on MIMIC
    5x1200; at most 2.5 points ahead, or behind, on every other task of the paper).
    ``min_gain``: the smallest paired gain worth acting on, one AUC point; a gain must also have
    its whole 95 % t-interval above zero (on every benchmark draw that was run). A control whose
    interval contains zero and is wider than this is not resolved.
    ``near_chance``: image-only AUC below which the control cannot be read (no signal to distil
    into).
    """

    determines_auc: float = 0.90
    determines_margin: float = 0.05
    min_gain: float = 0.01
    near_chance: float = 0.55


@dataclass(frozen=True)
class Modalities:
    """Text-only and image-only AUC across seeds at the full training pool (the paper's Table
    7), and the median training and validation samples per seed behind them."""

    text: Interval
    image: Interval
    added: Interval | None = None  # image + report probe minus image-only probe, paired by seed
    train: int = 0
    validation: int = 0

    @property
    def lead(self) -> float:
        """How far the report alone is ahead of the image alone."""
        return self.text.mean - self.image.mean


@dataclass(frozen=True)
class Headroom:
    """Teacher (image + report) minus image-only, paired by seed, at one training fraction."""

    fraction: float
    gain: Interval


class Group(StrEnum):
    """The rules' families, each printed with its thresholds: how much each modality says
    (probes on the full pool), what the joint probe adds, the teacher's headroom, the control."""

    MODALITIES = "modalities"
    PROBES = "probes"
    HEADROOM = "headroom"
    CONTROL = "control"


@dataclass(frozen=True)
class Evidence:
    """One rule: the number it read (as printed, and as a number), the line it compares with,
    whether it crossed it, and the rule's family."""

    rule: str
    value: str
    threshold: str
    crossed: bool
    group: Group = Group.CONTROL
    number: float | None = None


@dataclass(frozen=True)
class Judgement:
    """The verdict, the advice that goes with it, every rule's evidence, and extra notes."""

    verdict: Verdict
    advice: str
    evidence: tuple[Evidence, ...]
    notes: tuple[str, ...] = ()


def group_rules(thresholds: Thresholds) -> dict[Group, str]:
    """Each family of rules with its thresholds, as the screen prints them beside its numbers."""
    gain = f"interval > 0 and mean >= {thresholds.min_gain:+.2f}"
    return {
        Group.MODALITIES: (
            f"the report determines the label (predicts the outcome): text-only probe >= "
            f"{thresholds.determines_auc:.2f} and ahead of image-only by >= "
            f"{thresholds.determines_margin:.2f}, and the control shows no gain"
        ),
        Group.PROBES: f"the report adds information: image + report probe over image-only, {gain}",
        Group.HEADROOM: (
            f"the report adds information: teacher over image-only, {gain}, where image-only "
            f"AUC >= {thresholds.near_chance:.2f}"
        ),
        Group.CONTROL: (
            f"distillation helped: distill over self-distill, {gain}, and over image-only, on "
            f"every draw; readable when image-only AUC >= {thresholds.near_chance:.2f} and the "
            f"interval resolves {thresholds.min_gain:.2f} (or excludes 0)"
        ),
    }


def _significant(gain: Interval, thresholds: Thresholds) -> bool:
    """A paired gain whose interval lies above zero and whose mean is worth acting on."""
    return gain.n >= 2 and gain.low > 0 and gain.mean >= thresholds.min_gain


def _interval(gain: Interval) -> str:
    if gain.n < 2:
        return f"{gain.mean:+.3f} (one seed)"
    return f"{gain.mean:+.3f} ({gain.low:+.3f}, {gain.high:+.3f})"


def distillation_helped(finding: Finding, thresholds: Thresholds) -> bool:
    """Distillation beat both image-only and self-distillation (the control), paired by seed,
    on every benchmark draw the finding pools."""
    held, draws = finding.replicated
    return (
        _significant(finding.control_gain, thresholds)
        and finding.distill_gain.low > 0
        and held == draws
    )


def unreadable(findings: list[Finding], thresholds: Thresholds) -> str | None:
    """Why the control cannot carry a verdict, with what to change; None when it can."""
    chance = _near_chance(findings, thresholds)
    if chance is not None:
        return chance
    for finding in findings:
        control = finding.control_gain
        unresolved = control.n >= 2 and control.low <= 0 <= control.high
        if unresolved and control.half_width > max(thresholds.min_gain, abs(control.mean)):
            return (
                f"the control at fraction {finding.fraction:g} is not resolved: "
                f"{_interval(control)} with {control.n} seeds could detect only gains >= "
                f"{control.half_width:.3f}; run more seeds (about "
                f"{_seeds_for(control, thresholds.min_gain)} for {thresholds.min_gain:.2f})"
            )
        held, draws = finding.replicated
        if draws and 0 < held < draws:
            return (
                f"the control at fraction {finding.fraction:g} excluded 0 on {held} of {draws} "
                "benchmark draws: run more seeds per draw"
            )
    return None


def _seeds_for(control: Interval, effect: float) -> int:
    """Seeds whose interval half-width would reach ``effect`` at the observed spread (the
    half-width shrinks as 1/sqrt(n); the t quantile's own change is ignored)."""
    return max(control.n, int(control.n * (control.half_width / effect) ** 2 + 0.999))


def _determines(modalities: Modalities, thresholds: Thresholds) -> list[Evidence]:
    return [
        Evidence(
            "text-only AUC (full pool)",
            f"{modalities.text.mean:.3f}",
            f">= {thresholds.determines_auc:.2f}",
            modalities.text.mean >= thresholds.determines_auc,
            Group.MODALITIES,
            modalities.text.mean,
        ),
        Evidence(
            "text-only minus image-only AUC (full pool)",
            f"{modalities.lead:+.3f}",
            f">= {thresholds.determines_margin:+.2f}",
            modalities.lead >= thresholds.determines_margin,
            Group.MODALITIES,
            modalities.lead,
        ),
    ]


def _added(modalities: Modalities, thresholds: Thresholds) -> list[Evidence]:
    if modalities.added is None:
        return []
    return [
        Evidence(
            "image + report probe minus image-only probe (full pool)",
            _interval(modalities.added),
            f"interval > 0, mean >= {thresholds.min_gain:+.2f}",
            _significant(modalities.added, thresholds),
            Group.PROBES,
            modalities.added.mean,
        )
    ]


def _headroom(headroom: list[Headroom], thresholds: Thresholds) -> list[Evidence]:
    return [
        Evidence(
            f"teacher minus image-only at fraction {point.fraction:g}",
            _interval(point.gain),
            f"interval > 0, mean >= {thresholds.min_gain:+.2f}",
            _significant(point.gain, thresholds),
            Group.HEADROOM,
            point.gain.mean,
        )
        for point in headroom
    ]


def _control(findings: list[Finding], thresholds: Thresholds) -> list[Evidence]:
    return [
        Evidence(
            f"distill minus self-distill at fraction {finding.fraction:g}",
            _interval(finding.control_gain),
            f"interval > 0, mean >= {thresholds.min_gain:+.2f}, distill gain > 0",
            distillation_helped(finding, thresholds),
            Group.CONTROL,
            finding.control_gain.mean,
        )
        for finding in findings
    ]


def _readable(findings: list[Finding], thresholds: Thresholds) -> list[Evidence]:
    """What the control can be read on: image-only above chance, and an interval narrow enough
    to resolve the smallest gain worth acting on (or to exclude 0)."""
    rules = []
    for finding in findings:
        where = f"at fraction {finding.fraction:g}"
        rules.append(
            Evidence(
                f"image-only AUC {where} (the control needs signal to distil into)",
                f"{finding.image:.3f}",
                f">= {thresholds.near_chance:.2f}",
                finding.image >= thresholds.near_chance,
                Group.CONTROL,
                finding.image,
            )
        )
        control = finding.control_gain
        if control.n >= 2:
            rules.append(
                Evidence(
                    f"control's half-width {where} (the smallest gain its seeds resolve)",
                    f"{control.half_width:.3f}",
                    f"<= {thresholds.min_gain:.2f}, or the interval excludes 0",
                    not control.low <= 0 <= control.high
                    or control.half_width <= max(thresholds.min_gain, abs(control.mean)),
                    Group.CONTROL,
                    control.half_width,
                )
            )
    return rules


def _where(findings: list[Finding], ahead: list[Evidence], thresholds: Thresholds) -> str:
    """Where and by how much distillation helped, or what the screen saw instead."""
    helped = [finding for finding in findings if distillation_helped(finding, thresholds)]
    if helped:
        parts = [
            f"fraction {finding.fraction:g}: {finding.control_gain.mean:+.3f} AUC over "
            f"self-distillation, {finding.distill_gain.mean:+.3f} over image-only"
            for finding in helped
        ]
        return "distillation helped at " + "; ".join(parts)
    shown = "; ".join(f"{rule.rule}: {rule.value}" for rule in ahead if rule.crossed)
    if not findings:
        return f"the report adds to the image ({shown}); the control did not run"
    tried = ", ".join(f"{finding.fraction:g}" for finding in findings)
    return (
        f"the report adds to the image ({shown}), but distillation did not beat "
        f"self-distillation at fraction {tried}: the sweep's τ/λ grid and sizes test whether it can"
    )


def judge(
    modalities: Modalities | None,
    headroom: list[Headroom],
    findings: list[Finding],
    thresholds: Thresholds = Thresholds(),
    kind: TaskKind | None = None,
    not_run: tuple[str, ...] = (),
) -> Judgement:
    """The verdict from the screen's numbers; every rule's evidence is returned with it.

    A measured gain outranks the a-priori rule: a report that looks decisive but whose
    distillation beat self-distillation is judged on that gain. ``kind`` is the task's declared
    kind: a decisive report on a prognostic task predicts the outcome, it does not determine a
    label read off it. ``not_run`` says why arms could not run (too few images at a fraction).
    No verdict outruns the arms: with image-only near chance, or no control at all, only the
    a-priori rule (or a measured gain) decides, else the verdict is inconclusive; a report
    that adds to the image with a control the seeds cannot read says so in its note; "little"
    needs a control that resolves the smallest gain worth acting on.
    """
    determines = _determines(modalities, thresholds) if modalities else []
    added = _added(modalities, thresholds) if modalities else []
    at_chance = {f.fraction for f in findings if f.image < thresholds.near_chance}
    room = [point for point in headroom if point.fraction not in at_chance]
    ahead = added + _headroom(room, thresholds)
    control = _control(findings, thresholds)
    shown = _headroom(headroom, thresholds)  # every fraction's, near chance or not
    evidence = tuple(determines + added + shown + control + _readable(findings, thresholds))
    decisive = bool(determines) and all(rule.crossed for rule in determines)
    helped = any(rule.crossed for rule in control)
    missing = _missing_control(findings, not_run)
    if decisive and not helped:
        verdict = Verdict.PREDICTS if kind is TaskKind.PROGNOSTIC else Verdict.DETERMINES
        rule_only = (f"a-priori rule only: {missing}",) if missing else ()
        return Judgement(verdict, ADVICE[verdict], evidence, rule_only)
    if missing is not None:
        unrun = tuple(not_run) or (missing,)  # every arm that could not run, and why
        return Judgement(Verdict.INCONCLUSIVE, ADVICE[Verdict.INCONCLUSIVE], evidence, unrun)
    chance = None if helped else _near_chance(findings, thresholds)
    if chance is not None:
        return Judgement(Verdict.INCONCLUSIVE, ADVICE[Verdict.INCONCLUSIVE], evidence, (chance,))
    adds = any(rule.crossed for rule in ahead)
    trailed = _trailed(findings) if adds and not helped else None
    if trailed is not None:
        return Judgement(Verdict.INCONCLUSIVE, ADVICE[Verdict.INCONCLUSIVE], evidence, (trailed,))
    if helped or adds:
        notes = [_where(findings, ahead, thresholds)]
        if decisive:
            notes.append(
                "the report alone is near decisive, where the paper saw distillation fail; "
                "here it helped all the same"
            )
        return Judgement(Verdict.ADDS, ADVICE[Verdict.ADDS], evidence, tuple(notes))
    why = unreadable(findings, thresholds)
    if why is not None:
        return Judgement(Verdict.INCONCLUSIVE, ADVICE[Verdict.INCONCLUSIVE], evidence, (why,))
    return Judgement(Verdict.LITTLE, ADVICE[Verdict.LITTLE], evidence)


def _trailed(findings: list[Finding]) -> str | None:
    """Where distillation fell measurably behind image-only: whatever the probes or the teacher
    say the report adds, the arm that would use it lost accuracy, so "likely helps" would outrun
    the evidence."""
    for finding in findings:
        gain = finding.distill_gain
        if gain.high < 0:
            return (
                f"distillation trailed image-only at fraction {finding.fraction:g} "
                f"({gain.mean:+.3f} [{gain.low:+.3f}, {gain.high:+.3f}]) although the report "
                "adds to the image: the arms disagree with the probes; try the written sweep's "
                "τ/λ grid and sizes, or screen with more images"
            )
    return None


def _missing_control(findings: list[Finding], not_run: tuple[str, ...]) -> str | None:
    """Why no control can be read: the arms could not run (the first reason), or did not."""
    if findings:
        return None
    if not_run:
        return not_run[0]
    return "the control did not run: rerun the screen without --budget-minutes, or with more"


def _near_chance(findings: list[Finding], thresholds: Thresholds) -> str | None:
    """The first screened fraction whose image-only arm is near chance, with what to change."""
    for finding in findings:
        if finding.image < thresholds.near_chance:
            return (
                f"image-only AUC {finding.image:.3f} at fraction {finding.fraction:g} is near "
                f"chance (< {thresholds.near_chance:.2f}): use a larger training fraction, more "
                "epochs or another image backbone"
            )
    return None
