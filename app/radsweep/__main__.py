"""``python -m radsweep``: the same as the ``radsweep`` command."""

from radsweep.cli.main import run

run()
