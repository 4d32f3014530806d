"""The product speaks English and Simplified Chinese: nothing shown to people is left unmarked,
and nothing marked lacks a zh-Hans translation.

Four checks, each able to fail on its own:
- the catalogue: makemessages over the code (in a temporary copy, clinic.catalogue) finds no
  marked word without a zh-Hans translation, and each translation keeps its placeholders;
- templates: no visible text or visible attribute (title, placeholder, aria-label, alt) outside
  {% translate %} / {% blocktranslate %} (Django's own template lexer reads them);
- Python: no string literal or f-string where the code hands words to people (labels, help
  texts, validation errors, messages, API error details, plot titles and axes, failure reasons,
  the engine's user-facing errors) unless it goes through gettext;
- pages: the main pages, rendered for a browser preferring Chinese, show no English words but
  names, units and product names.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

from clinic import catalogue
from ser.emotions import EMOTION_NAMES
from ser.engine.labels import MODEL_TOKENS, english_name

ROOT = Path(settings.BASE_DIR)
APPS = ("accounts", "audit", "clinic", "patients", "reports", "ser", "sessions")
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[-#0 +]*\d*(?:\.\d+)?[sdifgeExXr]|%[sdif]|\{[a-z_]*\}")
# Words that stay as they are in Chinese text: product, format and standard names, units.
KEEP = set(
    """
    emotion2vec emotion2vec+ FunASR silero-vad Resemblyzer Praat ReportLab SER_MODEL manage py voice_recompute
    FHIR R4 Patient Practitioner Observation DiagnosticReport Bundle EHR MRN ID IANA UTC API REST JSON
    PDF CSV A4 SHA SHA-256 sha256 WAV MP3 M4A AAC FLAC OGG Opus WebM npy npz unk
    Hz kHz dB ms s min st syll F0 HNR VAD bf16 fp32 fp16 cpu cuda CPU GPU N A B
    English Europe London Asia Shanghai
    """.split()
)


# --- the catalogue -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh() -> dict[str, object]:
    return {domain: catalogue.extract(domain) for domain in catalogue.DOMAINS}


@pytest.mark.parametrize("domain", catalogue.DOMAINS)
def test_every_marked_word_has_a_chinese_translation(fresh, domain: str) -> None:  # type: ignore[no-untyped-def]
    assert len(fresh[domain]) > (300 if domain == "django" else 10), "the extraction found the code's words"
    missing = catalogue.missing(domain, fresh[domain])
    assert not missing, (
        f"{len(missing)} marked words lack a zh-Hans translation; add them to locale/zh_Hans "
        f"(manage.py messages_sync --from FRAGMENT.po): {missing[:20]}"
    )
    assert catalogue.catalogue_path("en", domain).is_file()


@pytest.mark.parametrize("domain", catalogue.DOMAINS)
def test_translations_keep_their_placeholders(domain: str) -> None:
    wrong = []
    for (_ctx, msgid), entry in catalogue.translations([catalogue.catalogue_path("zh-hans", domain)]).items():
        texts = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for text in texts:
            if (
                sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text))
                and not entry.msgid_plural
            ):
                wrong.append((msgid, text))
    assert not wrong, wrong[:10]


def test_emotion_names_are_the_models_own_tokens() -> None:
    from django.utils import translation

    model = {english_name(t): t.split("/")[0] for t in MODEL_TOKENS if "/" in t} | {"unknown": "未知"}
    with translation.override("zh-hans"):
        shown = {key: str(name) for key, name in EMOTION_NAMES.items()}
    assert shown == model
    with translation.override("en"):
        assert [str(n) for n in EMOTION_NAMES.values()] == list(EMOTION_NAMES)


# --- templates ---------------------------------------------------------------------------------

_VISIBLE_ATTR = re.compile(r"""\b(title|placeholder|aria-label|alt)\s*=\s*(["'])(.*?)\2""", re.S)
_HIDDEN_BLOCK = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.S | re.I)
_TAG = re.compile(r"<[^>]*>", re.S)
_ENTITY = re.compile(r"&[a-z]+;|&#\d+;")


def _words(text: str) -> list[str]:
    """English words left in `text` once the kept names are taken out."""
    return [w for w in re.findall(r"[A-Za-z][A-Za-z0-9_+'’-]*", _ENTITY.sub(" ", text)) if w not in KEEP]


