"""The results store (SQLite, one transaction per finished run) and its exports.

``ResultsStore`` is what runs write; ``ResultFrames`` is what exports and reports read, from a
store or from a W&B project (``radsweep.tracking.reader``). The store keeps each run's config as
data and imports nothing of ``radsweep.runs``, which writes to it.
"""
