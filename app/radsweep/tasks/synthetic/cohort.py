"""Latent patient states and what each study (image + report) carries of them.

The causal structure follows the paper's Figure 4. The structural equations, per study i of
patient p (every e is an independent standard normal draw)::

    H_p   = e                                   chronic history (patient level)
    S_i   = rho H_p + sqrt(1 - rho^2) e         acute severity
    Sx_i  = S_i + sigma_x e                     the image's read of S: haze, finding extent, devices
    Y_i   = 1[(a S_i + b H_p) / sd + sigma_y e > 0]          prognostic outcome
    report (privileged):  grades of S_i + 0.25 e (acuity, finding size) and H_p + 0.5 e (indication)
    report (not privileged): the same phrases graded from draws unrelated to the patient
    F_i   = uniform finding; reported finding = F_i with probability ``report_fidelity``
    Yd_i  = extract(report_i)                   diagnostic label: a function of the report

with rho = ``state_correlation``, sigma_x = ``severity_image_noise``, a / b the prognosis weights
and sigma_y = ``outcome_noise``. By default sigma_x = 0: the image shows the acute state, spread
over haze, the finding's extent and devices that an image head learns slowly from few noisy
outcomes, while the privileged report names it in one graded phrase that a teacher reads from
the same labels. The teacher's targets are then a clean version of what the image shows, worth
many labels to an image student. (With sigma_x > 0 the report also knows the part of S the image
does not show, which no image student can learn: such a teacher's target P(Y | S) is a worse
one for it than P(Y | Sx).) Age shows in the image and rarely in the report.
"""

from dataclasses import dataclass

import numpy as np

from radsweep.tasks.catalogue import STUDY_TASKS
from radsweep.tasks.synthetic.config import SynthConfig

FINDINGS: tuple[str, ...] = STUDY_TASKS["mimic-5x1200"].classes
AGE_RANGE = (18.0, 95.0)


@dataclass(frozen=True)
class Study:
    """One radiograph and its report, with the latent truth behind both."""

    index: int
    patient: int
    sex: str
    age: float
    history: float
    severity: float
    seen_severity: float
    finding: int
    reported_finding: int
    side: str
    endotracheal_tube: bool
    central_line: bool
    outcome: int

    @property
    def sample_id(self) -> str:
        return f"synth-{self.index:06d}"

    @property
    def patient_id(self) -> str:
        return f"patient-{self.patient:05d}"


def _patient_of_each_study(config: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    counts = rng.integers(1, config.max_images_per_patient + 1, size=config.samples)
    return np.repeat(np.arange(config.samples), counts)[: config.samples]


def _reported(findings: np.ndarray, fidelity: float, rng: np.random.Generator) -> np.ndarray:
    """The radiologist names the drawn finding with probability ``fidelity``, else another one."""
    wrong = rng.random(len(findings)) >= fidelity
    other = (findings + rng.integers(1, len(FINDINGS), size=len(findings))) % len(FINDINGS)
    return np.where(wrong, other, findings)


def _outcome(
    severity: np.ndarray, history: np.ndarray, config: SynthConfig, rng: np.random.Generator
) -> np.ndarray:
    latent = config.prognosis_image_weight * severity + config.prognosis_report_weight * history
    spread = latent.std() or 1.0
    noisy = latent / spread + config.outcome_noise * rng.standard_normal(len(latent))
    return (noisy > 0).astype(int)


def sample_cohort(config: SynthConfig) -> list[Study]:
    """Every study of the benchmark, reproducible from ``config.seed``."""
    rng = np.random.default_rng([config.seed, 1])
    patient = _patient_of_each_study(config, rng)
    n_patients = int(patient.max()) + 1
    # Patient-level state: sex, age at first study, chronic history.
    sex = rng.choice(["man", "woman"], size=n_patients)
    first_age = rng.uniform(AGE_RANGE[0], AGE_RANGE[1] - 3, size=n_patients)
    chronic = rng.standard_normal(n_patients)
    # Study-level state: ageing between studies, acute severity correlated with history.
    n = config.samples
    age = first_age[patient] + rng.uniform(0.0, 3.0, size=n)
    history = chronic[patient]
    rho = config.state_correlation
    severity = rho * history + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    finding = rng.integers(0, len(FINDINGS), size=n)
    reported = _reported(finding, config.report_fidelity, rng)
    side = rng.choice(["right", "left"], size=n)
    seen = severity + config.severity_image_noise * rng.standard_normal(n)
    tube = (seen > 1.2) & (rng.random(n) < 0.7)  # devices show in the image: they follow Sx
    line = (seen > 0.5) & (rng.random(n) < 0.6)
    outcome = _outcome(severity, history, config, rng)
    return [
        Study(
            index=i,
            patient=int(patient[i]),
            sex=str(sex[patient[i]]),
            age=float(age[i]),
            history=float(history[i]),
            severity=float(severity[i]),
            seen_severity=float(seen[i]),
            finding=int(finding[i]),
            reported_finding=int(reported[i]),
            side=str(side[i]),
            endotracheal_tube=bool(tube[i]),
            central_line=bool(line[i]),
            outcome=int(outcome[i]),
        )
        for i in range(n)
    ]
