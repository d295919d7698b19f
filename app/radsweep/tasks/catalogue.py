"""The study's six tasks as typed definitions, plus discovery of tasks that live on disk.

Training sizes and epochs are the paper's Tables 2-6. Pulmonary Embolism has no table in the paper
(its Appendix B.4 gives only the dataset: 9,375 balanced INSPECT images, 75/25). It shares the
dataset, balancing and split of Readmission and 12-Month PH, so it uses their fractions and epochs;
that keeps the three INSPECT tasks on one sample-efficiency axis.

Each task's nominal size is its image count as the paper builds it (MIMIC 5x1200: 5 x 1,200, of
which 200 per class are evaluated; PE: the paper's 9,375; the others: the paper's largest training
size / fraction / (1 - validation share), from its Tables 3-6): ``sweep plan`` prices a study
task by it before the task is built.
"""

import itertools
from collections.abc import Iterable

from radsweep.tasks.spec import (
    FixedPoolSplit,
    NominalSize,
    RandomSplit,
    TaskKind,
    TaskSpec,
    TrainingSize,
)

AGE_BIN_EDGES: tuple[int, ...] = (40, 55, 65, 75)
"""Default age-bin edges (years): five bins.

NOT verified against RAD-DINO's paper, whose bins the paper reuses but which no public source
states; the MIMIC builder takes other edges as an option and records them in task.json.
"""


def age_bin_names(edges: Iterable[int] = AGE_BIN_EDGES) -> tuple[str, ...]:
    """Readable class names for age bins with the given inner edges: ``<40``, ``40-54``, ..."""
    edges = tuple(edges)
    names = [f"<{edges[0]}"]
    names += [f"{low}-{high - 1}" for low, high in itertools.pairwise(edges)]
    names.append(f">={edges[-1]}")
    return tuple(names)


def _sizes(*rows: tuple[float, int, int]) -> tuple[TrainingSize, ...]:
    return tuple(
        TrainingSize(fraction=fraction, study_samples=samples, epochs=epochs)
        for fraction, samples, epochs in rows
    )


_INSPECT_SIZES = _sizes(
    (0.05, 211, 100), (0.10, 423, 100), (0.175, 741, 100), (0.25, 1059, 100), (0.50, 2119, 50)
)

