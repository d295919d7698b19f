"""MIMIC-style reports written from a study's state, and the rule-based labeler that reads them.

Reports follow the MIMIC-CXR layout (a centred FINAL REPORT title, every line starting with one
space, ``___`` for de-identified text) with FINDINGS and IMPRESSION sections, paraphrases and
negations. The diagnostic label is extracted from the report by ``extract_finding``, as MIMIC's
labels are extracted by CheXpert-style labelers: Y is a function of Z.
"""

import re
import textwrap

import numpy as np

from radsweep.tasks.synthetic.cohort import FINDINGS, Study
from radsweep.tasks.synthetic.config import SynthConfig

_POSITIVE = {
    "Atelectasis": (
        "{size} {side} basilar atelectasis",
        "plate-like atelectasis at the {side} base",
        "{size} subsegmental atelectasis in the {side} lower lobe",
    ),
    "Cardiomegaly": (
        "{size} cardiomegaly",
        "the cardiac silhouette is enlarged, {size} in degree",
        "{size} enlargement of the cardiac silhouette",
    ),
    "Consolidation": (
        "focal consolidation in the {side} lower lobe, {size} in extent",
        "{size} airspace consolidation at the {side} base",
        "{size} {side} lower lobe consolidation",
    ),
    "Edema": (
        "{size} pulmonary edema",
        "{size} interstitial edema with vascular congestion",
        "pulmonary vascular congestion with {size} edema",
    ),
    "Pleural Effusion": (
        "{size} {side} pleural effusion",
        "{size} layering {side} pleural effusion",
        "{side} pleural effusion, {size} in size",
    ),
}
_NEGATED = {
    "Atelectasis": ("No atelectasis.", "There is no atelectasis."),
    "Cardiomegaly": ("Heart size is normal.", "The cardiac silhouette is within normal limits."),
    "Consolidation": ("No focal consolidation.", "There is no consolidation."),
    "Edema": ("No pulmonary edema.", "There is no evidence of edema."),
    "Pleural Effusion": ("No pleural effusion.", "There is no effusion."),
}
_MENTION = {
    "Atelectasis": r"atelectasis",
    "Cardiomegaly": r"cardiomegaly|cardiac silhouette is enlarged|enlargement of the cardiac",
    "Consolidation": r"consolidation",
    "Edema": r"edema",
    "Pleural Effusion": r"effusion",
}
_NEGATION = re.compile(r"\b(no|without|negative for|free of|no evidence of)\b")
_HISTORY = (  # chronic state, lowest to highest: information only the report carries
    ("routine preoperative evaluation", "screening before elective surgery", "mild cough"),
    ("cough and low-grade fever", "chest pain, evaluate", "dyspnea on exertion"),
    (
        "known COPD with worsening dyspnea",
        "history of CHF, now short of breath",
        "recent admission for pneumonia, fevers",
    ),
    (
        "end-stage CHF on home oxygen, hypoxic",
        "metastatic lung cancer, increasing dyspnea",
        "recurrent admissions for COPD exacerbation, now in respiratory distress",
    ),
)
_SIZES = ("small", "mild", "moderate", "large")
_ACUITY = (  # the acute state as the clinical team reads it, lowest to highest
    "Patient is clinically well.",
    "Patient is stable on room air.",
    "Patient is unwell, on supplemental oxygen.",
    "Patient is acutely unwell, on high-flow oxygen.",
    "Patient is critically ill in the intensive care unit.",
)
_ACUITY_NOISE = 0.25  # the report's read of S is precise: this is its privileged information
_HISTORY_NOISE = 0.5


def _grade(value: float, levels: int, noise: float, rng: np.random.Generator) -> int:
    """A noisy level of a standard-normal state, as a clinician would describe it."""
    noisy = value + rng.normal(0, noise)
    edges = np.linspace(-1.2, 1.2, levels - 1)
    return int(np.searchsorted(edges, noisy))


