"""The dashboard's one date range: plots, table, flags, session map, similar sessions and the
export buttons all follow it; a wrong range is said, never a 500. And the baseline picker: one
session is a single choice, and a baseline change comes back to the same view."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from django.urls import reverse

from reports import charts
from tests.reports.conftest import NEUTRAL, _emb

pytestmark = pytest.mark.django_db

# The history fixture's sessions are weekly from 2026-01-05: this range holds sessions 3, 4 and 5.
RANGE = {"date_from": "2026-01-19", "date_to": "2026-02-02"}


def _page(web, patient, **params):  # type: ignore[no-untyped-def]
    response = web.get(reverse("reports:dashboard", args=[patient.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def _table_numbers(page: str) -> list[int]:
    table = page[page.index('id="numbers-table"') : page.index("</table>", page.index('id="numbers-table"'))]
    return [int(n) for n in re.findall(r'<tr><td><a href="[^"]+">(\d+)</a></td>', table)]


def _img_src(page: str, img_id: str) -> str:
    match = re.search(rf'id="{img_id}"[^>]*?src="([^"]+)"', page)
    assert match, img_id
    return htmllib.unescape(match.group(1))


def test_it_limits_the_table_and_the_flags_to_the_range(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    everything = _page(web, patient)
    assert _table_numbers(everything) == [1, 2, 3, 4, 5, 6]
    assert "Sad + fearful share rising" in everything and "beyond this patient" in everything

    page = _page(web, patient, **RANGE)
    assert _table_numbers(page) == [3, 4, 5]
    assert "sessions from 2026-01-19 to 2026-02-02" in page and "(3 of 6)" in page
    # Session 6 (the drifted one) and the rise over the last sessions are outside the range.
    assert "Sad + fearful share rising" not in page and "beyond this patient" not in page
    assert "Little speech analysed" in page  # session 4 is inside


def test_every_plot_on_the_page_draws_only_the_range(web, patient, history, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    drawn: dict[str, list[int]] = {}
    real = {name: getattr(charts.plots, name) for name in ("trajectory_svg", "drift_svg", "session_map_svg")}

    def spy(name):  # type: ignore[no-untyped-def]
        def draw(*args, **kwargs):  # type: ignore[no-untyped-def]
            drawn[name] = len(args[0]) if name != "session_map_svg" else [int(x) for x in args[2]]
            return real[name](*args, **kwargs)

        return draw

    for name in real:
        monkeypatch.setattr(charts.plots, name, spy(name))
    page = _page(web, patient, **RANGE)
    for img in ("plot-trajectory", "plot-drift", "plot-map"):
        src = _img_src(page, img)
        assert "date_from=2026-01-19" in src and "date_to=2026-02-02" in src
        svg = web.get(src)
        assert svg.status_code == 200 and b"<svg" in svg.content
        narrow = web.get(src + "&w=narrow")  # the phone drawing follows the range too
        assert narrow.status_code == 200 and narrow.content != svg.content
    assert drawn["trajectory_svg"] == 3 and drawn["drift_svg"] == 3
    assert drawn["session_map_svg"] == [3, 4, 5]


def test_the_plot_cache_key_changes_with_the_range(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    url = reverse("reports:plot", args=[patient.pk, "trajectory"]) + "?variant=test-checkpoint-64d"
    whole = web.get(url).content
    part = web.get(url + "&date_from=2026-01-19&date_to=2026-02-02").content
    assert whole != part


def test_the_export_buttons_follow_the_range(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    page = _page(web, patient, **RANGE)
    form = page[page.index('id="export-form"') : page.index("</form>", page.index('id="export-form"'))]
    assert 'name="date_from" value="2026-01-19"' in form and 'name="date_to" value="2026-02-02"' in form
    csv = web.get(reverse("reports:export", args=[patient.pk, "csv"]), {**RANGE, "page_size": "a4"})
    rows = csv.content.decode("utf-8-sig").strip().splitlines()
    assert [r.split(",")[1] for r in rows[1:]] == ["3", "4", "5"]


def test_a_wrong_range_is_said_and_shows_all_sessions(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    page = _page(web, patient, date_from="2026-03-01", date_to="2026-01-01")
    assert "The end of the range is before its start." in page
    assert _table_numbers(page) == [1, 2, 3, 4, 5, 6]
    page = _page(web, patient, date_from="not-a-date")
    assert "Enter a valid date." in page and _table_numbers(page) == [1, 2, 3, 4, 5, 6]
    plot = web.get(
        reverse("reports:plot", args=[patient.pk, "drift"]) + "?date_from=2026-03-01&date_to=2026-01-01"
    )
    assert plot.status_code == 200


def test_a_range_without_sessions_says_so(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    page = _page(web, patient, date_from="2027-01-01")
    assert "No analysed sessions in sessions from 2027-01-01" in page and _table_numbers(page) == []
    svg = web.get(_img_src(page, "plot-drift")).content.decode()
    assert "No analysed sessions in this date range." in svg


def test_similar_sessions_are_links_within_the_range(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    third = str(history[2].pk)
    fragment = web.get(reverse("reports:similar", args=[patient.pk]), {**RANGE, "session": third})
    assert fragment.status_code == 200
    links = re.findall(r'href="/sessions/([0-9a-f-]+)/"', fragment.content.decode())
    assert sorted(links) == sorted([str(history[3].pk), str(history[4].pk)])
    page = _page(web, patient, **RANGE, session=third)
    assert 'id="similar-list"' in page and f'href="{reverse("ser:session", args=[history[3].pk])}"' in page


def test_the_baseline_picker_lists_sessions_with_date_and_one_session_is_a_single_choice(
    web, patient, history
) -> None:  # type: ignore[no-untyped-def]
    page = _page(web, patient)
    assert "Session 3 · 2026-01-19" in page
    assert re.search(r'type="radio" name="baseline_session" value="[0-9a-f-]+"', page)
    assert re.search(r'type="checkbox" name="baseline_sessions" value="[0-9a-f-]+"', page)
    assert "reports/dashboard.js" in page
    response = web.post(
        reverse("reports:baseline", args=[patient.pk]),
        {"baseline_mode": "session", "baseline_session": str(history[1].pk), "baseline_n": "3"},
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.baseline_mode == "session"
    assert list(patient.baseline_sessions.all()) == [history[1]]


def test_a_baseline_change_comes_back_to_the_same_view(web, patient, history) -> None:  # type: ignore[no-untyped-def]
    response = web.post(
        reverse("reports:baseline", args=[patient.pk]),
        {
            "baseline_mode": "first_n",
            "baseline_n": "2",
            "back": "date_from=2026-01-19&c=sad&c=fearful&next=https://evil.example/",
        },
    )
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(reverse("reports:dashboard", args=[patient.pk]) + "?")
    assert "c=sad&c=fearful" in location and "date_from=2026-01-19" in location
    assert "evil" not in location
    page = web.get(location).content.decode()
    assert 'value="sad" checked' in page and 'value="happy" checked' not in page
    assert "c=sad&amp;c=fearful" in page  # the trajectory's URL keeps the classes


def test_a_patient_with_one_session_in_the_range_has_no_map_but_no_error(web, patient) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import analysed_session

    analysed_session(patient, 1, scores=NEUTRAL, embedding=_emb(1.0))
    page = _page(web, patient, date_from="2026-01-01", date_to="2026-01-31")
    assert web.get(_img_src(page, "plot-map")).status_code == 200
