"""The verdict's rules on constructed numbers: each threshold, and which rule outranks which."""

import math
from dataclasses import replace

from radsweep.results.findings import Finding
from radsweep.screen.verdict import Headroom, Modalities, Thresholds, Verdict, judge
from radsweep.stats import Interval
from radsweep.tasks.spec import TaskKind


def gain(mean: float, half: float = 0.01, n: int = 5) -> Interval:
    if n < 2:
        return Interval(mean, math.nan, math.nan, 0.95, n)
    return Interval(mean, mean - half, mean + half, 0.95, n)


def modalities(text: float, image: float) -> Modalities:
    return Modalities(text=gain(text), image=gain(image), train=1000, validation=400)


def finding(fraction: float, distill: Interval, control: Interval) -> Finding:
    return Finding(
        backbone="pixel-patches",
        task="t",
        fraction=fraction,
        image=0.6,
        teacher=0.7,
        distill=0.6 + distill.mean,
        self_distill=0.6 + distill.mean - control.mean,
        distill_gain=distill,
        self_distill_gain=gain(distill.mean - control.mean),
        control_gain=control,
    )


NO_GAIN = gain(0.0, 0.005)  # resolved: a gain of one AUC point would have shown
WIDE = gain(0.004, 0.02)  # not resolved: could detect only gains >= 0.02
HELPED = gain(0.04, 0.01)


def test_a_decisive_report_without_a_distillation_gain_determines_the_label() -> None:
    judged = judge(
        modalities(text=0.97, image=0.80),
        [Headroom(0.05, gain(0.15))],  # a strong teacher does not make distillation useful
        [finding(0.05, gain(0.01, 0.02), NO_GAIN)],
    )
    assert judged.verdict is Verdict.DETERMINES
    assert "pre-trained with text" in judged.advice
    text_rule, margin_rule = judged.evidence[:2]
    assert text_rule.crossed and text_rule.value == "0.970" and text_rule.threshold == ">= 0.90"
    assert margin_rule.crossed and margin_rule.value == "+0.170"


def test_text_auc_just_below_the_line_is_not_decisive() -> None:
    judged = judge(modalities(text=0.89, image=0.70), [], [finding(0.05, NO_GAIN, NO_GAIN)])
    assert judged.verdict is Verdict.LITTLE
    assert not judged.evidence[0].crossed


def test_a_decisive_report_must_also_lead_the_image() -> None:
    # Text-only at 0.93 but the image at 0.95 (like Age, where the image wins): not decisive.
    judged = judge(modalities(text=0.93, image=0.95), [], [finding(0.05, NO_GAIN, NO_GAIN)])
    assert judged.verdict is Verdict.LITTLE
    assert judged.evidence[0].crossed and not judged.evidence[1].crossed


def test_teacher_headroom_means_the_report_adds_information() -> None:
    judged = judge(
        modalities(text=0.75, image=0.70),
        [Headroom(0.05, gain(0.05, 0.02)), Headroom(0.1, gain(0.0, 0.02))],
        [finding(0.05, NO_GAIN, NO_GAIN), finding(0.1, NO_GAIN, NO_GAIN)],
    )
    assert judged.verdict is Verdict.ADDS
    assert "small training sizes" in judged.advice
    headroom = [rule for rule in judged.evidence if rule.rule.startswith("teacher")]
    assert [rule.crossed for rule in headroom] == [True, False]
    assert "teacher minus image-only at fraction 0.05: +0.050" in judged.notes[0]
    assert "did not beat self-distillation at fraction 0.05, 0.1" in judged.notes[0]


def test_a_report_that_adds_while_distillation_trails_image_only_is_inconclusive() -> None:
    # Seen on a 300-study synthetic task: teacher +0.153 over image-only, distill -0.074
    # [-0.101, -0.047]: "distillation likely helps" would contradict the arm that measured it.
    judged = judge(
        modalities(text=0.75, image=0.70),
        [Headroom(0.25, gain(0.15, 0.09))],
        [finding(0.25, gain(-0.074, 0.027), gain(-0.009, 0.087))],
    )
    assert judged.verdict is Verdict.INCONCLUSIVE
    assert judged.notes[0].startswith(
        "distillation trailed image-only at fraction 0.25 (-0.074 [-0.101, -0.047])"
    )
    within = judge(
        modalities(text=0.75, image=0.70),
        [Headroom(0.25, gain(0.15, 0.09))],
        [finding(0.25, gain(-0.02, 0.03), gain(-0.009, 0.087))],
    )
    assert within.verdict is Verdict.ADDS  # an interval that reaches 0 is not a measured loss


