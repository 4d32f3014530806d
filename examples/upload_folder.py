#!/usr/bin/env python3
"""Upload a folder of recordings through the clinic's REST API, wait for their analyses and write
a CSV of the results: the scripted batch job of the emotion2vec+ WebUI, for a patient's sessions.

One new session per audio file, in file-name order (name the files so that this is the order the
sessions happened), dated by a YYYY-MM-DD or YYYYMMDD date in the file's name (with
--date-from-name; 12:00 UTC that day) or else by the file's modification time. Each file is
uploaded, its analysis waited for, and written as one CSV row; a refused or failed file gets a row
too, with the reason, and a refused file leaves no session behind. Only the folder's own files are
read (not its subfolders).

Usage:
    export CLINIC_API_TOKEN=...   # POST your username and password to /api/v1/auth/token/
    python3 examples/upload_folder.py --url https://clinic.example.org \\
        --patient 0b6f3c52-4c1e-4b8e-9d7a-2f0f5a8e1c33 --consent-confirmed --date-from-name \\
        --csv results.csv ./recordings

Needs Python 3.9+ with requests and tqdm (pip install requests tqdm); no Django. The token may
also be given with --token, but a command line is seen by other users of the machine and kept in
the shell's history; the token is never printed.

Exit status: 0 every file analysed; 1 a file was refused, failed or did not finish within
--timeout; 2 nothing or not everything was tried (a refused token, an unknown patient, no audio
files, the server unreachable). The CSV holds a row for every file tried, whatever the status.
"""

from __future__ import annotations

import argparse
import csv
import io
import mimetypes
import os
import re
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import requests
from tqdm import tqdm

# What the server takes (it checks the content too); anything else in the folder is skipped.
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".webm", ".mp4", ".aiff", ".aif"}
)
EMOTIONS = ("angry", "disgusted", "fearful", "happy", "neutral", "other", "sad", "surprised", "unknown")
CSV_COLUMNS = [
    *("file", "session_id", "session_number", "recording_id", "status", "dominant_emotion", "confidence"),
    *(f"score_{e}" for e in EMOTIONS),
    *("analysed_s", "model_id", "model_revision", "precision", "is_test_model", "input_sha256", "error"),
]
FINISHED = ("done", "failed")
UTC = timezone.utc  # noqa: UP017 -- datetime.UTC is Python 3.11+; this script runs on 3.9
_DATE = re.compile(r"(20\d\d)-?([01]\d)-?([0-3]\d)")
_MAX_429_WAITS = 20
_QUEUED_HINT_S = 120


class Stop(Exception):
    """Nothing more can be done in this run (a refused token, the server unreachable): exit 2."""


class Unreachable(Stop):
    pass


def say(message: str) -> None:
    tqdm.write(message)  # above the progress bars, not through them


