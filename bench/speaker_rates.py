"""Speaker attribution's known-answer rates over several conversations (seeds) and voice pairs,
beyond the one conversation per case the tests assert on: `python bench/speaker_rates.py
[--seeds 1 2 3]`. Prints one line per pair and seed, then a JSON summary. No Django, no model
but the speaker encoder; about 10 s per conversation on 2 cores."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ser.engine.speakers import PATIENT, SpeakerEncoder, attribute, enrol  # noqa: E402
from ser.engine.vad import VadConfig, shape_segments, speech_regions  # noqa: E402
from ser.testkit.synth import ENROLMENT_TEXT, Voice, conversation, frame_mask  # noqa: E402

PAIRS = {  # therapist, patient
    "two voices": (Voice("en-us+f3", 70), Voice("en-us+m3", 40)),
    "pitch/speed variant of one voice": (Voice("en-us+m3", 40), Voice("en-us+m3", 60, 185)),
    "default en-us voice, pitch 50 vs 65": (Voice("en-us", 50), Voice("en-us", 65, 180)),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = ap.parse_args()
    encoder, cfg = SpeakerEncoder.load(), VadConfig()
    summary: dict[str, list[dict[str, float]]] = {}
    for name, (therapist, patient) in PAIRS.items():
        profile = enrol([therapist.say(ENROLMENT_TEXT)], encoder)
        for seed in args.seeds:
            conv = conversation(therapist, patient, turns=8, overlaps=2, seed=seed)
            regions = speech_regions(conv.mix, cfg)
            bounds = shape_segments(regions, conv.mix.size, cfg)
            pieces = [conv.mix[a:b] for a, b in bounds]
            frames = conv.active["patient"].size
            both = conv.active["patient"] & conv.active["therapist"]
            said_p, said_t = conv.active["patient"] & ~both, conv.active["therapist"] & ~both

            def mask(att, labels, label, frames=frames):  # type: ignore[no-untyped-def]
                spans = [
                    (a / 16000, b / 16000) for (a, b), x in zip(att.bounds, labels, strict=True) if x == label
                ]
                return frame_mask(spans, frames)

            att = attribute(
                pieces, bounds, regions, encoder, profile=profile.embedding, profile_pitch_hz=profile.pitch_hz
            )
            taken = mask(att, att.speakers, PATIENT)
            kept = float((taken & said_p).sum() / said_p.sum())
            leak = float((taken & said_t).sum() / said_t.sum())
            att2 = attribute(pieces, bounds, regions, encoder)
            a, b = mask(att2, att2.voices, "A"), mask(att2, att2.voices, "B")
            right = max((a & said_p).sum() + (b & said_t).sum(), (b & said_p).sum() + (a & said_t).sum())
            split = float(right / (said_p.sum() + said_t.sum()))
            row = {"seed": seed, "kept": round(kept, 4), "leak": round(leak, 4), "split": round(split, 4)}
            summary.setdefault(name, []).append(row)
            print(
                f"{name}, seed {seed}: enrolled kept {kept:.1%} leak {leak:.1%}; "
                f"not enrolled split {split:.1%}",
                file=sys.stderr,
            )
    print(json.dumps(summary))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
