"""Voice measures on the session page (the plot, the table of measures with units or the reason a
value is empty, the notes, the provenance) and voice.npz through the owner check, on an analysis
made by the real pipeline (espeak speech, Praat through parselmouth)."""

from __future__ import annotations

import html
import io

import numpy as np
import pytest
from django.urls import reverse

from ser import services
from ser.engine.voice import MEASURES
from ser.selectors import provenance_words
from tests.factories import analysed_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysis(upload, fresh_model):  # type: ignore[no-untyped-def]
    recording = upload()
    analysis = services.analysis_run(recording_id=str(recording.pk))
    assert analysis.voice["pauses"] and analysis.voice_file  # the speech has pauses; contours stored
    return analysis


@pytest.fixture
def old_analysis(patient):  # type: ignore[no-untyped-def]
    # An analysis made before voice measures existed: voice {} and no voice.npz.
    session = analysed_session(patient, 7, scores=np.ones(9), embedding=np.ones(64))
    return session.recordings.get().analyses.get()


def _page(web, analysis) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(
        web.get(reverse("ser:session", args=[analysis.recording.session_id])).content.decode()
    )


def test_it_shows_the_voice_plot_measures_notes_and_provenance(web, analysis) -> None:  # type: ignore[no-untyped-def]
    page = _page(web, analysis)
    assert "<h4>Voice</h4>" in page and "for review" in page and "not a diagnosis" in page
    assert reverse("reports:analysis_plot", args=[analysis.pk, "voice"]) in page
    values, reasons = analysis.voice["values"], analysis.voice["reasons"]
    for m in MEASURES:
        row = page.split(f'data-measure="{m.key}"', 1)[1].split("</tr>", 1)[0]
        assert m.label in row, m.key
        if values[m.key] is None:
            assert reasons[m.key] in row, m.key
        else:
            assert f"{values[m.key]:.{m.decimals}f} {m.unit}" in row, m.key
    prov = analysis.voice["provenance"]
    words = provenance_words(prov)
    assert words == (
        f"Praat {prov['praat']} via praat-parselmouth {prov['version']}; "
        "pitch range 75–500 Hz; pauses 0.3–3 s (longer silences are breaks in the talk)"
    )
    assert words in page
    # Each segment's own voice values in the table of all segments.
    table = page.split('<table class="numbers segments small">', 1)[1].split("</table>", 1)[0]
    assert "pitch (Hz)" in table and "syllables" in table
    first = analysis.voice["segments"][0]
    assert f"<td>{first[0]:.1f}</td><td>{first[1]:.1f}</td><td>{first[3]}</td>" in table
    assert reverse("ser:download", args=[analysis.pk, "voice.npz"]) in page
    assert analysis.timings["voice_s"] > 0 and "<li>Voice measures (Praat via praat-parselmouth): " in page


def test_notes_empty_values_and_measures_newer_than_the_analysis_are_said_in_words(web, analysis) -> None:  # type: ignore[no-untyped-def]
    voice = analysis.voice
    values = {k: v for k, v in voice["values"].items() if k != "pauses_per_min"}  # a newer measure
    values["hnr_db"] = None
    analysis.voice = {
        **voice,
        "values": values,
        "reasons": {**voice["reasons"], "hnr_db": "no periodic frames were found"},
        "notes": ["2.0 % of the speech samples are clipped: loudness is understated."],
    }
    analysis.save(update_fields=["voice"])
    page = _page(web, analysis)
    assert "2.0 % of the speech samples are clipped" in page
    row = page.split('data-measure="hnr_db"', 1)[1].split("</tr>", 1)[0]
    assert "no periodic frames were found" in row and 'class="muted empty"' in row
    row = page.split('data-measure="pauses_per_min"', 1)[1].split("</tr>", 1)[0]
    assert "not measured in this analysis" in row


def test_an_analysis_without_voice_measures_says_how_to_get_them(web, old_analysis) -> None:  # type: ignore[no-untyped-def]
    page = _page(web, old_analysis)
    assert "No voice measures for this analysis yet" in page and "voice_recompute" in page
    assert reverse("reports:analysis_plot", args=[old_analysis.pk, "voice"]) not in page
    assert "voice.npz" not in page
    svg = web.get(reverse("reports:analysis_plot", args=[old_analysis.pk, "voice"])).content
    assert b"No voice measures for this analysis yet" in svg


def test_the_voice_plot_and_the_timeline_show_the_contours_and_pauses(web, analysis) -> None:  # type: ignore[no-untyped-def]
    response = web.get(reverse("reports:analysis_plot", args=[analysis.pk, "voice"]))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert "pitch F0 (Hz)" in svg and "intensity (dB)" in svg and svg.count('id="pauses"') == 2
    timeline = web.get(reverse("reports:analysis_plot", args=[analysis.pk, "timeline"])).content.decode()
    assert 'id="pauses"' in timeline and "<!-- pause -->" in timeline


def test_the_owner_downloads_voice_npz_and_another_therapist_gets_404(  # type: ignore[no-untyped-def]
    web, client, other_therapist, analysis
) -> None:
    response = web.get(reverse("ser:download", args=[analysis.pk, "voice.npz"]))
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert response["Content-Type"] == "application/octet-stream"
    assert "attachment" in response["Content-Disposition"] and "voice.npz" in response["Content-Disposition"]
    track = np.load(io.BytesIO(b"".join(response.streaming_content)))
    assert track["times_s"].shape == track["f0_hz"].shape == track["intensity_db"].shape
    assert np.isnan(track["f0_hz"]).any() and np.isfinite(track["f0_hz"]).any()
    np.testing.assert_allclose(track["pauses_s"], analysis.voice["pauses"], atol=1e-3)
    client.force_login(other_therapist)
    assert client.get(reverse("ser:download", args=[analysis.pk, "voice.npz"])).status_code == 404
    assert client.get(reverse("reports:analysis_plot", args=[analysis.pk, "voice"])).status_code == 404