def error_detail(resp: requests.Response) -> str:
    """The `detail` sentence of the API's error body; the status line if the body is not one."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("detail"):
        return str(body["detail"])
    return f"HTTP {resp.status_code} {resp.reason}"


def retry_after(resp: requests.Response) -> int:
    try:
        wait = resp.json().get("retry_after_s")
    except (ValueError, AttributeError):
        wait = None
    if wait is None:
        header = resp.headers.get("Retry-After", "")
        wait = int(header) if header.isdigit() else 5
    return max(1, int(wait))


class Api:
    """The /api/v1/ endpoints this script uses, with the token; waits out rate limits (429)."""

    def __init__(self, url: str, token: str) -> None:
        self.root = url.rstrip("/")
        self.http = requests.Session()
        self.http.headers.update(
            {"Authorization": f"Token {token}", "Accept": "application/json", "User-Agent": "upload_folder/1"}
        )

    def call(self, method: str, path: str, *, timeout: float = 60, **kwargs: Any) -> requests.Response:
        url = f"{self.root}/api/v1{path}"
        tries = 0
        while True:
            tries += 1
            body = kwargs.get("data")
            if isinstance(body, MultipartUpload):
                body.seek(0)  # a retried upload is sent again from its first byte
            try:
                resp = self.http.request(method, url, timeout=(10, timeout), allow_redirects=False, **kwargs)
            except requests.ConnectionError as exc:
                # Only a read can be safely repeated: a POST may have been done before the line broke.
                if method == "GET" and tries <= 3:
                    time.sleep(tries)
                    continue
                reason = getattr(exc.args[0], "reason", None) if exc.args else None  # urllib3's, shorter
                raise Unreachable(f"Cannot reach {self.root}: {reason or exc}") from exc
            if resp.status_code == 401:
                raise Stop(
                    f"The server refused the token: {error_detail(resp)} Get a token by POSTing your "
                    f"username and password to {self.root}/api/v1/auth/token/."
                )
            if resp.is_redirect:
                # requests would turn a redirected POST into a GET; better to be told the right --url.
                raise Stop(f"{url} redirects to {resp.headers.get('Location')}: give that server as --url.")
            if resp.status_code == 429 and tries <= _MAX_429_WAITS:
                wait = retry_after(resp)
                if tries == 1 or wait >= 5:  # not a line for every short wait
                    say(f"  the server asks to slow down: waiting {wait} s")
                time.sleep(wait)
                continue
            return resp


class MultipartUpload:
    """A multipart/form-data body read from disk as it is sent (requests would hold the whole file
    in memory, and recordings run to hundreds of MB), counting the bytes for the progress bar.
    requests sends len() as Content-Length and read()s it in blocks."""

    def __init__(self, path: Path, fields: dict[str, str], on_read: Callable[[int], None]) -> None:
        boundary = uuid.uuid4().hex
        self.content_type = f"multipart/form-data; boundary={boundary}"
        name = path.name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        head = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()
        )
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {mime}\r\n\r\n"
        )
        tail = f"\r\n--{boundary}--\r\n".encode()
        self._file = path.open("rb")
        self._parts: list[IO[bytes]] = [io.BytesIO(head.encode()), self._file, io.BytesIO(tail)]
        self._length = len(head.encode()) + os.fstat(self._file.fileno()).st_size + len(tail)
        self._on_read = on_read
        self._part = self._sent = 0

    def __len__(self) -> int:
        return self._length

    def tell(self) -> int:
        return self._sent

    def seek(self, offset: int, whence: int = 0) -> int:
        if (offset, whence) != (0, 0):
            raise io.UnsupportedOperation("only a rewind to the start")
        for part in self._parts:
            part.seek(0)
        if self._sent:
            self._on_read(-self._sent)  # the bar starts again with the body
        self._part = self._sent = 0
        return 0

    def read(self, size: int = -1) -> bytes:
        while self._part < len(self._parts):
            chunk = self._parts[self._part].read(size if size > 0 else -1)
            if chunk:
                self._sent += len(chunk)
                self._on_read(len(chunk))
                return chunk
            self._part += 1
        return b""

    def close(self) -> None:
        self._file.close()


def started_at(path: Path, from_name: bool) -> tuple[datetime, str]:
    """The session's start, timezone-aware UTC, and where it came from (for the console)."""
    if from_name and (m := _DATE.search(path.name)):
        try:
            return datetime(int(m[1]), int(m[2]), int(m[3]), 12, tzinfo=UTC), "from the name"
        except ValueError:
            pass  # 20261345 is not a date: the file's time, then
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC), "file time"


def folder_files(folder: Path) -> tuple[list[Path], list[str]]:
    """The folder's audio files in name order, and a line for each thing skipped."""
    audio: list[Path] = []
    skipped: list[str] = []
    for p in sorted(folder.iterdir(), key=lambda p: p.name):
        if p.is_dir():
            skipped.append(f"skipped {p.name}/: a folder (subfolders are not read)")
        elif p.name.startswith("."):
            skipped.append(f"skipped {p.name}: a hidden file")
        elif p.suffix.lower() not in AUDIO_EXTENSIONS:
            skipped.append(f"skipped {p.name}: not an audio file ({p.suffix or 'no extension'})")
        else:
            audio.append(p)
    return audio, skipped


def number(value: Any) -> str:
    return "" if value is None else f"{float(value):.4f}"


def fill_from_recording(row: dict[str, Any], rec: dict[str, Any]) -> None:
    row["status"] = rec["status"]
    row["error"] = rec.get("error") or ""
    if rec["status"] != "done":
        return
    if not rec.get("analyses"):
        row["error"] = "Done, but the server returned no analysis."
        return
    a = rec["analyses"][0]  # the latest
    row.update(
        dominant_emotion=a["dominant_emotion"],
        confidence=number(a["confidence"]),
        analysed_s=number(a["analysed_s"]),
        model_id=a["model_id"],
        model_revision=a["model_revision"],
        precision=a["precision"],
        is_test_model="true" if a["is_test_model"] else "false",
        input_sha256=a["input_sha256"],
        _notice=a.get("notice", ""),
    )
    for e in EMOTIONS:
        row[f"score_{e}"] = number(a["scores"].get(e))


