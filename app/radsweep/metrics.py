"""The study's metrics: binary AUC/AUPRC, one-vs-rest micro averaging for multiclass."""

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import label_binarize


def _targets(labels: np.ndarray, n_classes: int) -> np.ndarray:
    return label_binarize(labels, classes=np.arange(n_classes)) if n_classes > 2 else labels


def _scores(probabilities: np.ndarray, n_classes: int) -> np.ndarray:
    return probabilities if n_classes > 2 else probabilities[:, 1]


def auc(labels: np.ndarray, probabilities: np.ndarray, n_classes: int) -> float:
    """ROC AUC of class probabilities ``[N, K]`` (micro one-vs-rest when K > 2)."""
    return float(
        roc_auc_score(
            _targets(labels, n_classes), _scores(probabilities, n_classes), average="micro"
        )
    )


def auprc(labels: np.ndarray, probabilities: np.ndarray, n_classes: int) -> float:
    """Average precision of class probabilities ``[N, K]`` (micro one-vs-rest when K > 2)."""
    return float(
        average_precision_score(
            _targets(labels, n_classes), _scores(probabilities, n_classes), average="micro"
        )
    )
