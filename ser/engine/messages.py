"""Words the engine shows to people, kept in a form the app can translate.

The engine has no Django, so it cannot translate. It marks its words with `gettext_noop` (a name
xgettext knows, so `makemessages` puts them in the catalogue), raises errors that keep the English
template and its parameters apart (`Explained`), and leaves the translating to whoever shows the
message: `render(stored, gettext)` in the app, plain English in result.json and the command line.
A failure reason is stored as `Explained.stored()`, so a page shows it in the reader's language,
not the worker's."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any


def gettext_noop(message: str) -> str:
    """Mark `message` for the catalogue; translated later, where it is shown."""
    return message


def said(msgid: str, /, **params: Any) -> dict[str, Any]:
    """A message kept as `{"msgid", "params"}` (what `render` takes): for notes and reasons the
    engine stores, and for a message passed as another message's parameter. `msgid` must be
    marked where it is written: `said(gettext_noop("..."), x=1)`."""
    return {"msgid": msgid, "params": params}


def stored_forms(texts: Iterable[str], messages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each of `texts` (English) as a stored message: the one of `messages` that renders to it,
    else the text itself as its msgid (a plain note, translated if the catalogue has it). Keeps
    notes and their stored forms parallel whatever was added to the notes on the way."""
    known = {render(m): dict(m) for m in messages}
    return [known.get(t) or said(t) for t in texts]


def _same(message: str) -> str:
    return message


def render(stored: Mapping[str, Any], translate: Callable[[str], str] = _same) -> str:
    """The message `{"msgid": ..., "params": {...}}` in `translate`'s language.

    A parameter may itself be a stored message (it is rendered first). A translation whose
    placeholders do not match falls back to the English template rather than failing the page."""
    msgid = str(stored.get("msgid", ""))
    params = {
        k: render(v, translate) if isinstance(v, Mapping) and "msgid" in v else v
        for k, v in (stored.get("params") or {}).items()
    }
    text = translate(msgid) if msgid else ""
    if not params:
        return text
    try:
        return text % params
    except (KeyError, ValueError, TypeError):
        return msgid % params


class Explained(Exception):
    """An error for people: an English template marked with `gettext_noop` (placeholders
    `%(name)s`) and its parameters. `str()` is the English text; `stored()` is what to keep so it
    can be shown later in any language."""

    def __init__(self, msgid: str, /, **params: Any) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(render(self.stored()))

    def stored(self) -> dict[str, Any]:
        return {"msgid": self.msgid, "params": dict(self.params)}

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (process pools) with its parameters
        return (_rebuild, (type(self), self.msgid, self.params))


def _rebuild(cls: type[Explained], msgid: str, params: dict[str, Any]) -> Explained:
    return cls(msgid, **params)
