"""Sweeps: run configurations, W&B sweep specs, the local queue, agents and tracking."""
