"""The product's fixed words about what its numbers are, defined once. Pages (through the
`notices` context processor), plots, the API, result.json and reports all use these."""

from __future__ import annotations

DISCLAIMER = "Decision support, not a diagnosis."
DISCLAIMER_LONG = (
    "Vocal emotion estimates are decision support, not a diagnosis. "
    "Interpret them alongside clinical judgement."
)
TEST_MODEL_WARNING = (
    "Produced by a random-initialised test checkpoint, not emotion2vec+: the scores are "
    "meaningless and must not be used clinically."
)
TEST_MODEL_SHORT = "TEST CHECKPOINT — meaningless scores."
