"""Settings modules: ``development`` (the embedded default), ``production`` and ``test``."""
