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

MIX, CHANNEL, VOICE, MIXED = "mix", "channel", "voice", "mixed"
RESTRICTIONS = (MIX, CHANNEL, VOICE, MIXED)

# As a column or badge says it.
WORDS: dict[str, str] = {
    MIX: "Both speakers",
    CHANNEL: "Patient's channel",
    VOICE: "Patient only (voice)",
    MIXED: "Mixed (recordings differ)",
}
# Inside a sentence.
PHRASES: dict[str, str] = {
    MIX: "both speakers",
    CHANNEL: "the patient's channel",
    VOICE: "patient only by voice",
    MIXED: "recordings restricted in different ways",
}


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


def _sessions(numbers: Sequence[int]) -> str:
    return ("Session " if len(numbers) == 1 else "Sessions ") + ", ".join(str(n) for n in numbers)


def note(
    restrictions: Sequence[str],
    numbers: Sequence[int],
    is_comparable: np.ndarray,
    by_restriction: Mapping[str, Sequence[int]],
) -> str:
    """In plain words, which sessions' drift is not compared and why ("" when all are)."""
    baseline = of_baseline(by_restriction)
    if baseline == MIXED:
        parts = "; ".join(f"{_sessions(ns).lower()}: {PHRASES[r]}" for r, ns in by_restriction.items())
        return (
            f"The baseline sessions were restricted differently ({parts}), so no session's drift is "
            "compared with it. Choose baseline sessions restricted the same way."
        )
    apart = [i for i in range(len(numbers)) if not is_comparable[i]]
    if not baseline or not apart:
        return ""
    others = ", ".join(dict.fromkeys(PHRASES[restrictions[i]] for i in apart))
    one = len(apart) == 1
    return (
        f"{_sessions([numbers[i] for i in apart])} {'was' if one else 'were'} restricted differently from "
        f"the baseline ({others} vs {PHRASES[baseline]}): {'its' if one else 'their'} drift is not compared."
    )
