"""Whose speech a session's numbers rest on — its *restriction* — and which sessions' drift may be
compared with the baseline's. A session analysed with both speakers mixed in (the therapist's voice
included), one restricted to the patient's own channel and one restricted to the patient's segments
found by voice describe different speech: their embeddings differ for that reason alone, so drift is
compared only between sessions restricted the way the baseline is, and the page says which are not.

Restrictions: "mix" (both speakers: the mixed channels, or any channel of a one-channel recording),
"channel" (left or right of a two-channel recording: the patient's own channel), "voice" (the
patient's segments, found by speaker attribution), and "mixed" for a session whose recordings were
restricted in different ways."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

MIX, CHANNEL, VOICE, MIXED = "mix", "channel", "voice", "mixed"
RESTRICTIONS = (MIX, CHANNEL, VOICE, MIXED)

# As a column or badge says it.
WORDS: dict[str, Promise] = {
    MIX: _("Both speakers"),
    CHANNEL: _("Patient's channel"),
    VOICE: _("Patient only (voice)"),
    MIXED: _("Mixed (recordings differ)"),
}
# Inside a sentence.
PHRASES: dict[str, Promise] = {
    MIX: _("both speakers"),
    CHANNEL: _("the patient's channel"),
    VOICE: _("patient only by voice"),
    MIXED: _("recordings restricted in different ways"),
}


def join(items: Iterable[object]) -> str:
    """Items of a list inside a sentence (session numbers, phrases), with the active language's
    separator: "4, 5, 6" or "4、5、6"."""
    return pgettext("list separator", ", ").join(str(i) for i in items)


def of_analysis(channel: str, channels: int) -> str:
    """The restriction of one analysis: its channel choice, read with its recording's channel count
    (left or right of a one-channel recording is that one channel, both speakers in it)."""
    if channel == "voice":
        return VOICE
    if channel in ("left", "right") and channels >= 2:
        return CHANNEL
    return MIX


def of_session(restrictions: Iterable[str]) -> str:
    """A session's restriction: its recordings' one restriction, or "mixed" when they differ."""
    kinds = set(restrictions)
    return kinds.pop() if len(kinds) == 1 else MIXED


def of_baseline(by_restriction: Mapping[str, Sequence[int]]) -> str:
    """The baseline's restriction (its sessions' one restriction, "mixed" when they differ; "" with
    no baseline)."""
    if not by_restriction:
        return ""
    return next(iter(by_restriction)) if len(by_restriction) == 1 else MIXED


def baseline_sessions(
    restrictions: Sequence[str], numbers: Sequence[int], mask: np.ndarray
) -> dict[str, tuple[int, ...]]:
    """The baseline sessions' numbers by restriction, in order of first use."""
    out: dict[str, list[int]] = {}
    for r, n, m in zip(restrictions, numbers, mask, strict=True):
        if m:
            out.setdefault(r, []).append(n)
    return {r: tuple(ns) for r, ns in out.items()}


def comparable(restrictions: Sequence[str], baseline: str) -> np.ndarray:
    """Per session: restricted the way the baseline is (never, when the baseline mixes restrictions)."""
    if baseline in ("", MIXED):
        return np.zeros(len(restrictions), bool)
    return np.array([r == baseline for r in restrictions], bool)


def note(
    restrictions: Sequence[str],
    numbers: Sequence[int],
    is_comparable: np.ndarray,
    by_restriction: Mapping[str, Sequence[int]],
) -> str:
    """In plain words, which sessions' drift is not compared and why ("" when all are)."""
    baseline = of_baseline(by_restriction)
    if baseline == MIXED:
        parts = pgettext("list separator", "; ").join(
            ngettext("session %(numbers)s: %(how)s", "sessions %(numbers)s: %(how)s", len(ns))
            % {"numbers": join(ns), "how": PHRASES[r]}
            for r, ns in by_restriction.items()
        )
        return gettext(
            "The baseline sessions were restricted differently (%(parts)s), so no session's drift is "
            "compared with it. Choose baseline sessions restricted the same way."
        ) % {"parts": parts}
    apart = [i for i in range(len(numbers)) if not is_comparable[i]]
    if not baseline or not apart:
        return ""
    params = {
        "numbers": join([numbers[i] for i in apart]),
        "others": join(dict.fromkeys(str(PHRASES[restrictions[i]]) for i in apart)),
        "baseline": PHRASES[baseline],
    }
    return (
        ngettext(
            "Session %(numbers)s was restricted differently from the baseline (%(others)s vs "
            "%(baseline)s): its drift is not compared.",
            "Sessions %(numbers)s were restricted differently from the baseline (%(others)s vs "
            "%(baseline)s): their drift is not compared.",
            len(apart),
        )
        % params
    )
