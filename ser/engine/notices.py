"""The product's fixed words about what its numbers are, defined once. Pages (through the
`notices` context processor), plots, the API, result.json and reports all use these. They are
English here (result.json and the command line keep them so); the app shows them translated
(`gettext(notices.DISCLAIMER)`), the catalogue has them through `gettext_noop`."""

from __future__ import annotations

from .messages import gettext_noop

DISCLAIMER = gettext_noop("Decision support, not a diagnosis.")
DISCLAIMER_LONG = gettext_noop(
    "Vocal emotion estimates are decision support, not a diagnosis. "
    "Interpret them alongside clinical judgement."
)
TEST_MODEL_WARNING = gettext_noop(
    "Produced by a random-initialised test checkpoint, not emotion2vec+: the scores are "
    "meaningless and must not be used clinically."
)
TEST_MODEL_SHORT = gettext_noop("TEST CHECKPOINT — meaningless scores.")
