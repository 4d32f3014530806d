"""The nine emotion2vec+ classes and the mapping from the model's own token labels."""

from __future__ import annotations

from collections.abc import Sequence

from .messages import Explained, gettext_noop

# The model's output order (emotion2vec+ seed/base/large, tokens.txt order).
EMOTIONS: tuple[str, ...] = (
    "angry",
    "disgusted",
    "fearful",
    "happy",
    "neutral",
    "other",
    "sad",
    "surprised",
    "unknown",
)

# tokens.txt of the released checkpoints, line by line. "<unk>" is the "unknown" class.
MODEL_TOKENS: tuple[str, ...] = (
    "生气/angry",
    "厌恶/disgusted",
    "恐惧/fearful",
    "开心/happy",
    "中立/neutral",
    "其他/other",
    "难过/sad",
    "吃惊/surprised",
    "<unk>",
)


def _display_name(token: str) -> dict[str, str]:
    """`生气/angry` → {"en": "angry", "zh-Hans": "生气"}; `<unk>` → unknown / 未知."""
    if token == "<unk>":
        return {"en": "unknown", "zh-Hans": "未知"}
    zh, en = token.split("/", 1)
    return {"en": en, "zh-Hans": zh}


# Each emotion's name for people, in English and Simplified Chinese, from the model's own tokens
# (written into result.json as "labels"; the app's pages use ser.emotions, the same names).
DISPLAY_NAMES: dict[str, dict[str, str]] = {
    names["en"]: names for names in (_display_name(t) for t in MODEL_TOKENS)
}
assert tuple(DISPLAY_NAMES) == EMOTIONS


class LabelError(Explained, ValueError):
    """The checkpoint's labels are not the nine emotion2vec+ classes."""


def english_name(token: str) -> str:
    """`生气/angry` → `angry`; `<unk>` → `unknown`."""
    token = token.strip()
    if token in ("<unk>", "unk", "<unknown>"):
        return "unknown"
    name = token.rsplit("/", 1)[-1].strip().lower()
    if name not in EMOTIONS:
        raise LabelError(
            gettext_noop("unexpected emotion label %(token)s in the model's tokens"), token=repr(token)
        )
    return name


def reorder_indices(tokens: Sequence[str]) -> list[int]:
    """Indices into the model's outputs giving scores in EMOTIONS order.

    Raises LabelError unless the tokens are exactly the nine classes (any order).
    """
    names = [english_name(t) for t in tokens]
    if sorted(names) != sorted(EMOTIONS):
        raise LabelError(
            gettext_noop("model labels %(labels)s are not the nine emotion2vec+ classes %(classes)s"),
            labels=str(list(tokens)),
            classes=str(list(EMOTIONS)),
        )
    return [names.index(e) for e in EMOTIONS]