def _untranslated_template_text(source: str) -> list[str]:
    out: list[str] = []
    depth = 0  # inside {% blocktranslate %} … {% endblocktranslate %}
    in_comment = False
    parts: list[str] = []
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            word = token.contents.split()[0] if token.contents.split() else ""
            if word == "comment":
                in_comment = True
            elif word == "endcomment":
                in_comment = False
            elif word in ("blocktranslate", "blocktrans"):
                depth += 1
            elif word in ("endblocktranslate", "endblocktrans"):
                depth -= 1
            parts.append("\x00")
        elif token.token_type == TokenType.TEXT and not depth and not in_comment:
            parts.append(token.contents)
        else:
            parts.append("\x00")
    text = _HIDDEN_BLOCK.sub("\x00", "".join(parts))
    for _name, _q, value in _VISIBLE_ATTR.findall(text):
        out += [value] if _words(value.replace("\x00", " ")) else []
    for piece in _TAG.sub("\x00", text).split("\x00"):
        if _words(piece):
            out.append(piece.strip())
    return out


def _templates() -> list[Path]:
    found = sorted((ROOT / "templates").rglob("*.html"))
    for app in APPS:
        found += (
            sorted((ROOT / app / "templates").rglob("*.html")) if (ROOT / app / "templates").is_dir() else []
        )
    return found


def test_the_template_check_sees_unmarked_text() -> None:
    assert _untranslated_template_text('<p title="Open it">{% translate "Hi" %} there</p>') == [
        "Open it",
        "there",
    ]
    assert not _untranslated_template_text(
        '{% load i18n %}<p title="{% translate "Open" %}">'
        "{% blocktranslate %}Hi {{ n }}{% endblocktranslate %}</p><script>let x = 1;</script>{# note #}"
    )


def test_every_template_word_is_marked_for_translation() -> None:
    templates = _templates()
    assert len(templates) >= 15
    unmarked = {
        str(path.relative_to(ROOT)): found
        for path in templates
        if (found := _untranslated_template_text(path.read_text(encoding="utf-8")))
    }
    assert not unmarked, unmarked


# --- Python ------------------------------------------------------------------------------------

# Keyword arguments whose value people read.
_SHOWN_KEYWORDS = {
    "label",
    "help_text",
    "verbose_name",
    "verbose_name_plural",
    "reason",
    "detail",
    "title",
    "message",
}
# Calls whose first (or given) positional argument people read: callee name → argument index.
_SHOWN_ARGS = {
    "ValidationError": 0, "PermissionDenied": 0, "NotFound": 0, "ParseError": 0, "Throttled": 1,
    "add_error": 1, "success": 1, "info": 1, "warning": 1, "error": 1, "set_title": 0, "set_xlabel": 0,
    "set_ylabel": 0, "suptitle": 0, "error_response": 1,
    # The engine's errors for people: their text must be marked with gettext_noop.
    "AudioError": 0, "NoSpeechError": 0, "ModelUnavailableError": 0, "SpeakerModelUnavailableError": 0,
    "EnrolmentError": 0, "Explained": 0,
}  # fmt: skip
_LOGGERS = {"log", "logger", "logging", "self.stdout", "self.stderr"}


def _is_words(node: ast.AST) -> bool:
    """A literal or f-string with a word in it (not a marked call, a name, or punctuation)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.search(r"[A-Za-z]{3,}", node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_is_words(v) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp):  # "a" + "b", "x %s" % y
        return _is_words(node.left) or _is_words(node.right)
    return False


def _callee(node: ast.Call) -> tuple[str, str]:
    f = node.func
    if isinstance(f, ast.Attribute):
        owner = ast.unparse(f.value)
        return f.attr, owner
    return (f.id if isinstance(f, ast.Name) else ""), ""


def _unmarked_python(source: str, where: str) -> list[str]:
    out = []
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name, owner = _callee(node)
        if owner in _LOGGERS or owner.endswith(("log", "logger")):
            continue
        keywords = set(_SHOWN_KEYWORDS)
        if name in (
            "owned",
            "record",
            "_session_for",
        ):  # the audit trail's own words, for auditors, never shown
            keywords.discard("detail")
        if owner == "serializers" or name.endswith("Serializer"):  # OpenAPI descriptions: for developers
            keywords -= {"help_text", "label"}
        hits = [kw.value for kw in node.keywords if kw.arg in keywords and _is_words(kw.value)]
        index = _SHOWN_ARGS.get(name)
        if index is not None and len(node.args) > index and _is_words(node.args[index]):
            if name not in ("success", "info", "warning", "error") or owner == "messages":
                hits.append(node.args[index])
        for hit in hits:
            line = lines[hit.lineno - 1]
            if "# not for people" not in line:
                out.append(f"{where}:{hit.lineno}: {line.strip()[:120]}")
    return out


def _choices_labels(source: str, where: str) -> list[str]:
    """`X = "x", "Label"` inside a TextChoices class: the label is shown in forms and pages."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and any("Choices" in ast.unparse(b) for b in node.bases):
            for item in node.body:
                value = getattr(item, "value", None)
                if isinstance(value, ast.Tuple) and len(value.elts) == 2 and _is_words(value.elts[1]):
                    out.append(f"{where}:{item.lineno}: {ast.unparse(item)[:120]}")
    return out


