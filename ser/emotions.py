"""The nine emotions' display names, one table for both languages.

Keys are the engine's stable English class names (`ser.engine.labels.EMOTIONS`), used as they are
in result.json, CSV columns, FHIR codes and API fields. What people read goes through this table:
English here, Simplified Chinese from the catalogue, where the translations are the model's own
tokens (生气/angry … 未知/unknown; a test keeps the two equal). The context "emotion" keeps these
words apart from the same English word used elsewhere ("other", "unknown")."""

from __future__ import annotations

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from ser.engine.labels import EMOTIONS

EMOTION_NAMES: dict[str, Promise] = {
    "angry": pgettext_lazy("emotion", "angry"),
    "disgusted": pgettext_lazy("emotion", "disgusted"),
    "fearful": pgettext_lazy("emotion", "fearful"),
    "happy": pgettext_lazy("emotion", "happy"),
    "neutral": pgettext_lazy("emotion", "neutral"),
    "other": pgettext_lazy("emotion", "other"),
    "sad": pgettext_lazy("emotion", "sad"),
    "surprised": pgettext_lazy("emotion", "surprised"),
    "unknown": pgettext_lazy("emotion", "unknown"),
}
assert tuple(EMOTION_NAMES) == EMOTIONS


def emotion_name(key: str) -> str:
    """`sad` → "sad" or "难过" in the active language; an unknown key is shown as it is."""
    name = EMOTION_NAMES.get(key)
    return str(name) if name is not None else key


def emotion_names() -> list[str]:
    """The nine names in EMOTIONS order, in the active language (legends, table headers)."""
    return [str(EMOTION_NAMES[e]) for e in EMOTIONS]


def display_names(key: str) -> dict[str, str]:
    """Both languages' names, for machine-readable outputs that add display names to a key."""
    out = {}
    for code in ("en", "zh-hans"):
        with translation.override(code):
            out["zh-Hans" if code == "zh-hans" else code] = emotion_name(key)
    return out
