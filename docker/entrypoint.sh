#!/bin/sh
# The image's entrypoint (behind tini): run one radsweep command, `sweep agent` by default.
#   docker run IMAGE sweep agent ENTITY/PROJECT/SWEEP_ID   ->  radsweep sweep agent ENTITY/...
#   docker run IMAGE report --out /results/report          ->  radsweep report --out ...
# exec replaces this shell, so radsweep is tini's direct child and receives SIGTERM itself
# (a shell in between would swallow it and the preempted run would never be marked).
set -eu
exec radsweep "$@"
