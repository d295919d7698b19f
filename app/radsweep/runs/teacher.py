"""The teacher a distillation run shares with others: its key in the results store.

Runs whose configurations differ only in τ and λ (``RunConfig.teacher_identity``), on the same
feature caches and the same task data, train the same teacher; the first keeps it in the store
under this key and the others read it instead of training it again (``execute``).
"""

import hashlib
from collections.abc import Sequence

from radsweep.runs.config import RunConfig


def teacher_key(config: RunConfig, cache_keys: Sequence[str], task_digest: str) -> str | None:
    """The store's key of ``config``'s teacher: its identity, the caches it read and the task's
    data digest (labels and splits come from the task's files, not from the caches); None for
    methods without a teacher."""
    identity = config.teacher_identity()
    if identity is None:
        return None
    text = "\x1f".join([identity, task_digest, *sorted(cache_keys)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]
