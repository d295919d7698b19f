"""W&B: the one package that imports wandb. What runs log and how it reads back (schema,
writer, reader), the observer that logs a pipeline run live, and the server's sweep calls."""
