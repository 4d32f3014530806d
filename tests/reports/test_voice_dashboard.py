"""The dashboard's voice panel (small multiples of every measure with the patient's usual range, and
a table of the latest session against it), its empty state, the voice flags on the page, the voice
plot's layout at both widths, and the voice part of the trend API."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import combinations

import numpy as np
import pytest
from django.urls import reverse

from reports import charts, plots, voice_panel
from ser.engine.voice import MEASURE_KEYS, MEASURES
from ser.models import EmotionAnalysis
from tests.reports.test_plot_layout import LONG_NOTE, _footnote, _renderer
from tests.reports.voice_data import VALUES, add_voice

TITLES = [f"{m.label} ({m.unit})" for m in MEASURES]


def _visible_tick_labels(ax, renderer):  # type: ignore[no-untyped-def]
    """The date labels shown under `ax` (its panels share the time axis, so ticks are read one by one)."""
    lo, hi = sorted(ax.get_xlim())
    return [
        tick.label1.get_window_extent(renderer)
        for tick in ax.xaxis.get_major_ticks()
        if tick.label1.get_visible() and tick.label1.get_text() and lo <= tick.get_loc() <= hi
    ]


def _img_src(page: str, img_id: str) -> str:
    match = re.search(rf'<img class="plot[^"]*" id="{img_id}" src="([^"]+)"', page)
    assert match, img_id
    return match.group(1).replace("&amp;", "&")


def _row(page: str, key: str) -> list[str]:
    match = re.search(rf'<tr id="voice-row-{key}">(.*?)</tr>', page, re.S)
    assert match, key
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", match.group(1), re.S)
    ]


@pytest.mark.django_db
def test_the_dashboard_shows_the_voice_panel_with_its_plot_and_table(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    add_voice(history)  # sessions 1–3 the baseline; 5 and 6 slower with longer pauses; 6 without quality
    page = web.get(reverse("reports:dashboard", args=[patient.pk])).content.decode()
    panel = page[page.index('<section id="voice">') : page.index('<section id="map">')]
    assert page.index('<section id="drift">') < page.index('<section id="voice">')
    src = _img_src(panel, "plot-voice")
    assert src.startswith(reverse("reports:plot", args=[patient.pk, "voice"]) + "?")
    assert "c=" not in src  # the classes do not change the voice plot: one drawing serves all
    assert f'srcset="{src.replace("&", "&amp;")}&amp;w=narrow"' in panel  # the phone drawing
    assert 'alt="Voice measures per session' in panel
    assert "<caption>Latest session in the range (session 6," in panel and 'scope="col"' in panel
    # One row per measure: label (linked to its help), the latest value, the usual range, the state.
    for m in MEASURES:
        cells = _row(panel, m.key)
        assert cells[0].startswith(m.label) and m.help[1:] in cells[0], m.key
    assert _row(panel, "speech_rate")[1:] == ["2.61 syll/s", "3.63–4.01 syll/s", "below usual range"]
    assert _row(panel, "pause_ratio")[1:] == ["34.6 %", "16.7–18.5 %", "above usual range"]
    assert _row(panel, "pauses_per_min")[1:][-1] == "within usual range"
    assert _row(panel, "hnr_db")[1] == "—"  # session 6's voice quality could not be measured
    assert 'class="state below"' in panel and 'class="state above"' in panel
    assert "dB as Praat measures it, not calibrated: compare within this patient and set-up" in panel
    assert "Decision support, not a diagnosis." in panel and "for review" in panel
    assert not re.search(r"depress|disorder|symptom|patholog|abnormal", panel, re.I)
    # The voice flags in the flags list, linked to their help.
    flags = page[page.index('<section id="flags">') : page.index('<section id="trajectory">')]
    assert (
        'class="flag voice-speech_rate"' in flags
        and "Speech rate below this patient&#x27;s usual range" in flags
    )
    assert f'href="{reverse("reports:help")}#flag-voice"' in flags
    help_ids = set(re.findall(r'id="([\w-]+)"', web.get(reverse("reports:help")).content.decode()))
    linked = set(re.findall(rf'href="{reverse("reports:help")}#([\w-]+)"', page))
    assert {"voice", "flag-voice", *(f"voice-{k}" for k in MEASURE_KEYS)} <= linked <= help_ids


@pytest.mark.django_db
def test_a_measure_without_two_baseline_values_has_no_range_and_no_state(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    add_voice(history)
    EmotionAnalysis.objects.filter(recording__session__number__in=[1, 2]).update(voice={})
    page = web.get(reverse("reports:dashboard", args=[patient.pk])).content.decode()
    assert _row(page, "speech_rate")[1:] == ["2.61 syll/s", voice_panel.NO_BAND, "—"]
    assert voice_panel.NO_BAND == "needs two baseline sessions"


@pytest.mark.django_db
def test_the_voice_plot_draws_every_measure_with_its_unit(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    add_voice(history)
    page = web.get(reverse("reports:dashboard", args=[patient.pk])).content.decode()
    src = _img_src(page, "plot-voice")
    for url in (src, src + "&w=narrow"):
        svg = web.get(url)
        assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
        text = svg.content.decode()
        for title in TITLES:
            assert title in text, title
        assert "not calibrated" in text and "TEST CHECKPOINT" in text  # the footnote, with the warning
    assert web.get(src).content != web.get(src + "&w=narrow").content


@pytest.mark.django_db
def test_a_patient_without_voice_measures_sees_how_to_get_them(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    page = web.get(reverse("reports:dashboard", args=[patient.pk])).content.decode()
    panel = page[page.index('<section id="voice">') : page.index('<section id="map">')]
    assert str(voice_panel.EMPTY) in panel and "manage.py voice_recompute" in panel
    assert 'id="plot-voice"' not in panel and 'id="voice-table"' not in panel
    svg = web.get(reverse("reports:plot", args=[patient.pk, "voice"]) + "?variant=test-checkpoint-64d")
    assert svg.status_code == 200 and "No voice measures yet for these sessions" in svg.content.decode()


@pytest.mark.django_db
def test_the_voice_plot_is_pre_rendered_with_the_others(web, patient, history, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    add_voice(history)
    cache.clear()
    assert "voice" in charts.PATIENT_PLOTS
    assert charts.plots_prerender(patient_id=str(patient.pk)) == 2 * len(charts.PATIENT_PLOTS)

    def no_drawing(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("drawn again")

    monkeypatch.setattr(charts, "_draw", no_drawing)
    src = _img_src(web.get(reverse("reports:dashboard", args=[patient.pk])).content.decode(), "plot-voice")
    assert web.get(src).status_code == 200 and web.get(src + "&w=narrow").status_code == 200


@pytest.mark.django_db
def test_the_trend_api_gives_typed_voice_values_marks_and_bands(api, patient, history) -> None:  # type: ignore[no-untyped-def]
    add_voice(history)
    body = api.get(reverse("api:trend", args=[patient.pk])).json()
    by_number = {s["number"]: s for s in body["sessions"]}
    for number, values in VALUES.items():
        got = by_number[number]["voice"]
        assert list(got) == list(MEASURE_KEYS)
        expected = values if values is not None else (None,) * len(MEASURE_KEYS)
        for key, want in zip(MEASURE_KEYS, expected, strict=True):
            assert got[key] == (pytest.approx(want) if want is not None else None), (number, key)
    assert by_number[6]["voice_beyond_band"]["speech_rate"] == "below"
    assert by_number[6]["voice_beyond_band"]["pause_ratio"] == "above"
    assert by_number[1]["voice_beyond_band"] == {}  # a baseline session
    assert set(by_number[5]["voice_beyond_band"].values()) <= {"above", "below"}
    bands = body["voice_bands"]
    assert list(bands) == list(MEASURE_KEYS)
    rate = bands["speech_rate"]
    assert set(rate) == {"low", "high", "mean", "n", "unit"}
    assert rate["unit"] == "syll/s" and rate["n"] == 3
    assert rate["mean"] == pytest.approx(np.mean([3.82, 3.91, 3.74]))
    assert rate["low"] < rate["mean"] < rate["high"]
    flags = {f["kind"] for f in body["flags"]}
    assert {"voice-speech_rate", "voice-pause_ratio"} <= flags
    ranged = api.get(reverse("api:trend", args=[patient.pk]), {"date_from": "2026-02-01"}).json()
    assert [s["number"] for s in ranged["sessions"]] == [5, 6]
    assert [s["voice"]["speech_rate"] for s in ranged["sessions"]] == [3.05, 2.61]
    assert ranged["voice_bands"] == bands  # the baseline's range, whatever the date range


@pytest.mark.django_db
def test_without_voice_measures_the_api_gives_nulls_not_zeros(api, patient, history) -> None:  # type: ignore[no-untyped-def]
    body = api.get(reverse("api:trend", args=[patient.pk])).json()
    assert all(set(s["voice"].values()) == {None} for s in body["sessions"])
    assert all(s["voice_beyond_band"] == {} for s in body["sessions"])
    assert set(body["voice_bands"].values()) == {None}


# The voice plot's layout, measured on the drawn figure as the other plots' are (test_plot_layout).


def _voice_figure(width: str, n: int = 200, **kwargs):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    dates = [datetime(2024, 1, 1) + timedelta(days=7 * i) for i in range(n)]
    voice = rng.normal(1.0, 0.05, size=(n, len(MEASURE_KEYS))) * np.array(
        [180, 2.5, 60, 65, 6, 3.8, 4.8, 22, 0.7, 2.5, 14, 1.2, 5, 14]
    )
    voice[:, MEASURE_KEYS.index("hnr_db")] = np.nan  # a measure with no data at all
    voice[5:9, 0] = np.nan  # a gap
    bands = {
        k: (float(voice[:3, j].mean()) * 0.95, float(voice[:3, j].mean()) * 1.05)
        for j, k in enumerate(MEASURE_KEYS)
        if k != "hnr_db"
    }
    return plots.voice_trend_figure(
        dates, voice, bands=bands, baseline=[i < 3 for i in range(n)], note=LONG_NOTE, width=width, **kwargs
    )


@pytest.mark.parametrize("width", plots.WIDTHS)
@pytest.mark.parametrize("n", [1, 12, 200])
def test_the_voice_plot_keeps_every_label_inside_and_apart(width: str, n: int) -> None:
    fig = _voice_figure(width, n)
    renderer = _renderer(fig)
    assert [ax.get_title(loc="left") for ax in fig.axes] == TITLES
    note = _footnote(fig).get_window_extent(renderer)
    (legend,) = fig.legends
    legend_box = legend.get_window_extent(renderer)
    boxes = []
    for ax in fig.axes:
        tight = ax.get_tightbbox(renderer)
        assert tight is not None
        # Nothing cut off: every panel with its title and tick labels lies inside the figure.
        assert fig.bbox.x0 - 1 <= tight.x0 and tight.x1 <= fig.bbox.x1 + 1, ax.get_title(loc="left")
        assert fig.bbox.y0 - 1 <= tight.y0 and tight.y1 <= fig.bbox.y1 + 1, ax.get_title(loc="left")
        assert not note.overlaps(tight) and not legend_box.overlaps(tight), ax.get_title(loc="left")
        labels = _visible_tick_labels(ax, renderer)
        for a, b in combinations(labels, 2):
            assert not a.overlaps(b), ax.get_title(loc="left")
        boxes.append((ax.get_title(loc="left"), tight))
    for (ta, a), (tb, b) in combinations(boxes, 2):
        assert not a.overlaps(b), (ta, tb)  # no panel's title or labels run into another panel
    assert not note.overlaps(legend_box)
    assert fig.bbox.contains(note.x0, note.y0) and fig.bbox.contains(note.x1, note.y1)
    assert fig.bbox.contains(legend_box.x0, legend_box.y0) and fig.bbox.contains(legend_box.x1, legend_box.y1)


def test_the_phone_drawing_has_fewer_columns_and_dates_under_each_column() -> None:
    wide, narrow = _voice_figure(plots.WIDE), _voice_figure(plots.NARROW)
    assert narrow.get_figwidth() < 5 < wide.get_figwidth()

    def columns(fig):  # type: ignore[no-untyped-def]
        return len({round(ax.get_position().x0, 3) for ax in fig.axes})

    assert (columns(wide), columns(narrow)) == (4, 2)
    for fig in (wide, narrow):
        renderer = _renderer(fig)
        dated = [ax for ax in fig.axes if _visible_tick_labels(ax, renderer)]
        assert {round(ax.get_position().x0, 3) for ax in dated} == {
            round(ax.get_position().x0, 3) for ax in fig.axes
        }
        assert 2 <= max(len(_visible_tick_labels(ax, renderer)) for ax in dated) <= 4


def test_the_voice_plot_marks_the_band_baseline_sessions_and_values_outside() -> None:
    dates = [datetime(2026, 1, 5) + timedelta(weeks=i) for i in range(5)]
    voice = np.full((5, len(MEASURE_KEYS)), np.nan)
    voice[:, 0] = [180, 181, 182, 150, 210]  # session 4 below the range, 5 above
    fig = plots.voice_trend_figure(
        dates, voice, bands={"f0_median_hz": (170.0, 190.0)}, baseline=[True, True, True, False, False]
    )
    pitch = fig.axes[0]
    (line,) = pitch.lines[2:]  # after the band's two edges
    assert [np.asarray(ln.get_ydata(), float)[0] for ln in pitch.lines[:2]] == [170.0, 190.0]
    np.testing.assert_allclose(np.asarray(line.get_ydata(), float), [180, 181, 182, 150, 210])
    ringed, above, below = (np.asarray(c.get_offsets(), float) for c in pitch.collections[-3:])
    assert len(ringed) == 3
    assert list(above[:, 1]) == [210] and list(below[:, 1]) == [150]
    assert [t.get_text() for t in fig.axes[1].texts] == ["no data"]
    assert "no data" not in [t.get_text() for t in pitch.texts]
    svg = plots.voice_trend_svg(
        dates, voice, bands={"f0_median_hz": (170.0, 190.0)}, baseline=[True, True, True, False, False]
    )
    assert svg == plots.voice_trend_svg(
        dates, voice, bands={"f0_median_hz": (170.0, 190.0)}, baseline=[True, True, True, False, False]
    )


@pytest.mark.django_db
def test_the_table_says_the_latest_is_a_baseline_session_rather_than_judge_it(patient, history) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from reports.trends import patient_trend

    add_voice(history)
    full = patient_trend(patient=patient)
    rows = {r.key: r for r in voice_panel.voice_table(full.within(None, date(2026, 1, 19)))}  # sessions 1–3
    assert rows["speech_rate"].value == "3.74 syll/s" and rows["speech_rate"].state == "baseline session"
    assert {r.side for r in rows.values()} == {""}
    latest = {r.key: r for r in voice_panel.voice_table(full)}
    assert (latest["speech_rate"].side, latest["pauses_per_min"].side) == ("below", "within")
    assert latest["hnr_db"].value == "—" and latest["hnr_db"].state == ""
    assert (
        "not calibrated" in latest["intensity_sd_db"].help and "not calibrated" not in latest["f0_sd_st"].help
    )
    assert voice_panel.voice_table(full.within(date(2026, 1, 26), date(2026, 1, 26))) == []  # session 4: none
