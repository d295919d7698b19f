"""How much each modality carries: a linear probe on the report alone and on the image alone.

The paper's Table 7 fine-tunes a text model and compares it with the best image model. A screen
needs the same comparison in seconds, so both modalities get the same cheap head: the mean of
the cached tokens (the report's over its real tokens only), standardised, and a logistic
regression (scikit-learn), trained on each seed's full training pool and scored on its
validation set with the study's AUC. One probe for both sides keeps the comparison fair; an
attention head may find more in either. A third probe reads both (the two means side by side):
what it gains over the image alone, paired by seed, is what the report adds that the image
lacks, a cheap teacher on the full pool.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from radsweep.errors import TrainingError
from radsweep.metrics import auc
from radsweep.runs.execute import PreparedRun, training_inputs
from radsweep.screen.verdict import Modalities
from radsweep.stats import t_interval
from radsweep.training.inputs import SeedSplit

MAX_ITERATIONS = 2000


def pooled_text(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``[N, L, D]`` tokens to ``[N, D]``: the mean over each report's real tokens."""
    weights = mask.astype(np.float32)[..., None]
    total = (tokens.astype(np.float32) * weights).sum(axis=1)
    return total / np.maximum(weights.sum(axis=1), 1.0)


def pooled_image(tokens: np.ndarray) -> np.ndarray:
    """``[V, N, T, D]`` tokens to ``[N, D]``: the centre view's mean token."""
    return tokens[0].astype(np.float32).mean(axis=1)


def _check_finite(features: np.ndarray, what: str) -> None:
    if not np.isfinite(features).all():
        raise TrainingError(
            f"the {what} features hold NaN or infinite values",
            hint="extract them again (radsweep features extract --force)",
        )


def probe_aucs(
    features: np.ndarray, labels: np.ndarray, splits: list[SeedSplit], classes: int
) -> np.ndarray:
    """Scored-rows AUC per seed of a logistic regression fitted on the seed's training rows."""
    aucs = []
    for split in splits:
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=MAX_ITERATIONS))
        model.fit(features[split.train], labels[split.train])
        scored = split.scored  # the held-out rows when the run scores there
        probabilities = np.zeros((len(scored), classes))
        probabilities[:, model.classes_] = model.predict_proba(features[scored])
        aucs.append(auc(labels[scored], probabilities, classes))
    return np.asarray(aucs)


def modalities(prepared: PreparedRun) -> Modalities:
    """Text-only, image-only and joint probes on ``prepared``'s splits (it reads both caches)."""
    assert prepared.image is not None and prepared.text is not None
    data, rows = training_inputs(prepared)
    labels = data.labels.numpy()
    text = pooled_text(np.asarray(prepared.text.tokens), np.asarray(prepared.text.mask))
    image = pooled_image(np.asarray(prepared.image.tokens))
    _check_finite(text, "report")
    _check_finite(image, "image")
    classes = prepared.manifest.task.n_classes
    aucs = {
        name: probe_aucs(features, labels, rows.splits, classes)
        for name, features in (
            ("text", text),
            ("image", image),
            ("both", np.concatenate([image, text], axis=1)),
        )
    }
    return Modalities(
        text=t_interval(aucs["text"]),
        image=t_interval(aucs["image"]),
        added=t_interval(aucs["both"] - aucs["image"]),
        train=int(np.median([len(split.train) for split in rows.splits])),
        validation=int(np.median([len(split.validation) for split in rows.splits])),
    )
