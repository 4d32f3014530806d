"""Django-free tooling for tests, demos and benchmarks: a random-initialised emotion2vec+
checkpoint writer in the real FunASR format and espeak-ng speech. Never imported by the engine or
the web app's request path; its outputs are never presented as results."""