def test_a_paired_control_gain_says_where_and_by_how_much() -> None:
    judged = judge(
        modalities(text=0.75, image=0.70),
        [Headroom(0.05, gain(0.05))],
        [finding(0.05, gain(0.05), HELPED), finding(0.1, gain(0.02), NO_GAIN)],
    )
    assert judged.verdict is Verdict.ADDS
    assert judged.notes[0] == (
        "distillation helped at fraction 0.05: +0.040 AUC over self-distillation, "
        "+0.050 over image-only"
    )


def test_a_measured_gain_outranks_a_decisive_report() -> None:
    judged = judge(modalities(text=0.97, image=0.80), [], [finding(0.05, gain(0.05), HELPED)])
    assert judged.verdict is Verdict.ADDS
    assert any("near decisive" in note for note in judged.notes)


def test_gains_need_their_interval_above_zero_and_one_auc_point() -> None:
    lines = Thresholds()
    wide = gain(0.03, 0.05)  # mean above the line, interval through zero
    tiny = gain(0.005, 0.002)  # interval above zero, mean below one AUC point
    for headroom in (wide, tiny):
        resolved = [finding(0.05, NO_GAIN, NO_GAIN)]
        judged = judge(modalities(0.7, 0.7), [Headroom(0.05, headroom)], resolved)
        assert judged.verdict is Verdict.LITTLE, headroom
    control_below_line = gain(lines.min_gain / 2, lines.min_gain / 4)
    judged = judge(modalities(0.7, 0.7), [], [finding(0.05, gain(0.05), control_below_line)])
    assert judged.verdict is Verdict.LITTLE


def test_distillation_must_beat_image_only_too() -> None:
    # Distillation ahead of a self-distillation that hurt, but not of image-only: no help.
    judged = judge(modalities(0.7, 0.7), [], [finding(0.05, gain(0.0, 0.02), HELPED)])
    assert judged.verdict is Verdict.LITTLE


def test_one_seed_never_counts_as_significant() -> None:
    judged = judge(
        modalities(0.7, 0.7),
        [Headroom(0.05, gain(0.2, n=1))],
        [finding(0.05, gain(0.2, n=1), gain(0.2, n=1))],
    )
    assert judged.verdict is Verdict.LITTLE
    assert "(one seed)" in judged.evidence[2].value


def test_thresholds_are_parameters() -> None:
    strict = Thresholds(determines_auc=0.99)
    resolved = [finding(0.05, NO_GAIN, NO_GAIN)]
    assert judge(modalities(0.97, 0.80), [], resolved).verdict is Verdict.DETERMINES
    assert judge(modalities(0.97, 0.80), [], resolved, strict).verdict is Verdict.LITTLE


def test_a_joint_probe_ahead_of_the_image_probe_means_the_report_adds_information() -> None:
    probes = Modalities(text=gain(0.82), image=gain(0.72), added=gain(0.09, 0.02))
    judged = judge(probes, [Headroom(0.05, gain(0.08, 0.13))], [finding(0.05, NO_GAIN, NO_GAIN)])
    assert judged.verdict is Verdict.ADDS
    assert judged.evidence[2].rule.startswith("image + report probe minus image-only probe")
    assert judged.evidence[2].crossed and not judged.evidence[3].crossed
    assert judged.notes[0].startswith("the report adds to the image (image + report probe")
    assert "did not beat self-distillation at fraction 0.05" in judged.notes[0]


def test_a_joint_probe_behind_the_image_probe_carries_little() -> None:
    # Like the paper's Age: the report only adds noise to what the image shows.
    probes = Modalities(text=gain(0.64), image=gain(0.87), added=gain(-0.02, 0.01))
    assert judge(probes, [], [finding(0.05, NO_GAIN, NO_GAIN)]).verdict is Verdict.LITTLE


