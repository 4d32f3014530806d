"""The help page's words for what the dashboard shows, in plain clinician language, and the anchors
the dashboard links its terms to (one place, so a link cannot point at a section that is gone).
The disclaimer and the test-checkpoint warning stay in `ser.engine.notices`."""

from __future__ import annotations

from ser.engine.labels import EMOTIONS
from ser.engine.voice import MEASURES

# What each of the model's nine classes means on these pages.
EMOTION_MEANINGS: dict[str, str] = {
    "angry": "Voice qualities the model learned from angry or irritated speech: often louder, tenser, "
    "sharper onsets.",
    "disgusted": "Qualities learned from speech expressing disgust or aversion. Rare in everyday speech; "
    "small values mean little.",
    "fearful": "Qualities learned from frightened or anxious speech: often higher, less steady pitch, "
    "faster or hesitant delivery.",
    "happy": "Qualities learned from cheerful or pleased speech: often livelier pitch and energy.",
    "neutral": "Calm, unmarked speech. In most conversations this is the largest share.",
    "other": "The model heard emotional colouring that fits none of its named classes. It is a class "
    "of its own, not an error.",
    "sad": "Qualities learned from sad speech: often lower, flatter, slower and quieter.",
    "surprised": "Qualities learned from surprised speech: often sudden rises in pitch.",
    "unknown": "The model could not place the speech at all (its \u201c<unk>\u201d label). A large "
    "share usually means poor audio, overlapping voices or very little speech, not an emotion.",
}
assert set(EMOTION_MEANINGS) == set(EMOTIONS)

EMOTION_ROWS = [(e, f"emotion-{e}", EMOTION_MEANINGS[e]) for e in EMOTIONS]

# The voice measures beside emotion (ser.engine.voice): anchor, label, unit, what it is.
VOICE_ROWS = [(m.key, f"voice-{m.key}", m.label, m.unit, m.help) for m in MEASURES]
