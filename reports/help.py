"""The help page's words for what the dashboard shows, in plain clinician language, and the anchors
the dashboard links its terms to (one place, so a link cannot point at a section that is gone).
The disclaimer and the test-checkpoint warning stay in `ser.engine.notices`."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ser.engine.labels import EMOTIONS
from ser.engine.voice import MEASURES

# What each of the model's nine classes means on these pages.
EMOTION_MEANINGS: dict[str, Promise] = {
    "angry": _(
        "Voice qualities the model learned from angry or irritated speech: often louder, tenser, "
        "sharper onsets."
    ),
    "disgusted": _(
        "Qualities learned from speech expressing disgust or aversion. Rare in everyday speech; "
        "small values mean little."
    ),
    "fearful": _(
        "Qualities learned from frightened or anxious speech: often higher, less steady pitch, "
        "faster or hesitant delivery."
    ),
    "happy": _("Qualities learned from cheerful or pleased speech: often livelier pitch and energy."),
    "neutral": _("Calm, unmarked speech. In most conversations this is the largest share."),
    "other": _(
        "The model heard emotional colouring that fits none of its named classes. It is a class "
        "of its own, not an error."
    ),
    "sad": _("Qualities learned from sad speech: often lower, flatter, slower and quieter."),
    "surprised": _("Qualities learned from surprised speech: often sudden rises in pitch."),
    "unknown": _(
        "The model could not place the speech at all (its “<unk>” label). A large "
        "share usually means poor audio, overlapping voices or very little speech, not an emotion."
    ),
}
assert set(EMOTION_MEANINGS) == set(EMOTIONS)

EMOTION_ROWS = [(e, f"emotion-{e}", EMOTION_MEANINGS[e]) for e in EMOTIONS]

# The voice measures beside emotion (ser.engine.voice): anchor, label, unit, what it is.
# The engine's words are marked there (gettext_noop) and translated here, when shown.
VOICE_ROWS = [(m.key, f"voice-{m.key}", _(m.label), m.unit, _(m.help)) for m in MEASURES]