def test_without_probes_only_the_measured_gains_decide() -> None:
    resolved = [finding(0.1, NO_GAIN, NO_GAIN)]
    assert judge(None, [], resolved).verdict is Verdict.LITTLE
    assert judge(None, [Headroom(0.1, gain(0.05))], resolved).verdict is Verdict.ADDS


def test_a_decisive_report_on_a_prognostic_task_predicts_the_outcome() -> None:
    numbers = (modalities(text=0.909, image=0.80), [], [finding(0.05, NO_GAIN, NO_GAIN)])
    judged = judge(*numbers, kind=TaskKind.PROGNOSTIC)
    assert judged.verdict is Verdict.PREDICTS
    assert judged.verdict.value == "the report strongly predicts the outcome"
    assert "unlikely to help" in judged.advice
    assert judge(*numbers, kind=TaskKind.DIAGNOSTIC).verdict is Verdict.DETERMINES


def test_a_control_the_seeds_cannot_resolve_is_inconclusive_not_little() -> None:
    judged = judge(modalities(0.7, 0.7), [], [finding(0.05, NO_GAIN, WIDE)])
    assert judged.verdict is Verdict.INCONCLUSIVE
    assert "could detect only gains >= 0.020" in judged.notes[0]
    assert "run more seeds (about 20 for 0.01)" in judged.notes[0]


def test_image_arms_near_chance_make_the_verdict_inconclusive() -> None:
    chance = replace(finding(0.05, NO_GAIN, NO_GAIN), image=0.52)
    judged = judge(modalities(0.7, 0.7), [], [chance])
    assert judged.verdict is Verdict.INCONCLUSIVE
    assert "image-only AUC 0.520 at fraction 0.05 is near chance" in judged.notes[0]


def test_a_gain_that_does_not_replicate_across_draws_did_not_help() -> None:
    replicated = replace(finding(0.05, gain(0.05), HELPED), replicates=(HELPED, HELPED))
    assert judge(modalities(0.7, 0.7), [], [replicated]).verdict is Verdict.ADDS
    partly = replace(replicated, replicates=(HELPED, NO_GAIN))
    judged = judge(modalities(0.7, 0.7), [], [partly])
    assert judged.verdict is Verdict.INCONCLUSIVE
    assert "excluded 0 on 1 of 2 benchmark draws" in judged.notes[0]


def test_without_a_control_little_is_inconclusive_and_says_why() -> None:
    why = "cannot run the arms at fraction 0.05: 9 training images per seed"
    judged = judge(modalities(0.7, 0.7), [], [], not_run=(why,))
    assert judged.verdict is Verdict.INCONCLUSIVE and judged.notes == (why,)
    assert "the control did not run" in judge(modalities(0.7, 0.7), [], []).notes[0]
    decisive = judge(modalities(0.97, 0.80), [], [], not_run=(why,))
    assert decisive.verdict is Verdict.DETERMINES  # the a-priori rule, flagged as such
    assert decisive.notes == (f"a-priori rule only: {why}",)


def test_a_teacher_ahead_of_image_arms_near_chance_is_not_evidence() -> None:
    # The case: image-only at chance, a teacher that reads the report far ahead of it.
    chance = replace(finding(0.05, NO_GAIN, NO_GAIN), image=0.50)
    judged = judge(modalities(0.7, 0.7), [Headroom(0.05, gain(0.2))], [chance])
    assert judged.verdict is Verdict.INCONCLUSIVE
    assert "image-only AUC 0.500 at fraction 0.05 is near chance (< 0.55)" in judged.notes[0]
    readable = [rule for rule in judged.evidence if rule.rule.startswith("image-only AUC")]
    assert readable[0].number == 0.50 and not readable[0].crossed


def test_evidence_is_grouped_by_rule_with_numbers() -> None:
    judged = judge(
        Modalities(text=gain(0.82), image=gain(0.72), added=gain(0.09, 0.02)),
        [Headroom(0.05, gain(0.05))],
        [finding(0.05, NO_GAIN, WIDE)],
    )
    groups = [rule.group.value for rule in judged.evidence]
    assert groups == ["modalities"] * 2 + ["probes", "headroom"] + ["control"] * 3
    assert judged.evidence[0].number == 0.82
    half = judged.evidence[-1]
    assert half.rule.startswith("control's half-width") and not half.crossed