STUDY_TASKS: dict[str, TaskSpec] = {
    task.name: task
    for task in (
        TaskSpec(
            name="mimic-5x1200",
            title="MIMIC 5x1200",
            kind=TaskKind.DIAGNOSTIC,
            classes=("Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Pleural Effusion"),
            split=FixedPoolSplit(),
            sizes=_sizes(
                (0.025, 100, 100),
                (0.05, 200, 100),
                (0.10, 400, 100),
                (0.25, 1000, 50),
                (0.50, 2000, 50),
                (1.0, 4000, 50),
            ),
            default_tau=2.5,
            # Table 2 counts 4,000 samples at 100 % although the pool holds 5 x 1,000: fractions
            # are taken of 4,000 so runs match the table's sample counts.
            fraction_of=4000,
            source="MIMIC-CXR-JPG 2.1.0 + MIMIC-CXR 2.1.0 reports",
            description="Five report-extracted findings; 1,000 train / 200 evaluation per class.",
            nominal=NominalSize(images=6000, evaluation=1000),
        ),
        TaskSpec(
            name="age",
            title="Age",
            kind=TaskKind.AUXILIARY,
            classes=age_bin_names(),
            split=RandomSplit(validation_share=0.10),
            sizes=_sizes((0.01, 317, 150), (0.025, 792, 100), (0.05, 1585, 100), (0.10, 3171, 50)),
            source="MIMIC-CXR-JPG 2.1.0 + MIMIC-IV 3.1 patients",
            description="Patient age at the image in five bins (edges configurable, unverified).",
            nominal=NominalSize(images=35222),
        ),
        TaskSpec(
            name="3-day-discharge",
            title="3-Day Discharge",
            kind=TaskKind.PROGNOSTIC,
            classes=("stays longer", "discharged within 3 days"),
            split=RandomSplit(validation_share=0.10),
            sizes=_sizes(
                (0.005, 82, 100),
                (0.01, 165, 100),
                (0.025, 416, 100),
                (0.05, 829, 50),
                (0.10, 1662, 50),
                (0.25, 4145, 50),
            ),
            source="MIMIC-CXR-JPG 2.1.0 + MIMIC-IV 3.1 admissions",
            description="Discharge within 72 h of the image.",
            nominal=NominalSize(images=18422),
        ),
        TaskSpec(
            name="12-month-ph",
            title="12-Month PH",
            kind=TaskKind.PROGNOSTIC,
            classes=("no PH", "PH within 12 months"),
            split=RandomSplit(validation_share=0.25),
            sizes=_sizes(
                (0.05, 204, 100),
                (0.10, 408, 100),
                (0.175, 715, 100),
                (0.25, 1022, 100),
                (0.50, 2044, 50),
            ),
            balanced=True,
            source="INSPECT (CT -> DRR)",
            description="Pulmonary hypertension diagnosed within 12 months; censored removed.",
            nominal=NominalSize(images=5451),
        ),
        TaskSpec(
            name="readmission",
            title="Readmission",
            kind=TaskKind.PROGNOSTIC,
            classes=("not readmitted", "readmitted within 12 months"),
            split=RandomSplit(validation_share=0.25),
            sizes=_INSPECT_SIZES,
            balanced=True,
            source="INSPECT (CT -> DRR)",
            description="Readmission within 12 months; censored removed.",
            nominal=NominalSize(images=5651),
        ),
        TaskSpec(
            name="pe",
            title="Pulmonary Embolism",
            kind=TaskKind.DIAGNOSTIC,
            classes=("no PE", "PE"),
            split=RandomSplit(validation_share=0.25),
            sizes=tuple(
                TrainingSize(fraction=size.fraction, epochs=size.epochs) for size in _INSPECT_SIZES
            ),
            balanced=True,
            source="INSPECT (CT -> DRR)",
            description="Report-extracted PE label; sizes and epochs as Readmission (no table).",
            nominal=NominalSize(images=9375),
        ),
    )
}

IU_XRAY_FINDINGS: dict[str, str] = {
    "iu-cardiomegaly": "cardiomegaly",
    "iu-opacity": "opacity",
    "iu-atelectasis": "pulmonary atelectasis",
}
"""Finding tasks of the IU X-ray collection: task name -> MeSH major heading (lower case)."""

# About 3,800 studies with a frontal image; 25 % validation leaves a pool of about 2,850, so the
# fractions span 1 % (about 28 images) to 25 % (about 710) of it, the paper's small-n regime.
_IU_SIZES = tuple(
    TrainingSize(fraction=fraction, epochs=epochs)
    for fraction, epochs in ((0.01, 100), (0.025, 100), (0.05, 100), (0.10, 50), (0.25, 50))
)


def _iu_task(name: str, title: str, classes: tuple[str, str], description: str) -> TaskSpec:
    return TaskSpec(
        name=name,
        title=title,
        kind=TaskKind.DIAGNOSTIC,
        classes=classes,
        split=RandomSplit(validation_share=0.25),
        sizes=_IU_SIZES,
        default_tau=2.5,
        source="Indiana University chest X-rays (Open-i, NLM), CC BY-NC-ND 4.0",
        description=description,
        nominal=NominalSize(images=3800),  # studies with a frontal image, one image each
    )


IU_XRAY_TASKS: dict[str, TaskSpec] = {
    "iu-normal": _iu_task(
        "iu-normal",
        "IU Normal",
        ("abnormal", "normal"),
        "MeSH major 'normal' vs any other heading: read off the report (a negative control).",
    ),
    **{
        name: _iu_task(
            name,
            f"IU {heading.split()[-1].capitalize()}",
            (f"no {heading}", heading),
            f"MeSH major '{heading}' vs every other coded study.",
        )
        for name, heading in IU_XRAY_FINDINGS.items()
    },
}
"""The public IU X-ray tasks (radsweep data build iu-xray); not part of the paper's study."""
