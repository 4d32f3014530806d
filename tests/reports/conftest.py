"""A patient's history for the trend and dashboard tests."""

from __future__ import annotations

import pytest

from tests.factories import analysed_session

NEUTRAL = [0.02, 0.02, 0.02, 0.1, 0.7, 0.02, 0.08, 0.02, 0.02]


def _emb(x: float, y: float = 0.0) -> list[float]:
    return [x, y, *([0.0] * 62)]


@pytest.fixture
def history(patient):  # type: ignore[no-untyped-def]
    # Three steady baseline sessions, two ordinary ones, then sadness and fear rise and the voice drifts.
    embs = [
        _emb(1.0, 0.0),
        _emb(1.1, 0.05),
        _emb(0.9, -0.05),
        _emb(1.05, 0.0),
        _emb(0.95, 0.02),
        _emb(3.0, 2.0),
    ]
    sad_fear = [0.05, 0.05, 0.06, 0.10, 0.2, 0.35]
    sessions = []
    for i, (e, d) in enumerate(zip(embs, sad_fear, strict=True), start=1):
        s = list(NEUTRAL)
        s[2], s[6] = d / 2, d / 2
        s[4] = 1 - sum(s) + s[4]
        sessions.append(analysed_session(patient, i, scores=s, embedding=e, speech_s=300 if i != 4 else 20))
    return sessions
