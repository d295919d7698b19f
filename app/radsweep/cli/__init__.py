"""The command-line face of radsweep: thin typer commands over the library."""
