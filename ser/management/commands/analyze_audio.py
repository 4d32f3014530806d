"""Batch analysis from the command line, no database: one outputs_<time>_<name>/ folder per input
holding result.json, processed_audio.wav and (with --embedding) embedding.npy — the seed WebUI's
outputs. A file that cannot be analysed is reported and skipped; the rest go on.

`--channel voice` ("patient only (voice)") tells the patient's speech from the therapist's on a
one-channel recording; `--therapist-voice SAMPLE` names the therapist's voice from a sample of it
(and implies `--channel voice`). Without a sample the two voices stay unnamed (A/B)."""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.text import get_valid_filename

from ser.engine.model import PRECISIONS


class Command(BaseCommand):
    help = __doc__
    requires_system_checks: list[str] = []  # no database needed

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("inputs", nargs="+", metavar="FILES_OR_DIRS")
        parser.add_argument("--out", required=True, help="folder for the outputs_… folders")
        parser.add_argument("--granularity", choices=["utterance", "frame"], default="utterance")
        parser.add_argument(
            "--channel",
            choices=["mix", "left", "right", "voice"],
            default=None,
            help="mix (default), left, right, or voice: the patient's speech only, told apart by voice",
        )
        parser.add_argument(
            "--therapist-voice",
            metavar="SAMPLE",
            default=None,
            help="a 20-60 s sample of the therapist's voice alone: their speech is left out "
            "(implies --channel voice)",
        )
        parser.add_argument("--embedding", action="store_true", help="also write embedding.npy")
        parser.add_argument("--model", default=None, help="hub id or model directory (default: SER_MODEL)")
        parser.add_argument("--precision", default=None, choices=list(PRECISIONS))

    def handle(self, *args: Any, **opts: Any) -> None:
        from tqdm import tqdm

        from ser import runtime
        from ser.engine import notices
        from ser.engine.audio import AudioError, find_audio_files
        from ser.engine.model import ModelUnavailableError
        from ser.engine.outputs import SEED_FILES, sha256_file, write_outputs
        from ser.engine.pipeline import NoSpeechError, analyse_file

        files = find_audio_files(opts["inputs"])
        if not files:
            raise CommandError("No audio files found in the inputs given.")
        channel, speakers = self._speakers(opts)
        try:
            model = runtime.load_model(source=opts["model"], precision=opts["precision"])
        except ModelUnavailableError as exc:
            raise CommandError(str(exc)) from exc
        if model.info.is_test_model:
            self.stderr.write(f"NOTE: SER_MODEL is a test checkpoint. {notices.TEST_MODEL_WARNING}")
        vad = runtime.vad_config()
        names = SEED_FILES if opts["embedding"] else tuple(n for n in SEED_FILES if n != "embedding.npy")
        out_root = Path(opts["out"])
        out_root.mkdir(parents=True, exist_ok=True)
        rows: list[tuple[str, ...]] = []
        failures = 0
        for path in tqdm(files, desc="Analysing", unit="file", file=sys.stderr, disable=None):
            started = time.perf_counter()
            # The processed audio is spooled here while decoding, then copied into the output folder;
            # the folder goes whatever happens.
            with tempfile.TemporaryDirectory(prefix="ser-analyze-") as tmp:
                try:
                    result = analyse_file(
                        path,
                        model,
                        granularity=opts["granularity"],
                        channel=channel,
                        vad=vad,
                        max_duration_s=settings.SER_MAX_DURATION_S,
                        audio_out=Path(tmp) / "processed_audio.wav",
                        voice=settings.SER_VOICE,
                        max_pause_s=settings.SER_VOICE_MAX_PAUSE_S,
                        speakers=speakers,
                    )
                except (AudioError, NoSpeechError, OSError) as exc:
                    failures += 1
                    rows.append(
                        (
                            path.name,
                            "skipped",
                            "",
                            "",
                            "",
                            "",
                            f"{time.perf_counter() - started:.1f}",
                            str(exc),
                        )
                    )
                    continue
                stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
                stem = _stem(path.name)
                folder = out_root / f"outputs_{stamp}_{stem}"
                n = 1
                while folder.exists():
                    n += 1
                    folder = out_root / f"outputs_{stamp}_{stem}_{n}"
                write_outputs(
                    folder, result, input_sha256=sha256_file(path), source_name=path.name, names=names
                )
            if result.speakers is not None:
                self.stdout.write(f"{path.name}: {_speaker_seconds(result.speakers)}")
            rows.append(
                (
                    path.name,
                    "ok",
                    result.dominant,
                    f"{result.confidence:.2f}",
                    f"{result.analysed_s:.1f}",
                    str(len(result.segments)),
                    f"{time.perf_counter() - started:.1f}",
                    str(folder),
                )
            )
        self._table(rows)
        self.stdout.write(f"{len(files) - failures} analysed, {failures} skipped. {notices.DISCLAIMER}")
        if failures == len(files):
            raise CommandError("No file could be analysed.")

    def _speakers(self, opts: dict[str, Any]) -> tuple[str, Any]:
        """The channel, and for "voice" the speaker setup: the encoder and, with a sample, the
        therapist's voice profile enrolled from it."""
        from ser import runtime
        from ser.engine.audio import AudioError
        from ser.engine.pipeline import SpeakerSetup
        from ser.engine.speakers import EnrolmentError, SpeakerModelUnavailableError
        from ser.voiceprofiles import enrol_file

        sample = opts.get("therapist_voice")
        channel = opts.get("channel") or ("voice" if sample else "mix")
        if sample and channel != "voice":
            raise CommandError(
                "--therapist-voice tells speakers apart by voice; it cannot be combined with "
                f"--channel {channel}."
            )
        if channel != "voice":
            return channel, None
        try:
            encoder = runtime.get_speaker_encoder()
        except SpeakerModelUnavailableError as exc:
            raise CommandError(str(exc)) from exc
        if not sample:
            self.stderr.write(
                "NOTE: no --therapist-voice sample: the two voices are left unnamed (A/B) and the scores "
                "are over all speech until the therapist's voice is given."
            )
            return channel, SpeakerSetup(encoder, None)
        try:
            enrolment = enrol_file(sample, encoder=encoder)
        except (AudioError, EnrolmentError, OSError) as exc:
            raise CommandError(f"The therapist's voice sample {sample} cannot be used: {exc}") from exc
        self.stderr.write(
            f"Therapist's voice enrolled from {enrolment.speech_s:.0f} s of speech in {Path(sample).name}."
        )
        return channel, SpeakerSetup(encoder, enrolment.embedding, enrolment.pitch_hz)

    def _table(self, rows: list[tuple[str, ...]]) -> None:
        head = ("file", "status", "emotion", "conf", "speech_s", "segments", "time_s", "output / reason")
        widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head) - 1)]
        for r in [head, *rows]:
            cells = [str(c).ljust(w) for c, w in zip(r[:-1], widths, strict=True)]
            self.stdout.write("  ".join([*cells, str(r[-1])]))


def _stem(name: str) -> str:
    """A folder-name-safe stem of the input's name (at most 80 characters)."""
    stem = Path(name).stem.strip(" ._")
    return (get_valid_filename(stem) if stem else "audio")[:80]


def _speaker_seconds(att: Any) -> str:
    """Seconds of speech per speaker, in words ("patient 41.2 s, therapist 30.5 s, uncertain 1.1 s")."""
    from ser.engine.speakers import PATIENT, THERAPIST, UNCERTAIN, VOICES

    if att.named:
        words = ", ".join(f"{s} {att.seconds_of(s):.1f} s" for s in (PATIENT, THERAPIST, UNCERTAIN))
    else:
        words = ", ".join(f"voice {v} {att.voice_seconds(v):.1f} s" for v in VOICES) + " (not named)"
    notes = " ".join(att.notes)
    return f"speech attributed: {words}" + (f". {notes}" if notes else "")
