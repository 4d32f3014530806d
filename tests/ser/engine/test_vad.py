"""Speech segments: the pure shaping of VAD regions, and silero-vad on espeak-ng speech. No Django."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest

from ser.engine import vad
from ser.engine.vad import VadConfig, shape_segments, speech_segments
from tests.audio import conversation

SR = 16000
CFG = VadConfig(min_segment_s=1.0, max_segment_s=4.0, merge_gap_s=0.5)
MIN, MAX = SR, 4 * SR
N = 60 * SR  # the length of the audio the regions below come from


def s(seconds: float) -> int:
    return int(round(seconds * SR))


# -- shape_segments ----------------------------------------------------------------------------


def test_it_merges_regions_across_pauses_shorter_than_the_merge_gap() -> None:
    regions = [(s(1.0), s(2.0)), (s(2.3), s(3.0)), (s(3.4), s(4.2))]  # pauses of 0.3 s and 0.4 s
    assert shape_segments(regions, N, CFG) == [(s(1.0), s(4.2))]


def test_it_keeps_regions_apart_across_pauses_longer_than_the_merge_gap() -> None:
    regions = [(s(1.0), s(2.2)), (s(2.8), s(4.0))]  # a 0.6 s pause
    assert shape_segments(regions, N, CFG) == regions


def test_it_merges_regions_given_out_of_order() -> None:
    assert shape_segments([(s(2.3), s(3.0)), (s(1.0), s(2.0))], N, CFG) == [(s(1.0), s(3.0))]


def test_it_stops_merging_before_a_segment_would_exceed_the_maximum() -> None:
    # Six 1.2 s stretches 0.2 s apart: 8.2 s of near-continuous speech, mergeable in pairs of ≤ 4 s.
    regions = [(s(10 + 1.4 * i), s(10 + 1.4 * i + 1.2)) for i in range(6)]
    shaped = shape_segments(regions, N, CFG)
    assert all(e - a <= MAX for a, e in shaped), shaped
    assert 1 < len(shaped) < len(regions)  # merged, but not into one
    # Nothing was split: every boundary is one of the regions' own.
    starts, ends = {a for a, _ in regions}, {e for _, e in regions}
    assert all(a in starts and e in ends for a, e in shaped)
    assert shaped[0][0] == regions[0][0] and shaped[-1][1] == regions[-1][1]


@pytest.mark.parametrize("seconds, parts", [(4.0, 1), (4.01, 2), (10.0, 3), (25.3, 7)])
def test_it_splits_a_long_region_into_equal_contiguous_pieces_within_the_maximum(
    seconds: float, parts: int
) -> None:
    start = s(5.0)
    end = start + s(seconds)
    shaped = shape_segments([(start, end)], N, CFG)
    assert len(shaped) == parts
    assert shaped[0][0] == start and shaped[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(shaped, shaped[1:], strict=False))  # no gap, no overlap
    lengths = [e - a for a, e in shaped]
    assert max(lengths) <= MAX
    assert max(lengths) - min(lengths) <= 1


def test_it_widens_a_short_region_around_itself_to_the_minimum() -> None:
    start, end = s(20.0), s(20.3)
    ((a, e),) = shape_segments([(start, end)], N, CFG)
    assert e - a >= MIN
    assert e - a <= MIN + 1
    assert a < start and e > end
    assert abs((start - a) - (e - end)) <= 1  # centred on the speech


@pytest.mark.parametrize(
    "region, expected",
    [
        ((0, s(0.2)), (0, MIN)),  # at the very start
        ((s(0.1), s(0.4)), (0, MIN)),  # too close to the start to centre
        ((N - s(0.2), N), (N - MIN, N)),  # at the very end
        ((N - s(0.4), N - s(0.1)), (N - MIN, N)),  # too close to the end to centre
    ],
)
def test_it_widens_a_short_region_at_an_edge_of_the_audio_inwards(
    region: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert shape_segments([region], N, CFG) == [expected]


def test_it_keeps_a_widened_region_inside_audio_shorter_than_the_minimum() -> None:
    n = s(0.7)
    assert shape_segments([(s(0.2), s(0.5))], n, CFG) == [(0, n)]


def test_it_leaves_segments_already_in_range_as_they_are() -> None:
    regions = [(s(1.0), s(3.0)), (s(5.0), s(9.0))]
    assert shape_segments(regions, N, CFG) == regions
    assert shape_segments([], N, CFG) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_segment_s": 0.5},  # below 1 s
        {"min_segment_s": 5.0, "max_segment_s": 4.0},  # min above max
        {"max_segment_s": 31.0},  # above 30 s
        {"min_segment_s": 0.0, "max_segment_s": 0.0},
    ],
)
def test_it_rejects_segment_lengths_out_of_range(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="segment lengths"):
        VadConfig(**kwargs)


def test_it_accepts_the_edges_of_the_allowed_range() -> None:
    assert VadConfig(min_segment_s=1.0, max_segment_s=30.0).max_segment_s == 30.0
    assert VadConfig(min_segment_s=7.0, max_segment_s=7.0).min_segment_s == 7.0


# -- speech_segments on real audio -------------------------------------------------------------

LINES = [
    ("left", "I have not been sleeping well since the move."),
    ("right", "What is the hardest part of the night?"),
    ("left", "Lying awake at four and thinking about work."),
]


@pytest.fixture(scope="module")
def talk():  # type: ignore[no-untyped-def]
    audio, turns = conversation(LINES, pause_s=2.0, lead_s=1.5)
    wav = audio.mean(axis=1)
    return wav, turns, speech_segments(wav)


def test_it_finds_every_spoken_turn(talk) -> None:  # type: ignore[no-untyped-def]
    _, turns, segments = talk
    assert segments, "no speech found"
    for start, end, _ in turns:
        assert any(a / SR < end and start < e / SR for a, e in segments), (start, end, segments)


def test_it_returns_segments_in_range_within_the_audio(talk) -> None:  # type: ignore[no-untyped-def]
    wav, _, segments = talk
    default = VadConfig()
    for a, e in segments:
        assert 0 <= a < e <= wav.size
        assert default.min_segment_s * SR <= e - a <= default.max_segment_s * SR
    assert segments == sorted(segments)


def test_it_leaves_the_long_pauses_out(talk) -> None:  # type: ignore[no-untyped-def]
    wav, turns, segments = talk
    edges = [0.0] + [t for start, end, _ in turns for t in (start, end)] + [wav.size / SR]
    pauses = list(zip(edges[::2], edges[1::2], strict=True))  # the lead, the gaps, the tail
    assert len(pauses) == len(turns) + 1 and all(e - a >= 1.5 for a, e in pauses)
    for a, e in segments:
        assert not any(p0 <= a / SR and e / SR <= p1 for p0, p1 in pauses), (a / SR, e / SR)
    # The middle of every pause is silence nobody analyses.
    for p0, p1 in pauses:
        middle = (p0 + p1) / 2
        assert not any(a / SR <= middle <= e / SR for a, e in segments), (middle, segments)
    speech = sum(end - start for start, end, _ in turns)
    assert sum(e - a for a, e in segments) / SR < speech + 1.0


def test_it_finds_no_speech_in_silence() -> None:
    assert speech_segments(np.zeros(2 * SR, np.float32)) == []


def test_it_finds_no_speech_in_audio_shorter_than_a_tenth_of_a_second(talk) -> None:  # type: ignore[no-untyped-def]
    wav, turns, _ = talk
    middle = int((turns[0][0] + turns[0][1]) / 2 * SR)  # inside a spoken turn
    # Settings under which silero finds speech in a quarter of a second of this turn.
    eager = VadConfig(min_speech_ms=30, min_silence_ms=30, speech_pad_ms=0)
    assert speech_segments(wav[middle : middle + SR // 4], eager) != []
    assert speech_segments(wav[middle : middle + SR // 10 - 1], eager) == []


def test_it_leaves_the_torch_thread_count_as_it_was(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """silero_vad sets torch to one thread when imported; importing it through the vad module must
    not leave the emotion model on one core."""
    import torch

    for name in [m for m in sys.modules if m == "silero_vad" or m.startswith("silero_vad.")]:
        monkeypatch.delitem(sys.modules, name)  # the import below is a fresh one
    monkeypatch.setattr(vad, "_session", None)
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        assert speech_segments(np.zeros(SR, np.float32)) == []
        assert "silero_vad" in sys.modules  # it really was imported again
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)