class Batch:
    def __init__(self, api: Api, args: argparse.Namespace, total: int) -> None:
        self.api, self.args = api, args
        self.deadline = time.monotonic() + args.timeout if args.timeout else None
        self.hinted = False
        bar_format = "{l_bar}{bar}| {n_fmt}/{total_fmt}"
        self.files_bar = tqdm(total=total, desc="Files", position=0, disable=None, bar_format=bar_format)

    def bar(self, **kwargs: Any) -> tqdm:  # type: ignore[type-arg]
        return tqdm(position=1, leave=False, disable=None, **kwargs)

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def forget_session(self, row: dict[str, Any]) -> str:
        """Delete the session just made for a file the server then refused: no empty session."""
        resp = self.api.call("DELETE", f"/sessions/{row['session_id']}/")
        if resp.status_code in (204, 404):
            row["session_id"] = row["session_number"] = row["_where"] = ""
            return ""
        return f" Its empty session {row['session_number']} could not be deleted: {error_detail(resp)}"

    def one(self, path: Path) -> dict[str, Any]:
        row: dict[str, Any] = dict.fromkeys(CSV_COLUMNS, "")
        row["file"] = path.name
        if self.out_of_time():
            row.update(
                status="not_uploaded", error=f"the --timeout of {self.args.timeout:g} s ran out first."
            )
            return row
        when, source = started_at(path, self.args.date_from_name)
        resp = self.api.call(
            "POST",
            f"/patients/{self.args.patient}/sessions/",
            json={"started_at": when.isoformat(), "notes": f"Imported from {path.name}"},
        )
        if resp.status_code != 201:
            row.update(status="refused", error=f"No session made: {error_detail(resp)}")
            return row
        session = resp.json()
        row.update(session_id=session["id"], session_number=session["number"])
        row["_where"] = f"session {session['number']}, {when:%Y-%m-%d} ({source})"
        try:
            resp = self.upload(path, session["id"])
        except Unreachable as exc:
            # The upload may have broken off because the server dropped an oversized body; if the
            # server still answers, this file was refused and the next can go.
            row.update(status="refused", error=f"The upload did not get through ({exc}).")
            row["error"] += self.forget_session(row)
            return row
        except BaseException:
            try:
                self.forget_session(row)
            except Exception:
                pass  # told below: the run stops with this file
            raise
        if resp.status_code != 201:
            row.update(status="refused", error=error_detail(resp))
            row["error"] += self.forget_session(row)
            return row
        rec = resp.json()["recordings"][0]
        row["recording_id"] = rec["id"]
        fill_from_recording(row, self.wait(rec))
        return row

    def upload(self, path: Path, session_id: str) -> requests.Response:
        fields = {
            "consent_confirmed": "true",
            "channel": self.args.channel,
            "granularity": self.args.granularity,
        }
        size = path.stat().st_size
        with self.bar(total=size, unit="B", unit_scale=True, desc=f"Uploading {path.name}") as bar:
            body = MultipartUpload(path, fields, bar.update)
            try:
                headers = {"Content-Type": body.content_type}
                return self.api.call(
                    "POST", f"/sessions/{session_id}/recordings/", data=body, headers=headers, timeout=600
                )
            finally:
                body.close()

    def wait(self, rec: dict[str, Any]) -> dict[str, Any]:
        """The recording once its analysis is done or failed; or as it stands, with the reason in
        `error`, when --timeout runs out or the server keeps answering with an error."""
        started, errors = time.monotonic(), 0
        with self.bar(total=100, desc="Analysing", bar_format="{l_bar}{bar}| {elapsed}{postfix}") as bar:
            while rec["status"] not in FINISHED:
                if self.out_of_time():
                    return {
                        **rec,
                        "error": f"Still {rec['status']} when the --timeout of {self.args.timeout:g} s "
                        f"ran out; the analysis goes on on the server (GET /api/v1/recordings/{rec['id']}/).",
                    }
                pause = self.args.poll
                if self.deadline is not None:
                    pause = max(0.0, min(pause, self.deadline - time.monotonic()))
                time.sleep(pause)
                resp = self.api.call("GET", f"/recordings/{rec['id']}/")
                if resp.status_code == 404:
                    return {**rec, "status": "failed", "error": "The recording was deleted on the server."}
                if resp.status_code != 200:
                    errors += 1  # a passing server error: ask again, but not for ever
                    if errors < 10:
                        continue
                    return {
                        **rec,
                        "error": f"The server answered {errors} status checks with: {error_detail(resp)}",
                    }
                rec, errors = resp.json(), 0
                bar.update(max(0, int(rec.get("progress") or 0) - bar.n))
                bar.set_postfix_str(rec["status"], refresh=True)
                if (
                    rec["status"] == "pending"
                    and not self.hinted
                    and time.monotonic() - started > _QUEUED_HINT_S
                ):
                    self.hinted = True
                    say(f"  still queued after {_QUEUED_HINT_S} s: is the analysis worker running?")
        return rec


