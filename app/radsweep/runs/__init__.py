"""One configuration, start to end: RunConfig, its run key and outcome; prepare -> fit -> record."""
