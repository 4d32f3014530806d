"""A therapist's day in headless Chromium (Debian's chromium + chromedriver, selenium), against the
live app, PostgreSQL, Redis and a real Celery worker: log in → create a patient → add a session →
upload a file → watch the analysis finish → see trajectory, drift and flags → change the baseline
→ see drift change. Screenshots of the main pages go to artifacts/screenshots/."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from patients.models import Patient
from sessions.models import Recording
from tests.audio import speech_wav_bytes
from tests.factories import analysed_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
DOWNLOADS = Path(tempfile.mkdtemp(prefix="browser-downloads-"))
PASSWORD = "a long browser test password"


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    d = _chromium("en-GB,en")
    yield d
    d.quit()


@pytest.fixture
def chinese_browser():  # type: ignore[no-untyped-def]
    """A browser whose user prefers Simplified Chinese (Accept-Language zh-CN first)."""
    d = _chromium("zh-CN,zh,en")
    yield d
    d.quit()


def _chromium(languages: str):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = (
        shutil.which("chromium") or "/usr/bin/chromium",
        shutil.which("chromedriver") or "/usr/bin/chromedriver",
    )
    options = webdriver.ChromeOptions()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--lang={languages.split(',')[0]}",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(DOWNLOADS),
            "download.prompt_for_download": False,
            "intl.accept_languages": languages,
        },
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # to read the console
    options.binary_location = chromium
    d = webdriver.Chrome(service=Service(driver), options=options)
    d.implicitly_wait(5)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return d


def _shot(d, name: str, expected: str = "") -> None:  # type: ignore[no-untyped-def]
    # Every page looked at is also checked for console errors (a missing file, a script error),
    # but the one the step expects (a refused upload's 400).
    errors = [
        e["message"]
        for e in d.get_log("browser")
        if e["level"] == "SEVERE" and not (expected and expected in e["message"])
    ]
    assert errors == [], (name, errors)
    height = d.execute_script("return document.body.scrollHeight")
    d.set_window_size(1280, min(max(height, 800), 6000))
    d.save_screenshot(str(SHOTS / f"{name}.png"))
    d.set_window_size(1280, 1000)


def _wait(predicate, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import WebDriverException

    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except WebDriverException as exc:
            # The page is being replaced (a stale or detached node, "does not belong to the
            # document"): look again.
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"timed out (last: {last!r})"[:2000])


def _drift_column(d) -> list[str]:  # type: ignore[no-untyped-def]
    """The Euclidean drift cell of every row of the numbers table (read once the page is stable)."""
    from selenium.webdriver.common.by import By

    found: list[str] = []

    def read() -> bool:
        rows = d.find_elements(By.CSS_SELECTOR, "table.numbers tbody tr")
        found[:] = [r.find_elements(By.TAG_NAME, "td")[-3].text for r in rows]
        return bool(found)

    _wait(read)
    return found


def test_a_therapist_uploads_a_session_and_reviews_the_trends(
    live_server, browser, worker, django_user_model, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d, url = browser, live_server.url
    user = django_user_model.objects.create_user(username="dr.browser", password=PASSWORD)

    d.get(url + "/")
    d.find_element(By.NAME, "username").send_keys("dr.browser")
    d.find_element(By.NAME, "password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    _wait(lambda: "Patients" in d.find_element(By.TAG_NAME, "h1").text)
    d.find_element(By.LINK_TEXT, "Add patient").click()
    d.find_element(By.NAME, "display_name").send_keys("Robin Browser")
    d.find_element(By.NAME, "external_id").send_keys("MRN-B1")
    d.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    _wait(lambda: d.find_element(By.TAG_NAME, "h1").text == "Robin Browser")

    # Three earlier sessions already analysed (stored rows), so there is a trend to look at.
    patient = Patient.objects.get(owner=user, display_name="Robin Browser")
    rng = np.random.default_rng(1)
    for n in (1, 2, 3):
        scores = np.full(9, 0.02)
        scores[4], scores[6] = 0.7 - 0.15 * n, 0.1 + 0.15 * n
        analysed_session(patient, n, scores=scores, embedding=rng.normal(0, 0.05, 64) + 1.0, with_file=False)

    d.find_element(By.LINK_TEXT, "Add session").click()
    d.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    _wait(lambda: "Session 4" in d.find_element(By.TAG_NAME, "h1").text)
    audio = tmp_path / "session-4.wav"
    audio.write_bytes(
        speech_wav_bytes(
            [
                ("left", "I was very low this week and could not sleep."),
                ("right", "I am sorry to hear that. What was the hardest part?"),
                ("left", "Waking up early and feeling afraid of the day."),
            ]
        )
    )
    d.find_element(By.ID, "id_file").send_keys(str(audio))
    Select(d.find_element(By.NAME, "channel")).select_by_value("left")
    d.find_element(By.NAME, "consent_confirmed").click()
    _shot(d, "1-session-before-upload")
    d.find_element(By.ID, "upload-button").click()
    # The upload's own progress row, then the analysis status, without a manual reload.
    _wait(lambda: d.find_elements(By.CSS_SELECTOR, "ul.uploads li"))
    _wait(
        lambda: (
            "Done" in d.find_element(By.TAG_NAME, "main").text
            and d.find_elements(By.CSS_SELECTOR, "img.plot")
        ),
        timeout=180,
    )
    assert "Dominant:" in d.find_element(By.TAG_NAME, "main").text
    assert "Test checkpoint" in d.page_source
    # The voice block: measures with units and the contour plot, drawn.
    main = d.find_element(By.TAG_NAME, "main").text
    assert "Median pitch (F0)" in main and "Hz" in main and "praat-parselmouth" in main
    _wait(
        lambda: d.execute_script(
            "const i = document.querySelector('img.plot.voice');"
            "return i !== null && i.complete && i.naturalWidth > 0"
        )
    )
    _shot(d, "2-session-analysed")

    d.find_element(By.PARTIAL_LINK_TEXT, "Robin Browser").click()
    _wait(lambda: "Emotion trajectory" in d.page_source)
    text = d.find_element(By.TAG_NAME, "main").text
    assert "Drift from baseline" in text and "Flags for review" in text
    assert "decision support, not a diagnosis" in text.lower()
    for img in d.find_elements(By.CSS_SELECTOR, "img.plot"):
        _wait(
            lambda img=img: d.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth > 0", img
            )
        )
    drift_before = _drift_column(d)
    assert len(drift_before) == 4
    # The voice panel: a row per measure with the latest value and the usual range in words.
    voice = d.find_element(By.ID, "voice").text
    assert "Speech rate" in voice and "Usual range" in voice and "syll/s" in voice
    assert d.find_element(By.ID, "plot-voice").get_attribute("naturalWidth") != "0"
    _shot(d, "3-dashboard")

    # Baseline: session 4 alone. Its own drift becomes 0 and the others change at once.
    # The picker shows only the chosen mode's controls: one session is a single (radio) choice.
    Select(d.find_element(By.NAME, "baseline_mode")).select_by_value("session")
    assert not d.find_element(By.NAME, "baseline_n").is_displayed()
    d.find_element(
        By.CSS_SELECTOR, f".baseline-form input[type=radio][value='{patient.sessions.get(number=4).pk}']"
    ).click()
    d.find_element(By.ID, "set-baseline").click()
    _wait(lambda: "Baseline: session 4" in d.find_element(By.ID, "drift").text)
    drift_after = _drift_column(d)
    assert drift_after[3] == "0.000"
    assert drift_after != drift_before
    _shot(d, "4-dashboard-new-baseline")

    # The trend report leaves for the clinical record with one click; the history shows it.
    d.find_element(By.ID, "export-csv").click()
    _wait(lambda: any(p.suffix == ".csv" for p in DOWNLOADS.iterdir()), timeout=30)
    (csv_file,) = [p for p in DOWNLOADS.iterdir() if p.suffix == ".csv"]
    rows = csv_file.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("session_id,session_number,session_date") and len(rows) == 1 + 4
    d.refresh()  # the download left the page as it was
    _wait(lambda: "CSV table" in d.find_element(By.ID, "export-history").text)
    _shot(d, "5-dashboard-export-history")

    # The help page every dashboard term links to, and the therapist's time-zone page.
    d.find_element(By.LINK_TEXT, "Help").click()
    _wait(lambda: d.find_elements(By.ID, "drift"))
    _shot(d, "5b-help")
    d.find_element(By.ID, "time-zone").click()
    _wait(lambda: d.find_elements(By.NAME, "time_zone"))
    _shot(d, "5c-time-zone")

    # The API's interactive documentation, served without the internet.
    d.get(url + "/api/v1/docs/")
    _wait(lambda: "/api/v1/patients/" in d.find_element(By.TAG_NAME, "body").text, timeout=30)
    _shot(d, "6-api-docs")

    # Hearing a moment: its ▶ seeks the recording's player to the segment (the audio endpoint
    # honours Range, or the browser could not jump past the start) and plays it.
    d.get(url + f"/sessions/{patient.sessions.get(number=4).pk}/")
    _wait(lambda: d.find_elements(By.CSS_SELECTOR, "table.moments tr.segment"))
    rows = d.find_elements(By.CSS_SELECTOR, "table.moments tr.segment")
    row = max(rows, key=lambda r: float(r.get_attribute("data-start")))
    start, end = float(row.get_attribute("data-start")), float(row.get_attribute("data-end"))
    assert start > 1.0  # a moment after the first second: reaching it needs a seek
    d.execute_script(
        "const a = document.querySelector('section.recording audio'); window.__playing = [];"
        "a.addEventListener('playing', () => window.__playing.push(a.currentTime));"
    )
    row.find_element(By.CSS_SELECTOR, "button.play").click()
    _wait(lambda: d.execute_script("return window.__playing.length > 0"), timeout=30)
    at = d.execute_script("return window.__playing[0]")
    assert start - 0.05 <= at < end, (at, start, end)
    _wait(
        lambda: d.execute_script(
            "const a = document.querySelector('section.recording audio');"
            "return a.currentTime > arguments[0] + 0.2",
            start,
        ),
        timeout=30,
    )
    d.execute_script("document.querySelector('details.segments').open = true")
    _shot(d, "7-session-moments")

    # Correct the session's notes, then delete the patient: the rows go, and every stored file.
    d.find_element(By.ID, "edit-session").click()
    notes = d.find_element(By.NAME, "notes")
    notes.clear()
    notes.send_keys("Corrected after the session.")
    d.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    _wait(lambda: patient.sessions.get(number=4).notes == "Corrected after the session.")
    _shot(d, "8-session-edited")
    media = Path(settings.MEDIA_ROOT)
    assert [p for p in media.rglob("*") if p.is_file()]  # the upload and its analysis files
    d.get(f"{url}/patients/{patient.pk}/")
    d.find_element(By.ID, "delete-patient").click()
    _wait(lambda: "Delete Robin Browser?" in d.find_element(By.TAG_NAME, "h1").text)
    listed = d.find_element(By.ID, "to-delete").text
    assert "4 sessions" in listed and "4 recordings with their stored audio" in listed
    _shot(d, "9-patient-delete-confirmation")
    d.find_element(By.ID, "confirm-delete").click()
    _wait(lambda: "was deleted" in d.find_element(By.TAG_NAME, "main").text)
    assert not Patient.objects.filter(pk=patient.pk).exists()
    _wait(lambda: not [p for p in media.rglob("*") if p.is_file()], timeout=30)
    _shot(d, "10-patients-after-delete")


def test_a_therapist_whose_browser_prefers_chinese_sees_chinese(
    live_server, chinese_browser, django_user_model, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The dashboard, a session page and an upload error in Chinese, then English with the header's
    switcher (remembered in the profile). Screenshots: artifacts/screenshots/zh-*.png."""
    from selenium.webdriver.common.by import By

    d, url = chinese_browser, live_server.url
    user = django_user_model.objects.create_user(username="dr.zhang", password=PASSWORD)
    patient = Patient.objects.create(owner=user, display_name="王芳", external_id="MRN-Z1")
    rng = np.random.default_rng(2)
    for n in (1, 2, 3, 4):
        scores = np.full(9, 0.02)
        scores[4], scores[6] = 0.75 - 0.15 * n, 0.05 + 0.15 * n
        analysed_session(
            patient, n, scores=scores, embedding=rng.normal(0, 0.05, 64) + n / 2, with_file=False
        )

    d.get(url + "/")
    assert d.find_element(By.TAG_NAME, "h1").text == "登录"
    d.find_element(By.NAME, "username").send_keys("dr.zhang")
    d.find_element(By.NAME, "password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    _wait(lambda: d.find_element(By.TAG_NAME, "h1").text == "患者")

    d.get(f"{url}/patients/{patient.pk}/")
    _wait(lambda: "情绪轨迹" in d.page_source)
    for img in d.find_elements(By.CSS_SELECTOR, "img.plot"):
        _wait(
            lambda img=img: d.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth > 0", img
            )
        )
    main = d.find_element(By.TAG_NAME, "main").text
    assert "辅助决策" in main and "难过" in main
    _shot(d, "zh-1-dashboard")

    d.get(f"{url}/sessions/{patient.sessions.get(number=4).pk}/")
    _wait(lambda: "难过" in d.find_element(By.TAG_NAME, "main").text)
    _shot(d, "zh-2-session")

    # An upload the product cannot read: the message says why, in Chinese, and nothing is stored.
    bad = tmp_path / "notes.wav"
    bad.write_bytes(b"this is not a recording " * 200)
    d.find_element(By.ID, "id_file").send_keys(str(bad))
    d.find_element(By.NAME, "consent_confirmed").click()
    d.find_element(By.ID, "upload-button").click()
    _wait(lambda: "无法" in d.find_element(By.CSS_SELECTOR, "ul.uploads").text, timeout=30)
    # Words for people, not the API's field name.
    assert "file:" not in d.find_element(By.CSS_SELECTOR, "ul.uploads").text
    assert not Recording.objects.filter(original_name="notes.wav").exists()
    _shot(d, "zh-3-upload-error", expected="status of 400")

    # The header's switcher: English from now on, remembered in the profile.
    d.find_element(By.CSS_SELECTOR, "#language-switcher button[value=en]").click()
    _wait(lambda: "Recording" in d.find_element(By.TAG_NAME, "main").text or "Session 4" in d.page_source)
    assert "难过" not in d.find_element(By.TAG_NAME, "main").text
    user.profile.refresh_from_db()
    assert user.profile.language == "en"
