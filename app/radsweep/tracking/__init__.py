"""W&B: the one module family that imports wandb; what it writes and the reader of it."""
