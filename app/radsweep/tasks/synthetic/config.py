"""The knobs of the synthetic causal benchmark (the paper's Appendix B.1, Figure 4)."""

import hashlib
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Share = Annotated[float, Field(ge=0.0, le=1.0)]


class SynthConfig(BaseModel):
    """How much of each label the image X and the report Z carry.

    * Diagnostic: the label is extracted from the report (Y = f(Z)); ``finding_visibility`` sets how
      clearly the image shows the finding and ``report_fidelity`` how often the report names the
      finding actually drawn.
    * Prognostic: a latent patient state drives the outcome. Its acute part (severity) shows in
      the image (haze, the finding's extent, devices), by default in full
      (``severity_image_noise`` 0 adds noise to the image's read); the report grades it in one
      phrase. An image head learns the state slowly from few noisy outcomes, a text head reads
      the phrase from the same labels: that is what the report gives a distilled student
      (docs/synthetic.md says why a report that knows more than the image shows gives less).
      The chronic part (history) is only in the report.
      ``prognosis_image_weight`` / ``prognosis_report_weight`` weigh the two parts, and
      ``outcome_noise`` adds the stochasticity prognostic outcomes have. ``severity_visibility``
      sets how strongly the image's read shows as diffuse haze over both lungs.
      ``report_privileged`` False removes the report's extra information: its state phrases are
      then unrelated to the patient, so the report says nothing the image does not.
    * Auxiliary age: ``age_visibility`` sets the strength of ageing cues in the image (bone
      density, aortic calcification, spine osteophytes); ``age_mention_rate`` how often the report
      hints at age.
    """

    model_config = ConfigDict(frozen=True)

    samples: Annotated[int, Field(ge=50, le=1_000_000)] = 2000
    seed: int = 0
    image_size: Annotated[int, Field(ge=64, le=1024)] = 256
    max_images_per_patient: Annotated[int, Field(ge=1, le=10)] = 3
    finding_visibility: Share = 0.6
    severity_visibility: Share = 1.0
    report_fidelity: Share = 0.85
    prognosis_image_weight: Annotated[float, Field(ge=0.0)] = 1.0
    prognosis_report_weight: Annotated[float, Field(ge=0.0)] = 0.0
    state_correlation: Annotated[float, Field(ge=-0.95, le=0.95)] = 0.6
    outcome_noise: Annotated[float, Field(ge=0.0)] = 0.8
    severity_image_noise: Annotated[float, Field(ge=0.0)] = 0.0
    report_privileged: bool = True
    age_visibility: Share = 0.8
    age_mention_rate: Share = 0.1
    eval_share: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.2

    def digest(self) -> str:
        """Identity of a build: same digest, same bytes."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]
