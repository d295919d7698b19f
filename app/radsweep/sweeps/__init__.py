"""Sweeps: W&B sweep specs, the local queue and workers, agents (W&B through ``tracking``),
and the cost plan of a set of specs (``plan``)."""