def _described_states(
    study: Study, config: SynthConfig, rng: np.random.Generator
) -> tuple[float, float]:
    """(acute, chronic) as the report knows them: the true states when the report is privileged;
    otherwise draws unrelated to the patient, so the report's state phrases carry nothing and the
    report adds nothing the image does not show (its finding and devices are drawn there too)."""
    if config.report_privileged:
        return study.severity, study.history
    return float(rng.standard_normal()), float(rng.standard_normal())


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _findings(study: Study, size: str, rng: np.random.Generator, age_hint: bool) -> list[str]:
    reported = FINDINGS[study.reported_finding]
    positive = str(rng.choice(_POSITIVE[reported])).format(size=size, side=study.side)
    others = [name for name in FINDINGS if name != reported]
    observations = [_sentence(positive)]
    observations += [str(rng.choice(_NEGATED[name])) for name in others if rng.random() < 0.6]
    devices = []
    if study.central_line:
        devices.append(f"{study.side.capitalize()} internal jugular line ends in the SVC.")
    if study.endotracheal_tube:
        devices.append("Endotracheal tube terminates 4 cm above the carina.")
    closing = ["No pneumothorax."]
    if age_hint:
        closing.append("There are degenerative changes of the thoracic spine.")
    return devices + [observations[i] for i in rng.permutation(len(observations))] + closing


def _wrap(text: str) -> list[str]:
    return [f" {line}" for line in textwrap.wrap(text, width=77)] or [" "]


def write_report(study: Study, config: SynthConfig) -> str:
    """The study's report, MIMIC-CXR layout; the same study writes the same text."""
    rng = np.random.default_rng([config.seed, 3, study.index])
    acute, chronic = _described_states(study, config, rng)
    history = str(rng.choice(_HISTORY[_grade(chronic, len(_HISTORY), _HISTORY_NOISE, rng)]))
    acuity = _grade(acute, len(_ACUITY), _ACUITY_NOISE, rng)
    age_hint = study.age > 60 and rng.random() < config.age_mention_rate * 3
    elderly = "elderly " if study.age > 75 and rng.random() < config.age_mention_rate else ""
    reported = FINDINGS[study.reported_finding]
    size = _SIZES[min(acuity * len(_SIZES) // len(_ACUITY), len(_SIZES) - 1)]
    impression = str(rng.choice(_POSITIVE[reported])).format(size=size, side=study.side)
    lines = [
        " " * 33 + "FINAL REPORT",
        " EXAMINATION:  CHEST (PA AND LAT)",
        " ",
        *_wrap(
            f"INDICATION:  ___ year old {elderly}{study.sex} with {history}.  {_ACUITY[acuity]}"
        ),
        " ",
        " TECHNIQUE:  Chest PA and lateral",
        " ",
        " COMPARISON:  ___",
        " ",
        " FINDINGS: ",
        " ",
        *_wrap("  ".join(_findings(study, size, rng, age_hint))),
        " ",
        " IMPRESSION: ",
        " ",
        *_wrap(f"{_ACUITY[acuity]}  {_sentence(impression)}"),
    ]
    return "\n".join(lines) + "\n"


def _section(report: str, name: str) -> str:
    match = re.search(rf"\n {name}:\s*(.*?)(?=\n [A-Z ]+:|\Z)", report, flags=re.S)
    return match.group(1) if match else ""


def extract_finding(report: str) -> int | None:
    """The finding the report asserts (impression first, then findings), or None if not exactly one.

    A mention counts when no negation cue precedes it in its sentence.
    """
    for name in ("IMPRESSION", "FINDINGS"):
        text = " ".join(_section(report, name).lower().split())
        positive = {
            index
            for sentence in text.split(".")
            for index, finding in enumerate(FINDINGS)
            if (match := re.search(_MENTION[finding], sentence))
            and not _NEGATION.search(sentence[: match.start()])
        }
        if len(positive) == 1:
            return positive.pop()
    return None