def _python_files() -> list[Path]:
    files = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).parts
            if "migrations" in rel or "testkit" in rel or "management" in rel or rel[-1] == "settings.py":
                continue
            files.append(path)
    return files


def test_the_python_check_sees_unmarked_words() -> None:
    src = (
        "from django.utils.translation import gettext as _\n"
        "raise ValidationError('The file is empty.')\n"
        "raise ValidationError(_('The file is empty.'))\n"
        "forms.CharField(label=f'Name {x}')\n"
        "messages.success(request, 'Saved.')\n"
        "log.info('not for people %s', x)\n"
        "raise AudioError(gettext_noop('Too long'))\n"
        "raise AudioError('Too long')\n"
    )
    assert [hit.split(":")[1] for hit in _unmarked_python(src, "x")] == ["2", "4", "5", "8"]
    assert _choices_labels(
        "class S(models.TextChoices):\n    A = 'a', 'Queued'\n    B = 'b', _('Done')\n", "x"
    )


def test_every_python_word_shown_to_people_is_marked() -> None:
    files = _python_files()
    assert len(files) > 60
    found = []
    for path in files:
        source = path.read_text(encoding="utf-8")
        where = str(path.relative_to(ROOT))
        found += _unmarked_python(source, where) + _choices_labels(source, where)
    assert not found, "\n".join(found)


# --- pages -------------------------------------------------------------------------------------


class _Visible(HTMLParser):
    """The text a reader sees, and the visible attributes, outside <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.texts: list[str] = []
        self.option_value: str | None = None  # an <option> showing its own value is an identifier

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template", "code"):  # code (commands, paths) stays as typed
            self.skip += 1
        if tag == "option":
            self.option_value = dict(attrs).get("value")
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label", "alt") and value:
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "code"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip and data.strip() and data.strip() != self.option_value:
            self.texts.append(data.strip())
        self.option_value = None


def english_left(html: str, names: set[str]) -> list[str]:
    """Visible pieces of `html` that still hold English words (other than kept names)."""
    parser = _Visible()
    parser.feed(html)
    left = []
    for text in parser.texts:
        words = [w for w in _words(text) if w not in names and not re.fullmatch(r"[0-9a-f]{6,}", w)]
        if words and text not in ("English",):
            left.append(text)
    return left


@pytest.mark.django_db
def test_pages_for_a_chinese_browser_show_no_english(web, therapist, patient, settings) -> None:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    from tests.factories import analysed_session

    neutral = [0.02, 0.02, 0.02, 0.1, 0.7, 0.02, 0.08, 0.02, 0.02]
    sessions = [
        analysed_session(patient, i, scores=[*neutral[:6], 0.08 + 0.1 * (i == 6), *neutral[7:]],
                         embedding=[1.0 + 2.0 * (i == 6), 0.0, *([0.0] * 62)])
        for i in range(1, 7)
    ]  # fmt: skip
    # Names and identifiers are shown as they are: the patient's, the user's, file names, the model.
    shown_as_is = (
        f"{patient.display_name} {patient.external_id} {therapist.username} s6.wav test-checkpoint-64d "
        f"{settings.SER_MODEL} var/models/test"
    )
    names = set(_words(shown_as_is))
    pages = {
        "patients": reverse("patients:list"),
        "new patient": reverse("patients:create"),
        "dashboard": reverse("reports:dashboard", args=[patient.pk]),
        "session": reverse("ser:session", args=[sessions[-1].pk]),
        "new session": reverse("sessions:create", args=[patient.pk]),
        "voice profile": reverse("ser:voice_profile"),
        "time zone": reverse("accounts:time_zone"),
        "help": reverse("reports:help"),
    }
    left = {}
    for what, url in pages.items():
        response = web.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5")
        assert response.status_code == 200, (what, response.status_code)
        assert response["Content-Language"] == "zh-hans"
        if found := english_left(response.content.decode(), names):
            left[what] = found
    assert not left, "\n".join(f"{page}: {text!r}" for page, texts in left.items() for text in texts)
    # The same page in English, for the browser that prefers it.
    english = web.get(pages["dashboard"], HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert "Emotion trajectory" in english or "emotion" in english.lower()
