"""Tasks: the catalogue, the manifest contract, per-seed splits and dataset builders."""