def describe(index: int, total: int, row: dict[str, Any]) -> str:
    if row["status"] == "done":
        result = (
            f"done: {row['dominant_emotion']} {row['confidence']}, {float(row['analysed_s']):.1f} s of speech"
        )
    else:
        result = f"{row['status'].replace('_', ' ')}: {row['error']}"
    where = f"{row['_where']}, " if row.get("_where") else ""
    return f"[{index}/{total}] {row['file']}: {where}{result}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="Exit status: 0 all analysed, 1 some file refused/failed/unfinished, 2 could not go on.",
    )
    parser.add_argument("folder", type=Path, help="folder of recordings, one session per file")
    parser.add_argument(
        "--url", default="http://127.0.0.1:8000", help="the clinic server (default: %(default)s)"
    )
    parser.add_argument("--token", help="API token (default: the CLINIC_API_TOKEN environment variable)")
    parser.add_argument("--patient", required=True, type=uuid.UUID, help="patient id (UUID)")
    parser.add_argument(
        "--consent-confirmed",
        action="store_true",
        help="confirm the patient consented to every recording being analysed (required)",
    )
    parser.add_argument("--channel", choices=["mix", "left", "right"], default="mix")
    parser.add_argument("--granularity", choices=["utterance", "frame"], default="utterance")
    parser.add_argument(
        "--date-from-name",
        action="store_true",
        help="date each session from a YYYY-MM-DD or YYYYMMDD date in the file name (else the file's time)",
    )
    parser.add_argument(
        "--csv", type=Path, default=Path("results.csv"), help="results file (default: %(default)s)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="stop waiting after this many seconds in all (default: no limit)",
    )
    parser.add_argument(
        "--poll", type=float, default=2.0, help="seconds between status checks (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    if not args.consent_confirmed:
        parser.error("Pass --consent-confirmed once you have confirmed consent for these recordings.")
    args.token = args.token or os.environ.get("CLINIC_API_TOKEN", "")
    if not args.token:
        parser.error("Give an API token: set CLINIC_API_TOKEN (or pass --token).")
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder.")
    if args.poll <= 0 or (args.timeout is not None and args.timeout <= 0):
        parser.error("--poll and --timeout must be more than 0 seconds.")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    files, skipped = folder_files(args.folder)
    for line in skipped:
        print(line)
    if not files:
        print(f"No audio files in {args.folder}.", file=sys.stderr)
        return 2
    api = Api(args.url, args.token)
    rows: list[dict[str, Any]] = []
    try:
        # Asked first, so that a wrong token or patient id stops the run before anything is made.
        resp = api.call("GET", f"/patients/{args.patient}/")
        if resp.status_code != 200:
            print(f"Patient {args.patient}: {error_detail(resp)}", file=sys.stderr)
            return 2
        try:
            out = args.csv.open("w", newline="", encoding="utf-8")
        except OSError as exc:
            print(f"Cannot write {args.csv}: {exc.strerror}.", file=sys.stderr)
            return 2
        print(f"{len(files)} recording{'s'[: len(files) != 1]} from {args.folder} to {api.root}")
        batch = Batch(api, args, len(files))
        with out, batch.files_bar:
            writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for i, path in enumerate(files, start=1):
                rows.append(batch.one(path))
                writer.writerow(rows[-1])
                out.flush()  # a run that stops keeps the rows it has
                say(describe(i, len(files), rows[-1]))
                batch.files_bar.update(1)
    except Stop as exc:
        print(f"Stopped after {len(rows)} of {len(files)} files: {exc}", file=sys.stderr)
        if rows:
            print(f"Results so far: {args.csv}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"\nInterrupted after {len(rows)} of {len(files)} files; results so far: {args.csv}",
            file=sys.stderr,
        )
        return 130
    statuses = [row["status"] for row in rows]
    counts = ", ".join(f"{statuses.count(s)} {s.replace('_', ' ')}" for s in dict.fromkeys(statuses))
    print(f"{counts}. Results: {args.csv}")
    for notice in dict.fromkeys(row["_notice"] for row in rows if row.get("_notice")):
        print(f"Note: {notice}")
    return 0 if all(s == "done" for s in statuses) else 1


if __name__ == "__main__":
    sys.exit(main())
