"""The three synthetic tasks: one per causal structure of the paper's Figure 4."""

from radsweep.tasks.catalogue import AGE_BIN_EDGES, age_bin_names
from radsweep.tasks.spec import FixedPoolSplit, RandomSplit, TaskKind, TaskSpec, TrainingSize
from radsweep.tasks.synthetic.cohort import FINDINGS

_SIZES = tuple(
    TrainingSize(fraction=fraction, epochs=epochs)
    for fraction, epochs in ((0.05, 60), (0.10, 60), (0.25, 40), (0.50, 30), (1.0, 30))
)

DIAGNOSTIC = TaskSpec(
    name="synth-diagnostic",
    title="Synthetic diagnostic",
    kind=TaskKind.DIAGNOSTIC,
    classes=FINDINGS,
    split=FixedPoolSplit(),
    sizes=_SIZES,
    default_tau=2.5,
    source="radsweep synthetic benchmark",
    description="Finding extracted from the report (Y = f(Z)); the image shows it partly.",
)
PROGNOSTIC = TaskSpec(
    name="synth-prognostic",
    title="Synthetic prognostic",
    kind=TaskKind.PROGNOSTIC,
    classes=("good outcome", "poor outcome"),
    split=RandomSplit(validation_share=0.25),
    sizes=_SIZES,
    source="radsweep synthetic benchmark",
    description="Outcome of a latent state: acute part in the image, chronic part in the report.",
)
AGE = TaskSpec(
    name="synth-age",
    title="Synthetic age",
    kind=TaskKind.AUXILIARY,
    classes=age_bin_names(AGE_BIN_EDGES),
    split=RandomSplit(validation_share=0.10),
    sizes=_SIZES,
    source="radsweep synthetic benchmark",
    description="Age bin: visible in the image, rarely hinted at in the report.",
)
SYNTHETIC_TASKS = {task.name: task for task in (DIAGNOSTIC, PROGNOSTIC, AGE)}
