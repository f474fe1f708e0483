"""Item pipelines, in data-flow order: extract -> language -> fingerprint -> store."""
