"""Queue estimates: where a queued recording stands (its position among everyone's queued jobs:
a count, nothing of the other jobs) and when its analysis should be done, from its duration and
the RTF measured by the recent analyses on this host. Everything here is an estimate."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F, FloatField, Func, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext

from .models import AnalysisJob, EmotionAnalysis

RTF_SAMPLE = 50  # the RTF is the median over this many recent analyses
RTF_MIN_SAME = 3  # fewer of the newest analysis's variant and precision: all recent ones are used
WORKER_GRACE_S = 60  # nothing running and the oldest queued job waited longer: no worker is up
# Where each stage starts and ends as a share of a run (bench/: of a 39.7 s run, decode 0.6 s,
# speech detection 3.0 s, the model 36.1 s).
_STAGE_SPAN: dict[str, tuple[float, float]] = {
    AnalysisJob.Stage.DECODING: (0.0, 0.02),
    AnalysisJob.Stage.DETECTING_SPEECH: (0.02, 0.10),
    AnalysisJob.Stage.ANALYSING: (0.10, 0.98),
    AnalysisJob.Stage.SAVING: (0.98, 1.0),
}


@dataclass(frozen=True)
class Rtf:
    """Processing seconds per second of audio, and what it rests on."""

    value: float
    measured_over: int  # analyses it is the median of; 0: not measured yet (SER_ESTIMATE_RTF)
    config: str = ""  # "variant, precision" when all of them share it

    @property
    def basis(self) -> str:
        """In the active language (the request's)."""
        rtf = f"{self.value:.2g}"
        if not self.measured_over:
            return gettext("RTF %(rtf)s assumed (SER_ESTIMATE_RTF): not yet measured on this host") % {
                "rtf": rtf
            }
        n = self.measured_over
        if self.config:
            return ngettext(
                "measured RTF %(rtf)s over the last %(n)s analysis (%(config)s)",
                "measured RTF %(rtf)s over the last %(n)s analyses (%(config)s)",
                n,
            ) % {"rtf": rtf, "n": n, "config": self.config}
        return ngettext(
            "measured RTF %(rtf)s over the last %(n)s analysis",
            "measured RTF %(rtf)s over the last %(n)s analyses",
            n,
        ) % {"rtf": rtf, "n": n}


def measured_rtf() -> Rtf:
    """The median RTF of the most recent analyses of the newest one's model variant and precision
    (what the workers run now), or of all recent ones when that variant has fewer than
    RTF_MIN_SAME; SER_ESTIMATE_RTF while there are none."""
    recent = EmotionAnalysis.objects.filter(duration_s__gt=0, processing_s__gt=0).order_by("-updated_at")
    fields = ("processing_s", "duration_s", "model_variant", "precision")
    rows = list(
        recent.filter(
            model_variant=Subquery(recent.values("model_variant")[:1]),
            precision=Subquery(recent.values("precision")[:1]),
        ).values_list(*fields)[:RTF_SAMPLE]
    )
    if len(rows) < RTF_MIN_SAME:
        rows = list(recent.values_list(*fields)[:RTF_SAMPLE])
    if not rows:
        return Rtf(settings.SER_ESTIMATE_RTF, 0)
    configs = {(variant, precision) for _, _, variant, precision in rows}
    config = ", ".join(next(iter(configs))) if len(configs) == 1 else ""
    return Rtf(statistics.median(p / d for p, d, _, _ in rows), len(rows), config)


def _suffix(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def ordinal(n: int) -> str:
    return f"{n}{_suffix(n)}"


# "2nd in the queue": one sentence per English ordinal suffix, so that a language without them
# (Chinese: 第 2 位) translates each whole.
_IN_THE_QUEUE = {
    "st": gettext_lazy("%(n)sst in the queue"),
    "nd": gettext_lazy("%(n)snd in the queue"),
    "rd": gettext_lazy("%(n)srd in the queue"),
    "th": gettext_lazy("%(n)sth in the queue"),
}


def in_the_queue(position: int) -> str:
    """1 → "Next in the queue"; 2 → "2nd in the queue" (in the active language)."""
    if position == 1:
        return gettext("Next in the queue")
    return str(_IN_THE_QUEUE[_suffix(position)]) % {"n": position}


def rounded_s(seconds: float) -> int:
    """An estimate's seconds, rounded to what it can claim: 5 s under a minute, then 10 s, a
    minute from 10 min, 5 min from an hour."""
    for limit, step in ((60, 5), (600, 10), (3600, 60)):
        if seconds < limit:
            return max(5, step * round(seconds / step))
    return 300 * round(seconds / 300)


def duration_words(seconds: int) -> str:
    """40 → "40 s"; 170 → "3 min"; 4800 → "1 h 20 min" (in the active language)."""
    if seconds < 60:
        return gettext("%(s)s s") % {"s": seconds}
    minutes = round(seconds / 60)
    if minutes < 60:
        return gettext("%(min)s min") % {"min": minutes}
    h, m = divmod(minutes, 60)
    if m:
        return gettext("%(h)s h %(min)s min") % {"h": h, "min": m}
    return gettext("%(h)s h") % {"h": h}


@dataclass(frozen=True)
class QueueEstimate:
    """Where a pending or running job stands: everything here is an estimate."""

    status: str  # the job's status when estimated: pending or running
    position: int | None  # 1 = next to start; pending jobs only (everyone's queued jobs count)
    running: int  # jobs running now, everyone's: the worker slots busy
    eta_s: int | None  # seconds until done; None when there is no basis for one
    rtf: Rtf
    waited_s: float = 0.0  # how long the oldest queued job has waited, when no worker is up

    @property
    def waiting_for_worker(self) -> bool:
        return self.status == AnalysisJob.Status.PENDING and self.eta_s is None

    @property
    def words(self) -> str:
        """The estimate in words, in the active language (the request's)."""
        if self.status == AnalysisJob.Status.PENDING and self.position is not None:
            place = in_the_queue(self.position)
            if self.eta_s is None:
                return gettext("%(place)s · waiting for a worker to start") % {"place": place}
            return gettext("%(place)s · about %(duration)s") % {
                "place": place,
                "duration": duration_words(self.eta_s),
            }
        if self.eta_s is not None:
            return gettext("about %(duration)s left") % {"duration": duration_words(self.eta_s)}
        return ""

    @property
    def basis(self) -> str:
        if self.waiting_for_worker:
            return gettext(
                "no analysis is running and the oldest queued recording has waited %(duration)s"
            ) % {"duration": duration_words(rounded_s(self.waited_s))}
        return self.rtf.basis


def fraction_done(*, stage: str, progress: int, segments_done: int, segments_total: int) -> float:
    """How much of a run is behind a job, 0–1, from its stage and the stage's own progress."""
    start, end = _STAGE_SPAN.get(stage, (0.0, 0.0))
    if stage == AnalysisJob.Stage.ANALYSING and segments_total:
        within = segments_done / segments_total
    elif stage == AnalysisJob.Stage.DETECTING_SPEECH:
        within = progress / 100
    else:
        within = 0.0
    return start + (end - start) * min(1.0, within)


def remaining_s(*, duration_s: float, fraction: float, elapsed_s: float, rtf: float) -> float:
    """A running job's seconds left: the recording's duration × RTF for what is not done yet,
    moving towards the job's own pace (elapsed / fraction done) as it gets halfway; the pace
    knows this recording and this worker, the RTF only the recent average."""
    by_rtf = duration_s * rtf * (1 - fraction)
    if fraction <= 0 or elapsed_s <= 0:
        return by_rtf
    by_pace = elapsed_s * (1 - fraction) / fraction
    weight = min(1.0, fraction / 0.5)
    return (1 - weight) * by_rtf + weight * by_pace


def queue_estimates(*, recording_ids: Iterable[Any], now: datetime | None = None) -> dict[Any, QueueEstimate]:
    """Estimates for the jobs of these recordings that are pending or running (others are left
    out), by recording id; three or four queries however many (none when given no ids).

    A pending job's position counts the pending jobs queued before it (queued_at, then id); it is
    done after the running jobs' remaining work and the pending jobs ahead of it, shared among the
    busy worker slots (when there is a queue every slot is busy), plus its own duration × RTF. With
    jobs pending, none running and the oldest waiting over WORKER_GRACE_S, no time is given."""
    ids = list(recording_ids)
    if not ids:
        return {}
    now = now or timezone.now()
    pending = AnalysisJob.objects.filter(status=AnalysisJob.Status.PENDING)
    ahead = pending.filter(
        Q(queued_at__lt=OuterRef("queued_at")) | Q(queued_at=OuterRef("queued_at"), pk__lt=OuterRef("pk"))
    ).order_by()
    queued = list(
        pending.filter(pk__in=ids)
        .annotate(
            ahead_n=Subquery(ahead.annotate(n=Func(F("pk"), function="COUNT")).values("n")),
            ahead_s=Subquery(
                ahead.annotate(
                    s=Func(F("recording__duration_s"), function="SUM", output_field=FloatField())
                ).values("s")
            ),
            oldest=Subquery(pending.order_by("queued_at").values("queued_at")[:1]),
        )
        .values("pk", "recording__duration_s", "ahead_n", "ahead_s", "oldest")
    )
    running = list(
        AnalysisJob.objects.filter(status=AnalysisJob.Status.RUNNING).values(
            "pk",
            "stage",
            "progress",
            "segments_done",
            "segments_total",
            "started_at",
            "recording__duration_s",
        )
    )
    rtf = measured_rtf()
    left = {
        job["pk"]: remaining_s(
            duration_s=job["recording__duration_s"],
            fraction=fraction_done(
                stage=job["stage"],
                progress=job["progress"],
                segments_done=job["segments_done"],
                segments_total=job["segments_total"],
            ),
            elapsed_s=(now - job["started_at"]).total_seconds() if job["started_at"] else 0.0,
            rtf=rtf.value,
        )
        for job in running
    }
    out: dict[Any, QueueEstimate] = {}
    for job in queued:
        waited = (now - job["oldest"]).total_seconds() if job["oldest"] else 0.0
        eta: int | None = None
        if running or waited <= WORKER_GRACE_S:
            ahead_s = sum(left.values()) + (job["ahead_s"] or 0.0) * rtf.value
            eta = rounded_s(ahead_s / max(1, len(running)) + job["recording__duration_s"] * rtf.value)
        out[job["pk"]] = QueueEstimate(
            AnalysisJob.Status.PENDING, job["ahead_n"] + 1, len(running), eta, rtf, waited
        )
    for pk in set(ids) & left.keys():
        out[pk] = QueueEstimate(AnalysisJob.Status.RUNNING, None, len(running), rounded_s(left[pk]), rtf)
    return out


def queue_estimate(job: AnalysisJob) -> QueueEstimate | None:
    """One job's estimate; None unless it is pending or running."""
    return queue_estimates(recording_ids=[job.pk]).get(job.pk)
