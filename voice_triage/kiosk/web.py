"""The kiosk's web server: the accessible kiosk page, its live updates, and the staff page.

Starlette routes over one :class:`~voice_triage.kiosk.KioskController`:

* ``GET /``: the kiosk page (static HTML shell, ``static/kiosk.js`` renders
  every screen with ``textContent``, never as HTML);
* ``GET /events``: server-sent events, the current screen first, then every
  screen change and caption (``data: {json}``);
* ``GET /api/state``: the current screen as JSON, with its ``step``;
* ``POST /api/input``: one JSON object with exactly one of ``{"start": true}``,
  ``{"answer": V}``, ``{"command": NAME}``, ``{"setting": NAME}``,
  ``{"scan": KEY}``, ``{"interrupt": true}``, ``{"print": true}`` (the result's
  slip to the ``print_command``), and ``"step": N``, the step of
  the screen it answers (required with ``answer``, ``command`` and ``print``).  200
  ``{"ok": true}`` when it was taken; 409 with the current screen
  (``{"error", "state"}``) when the screen has moved on since that step (a
  double tap, taps queued while the kiosk was busy) or the input means nothing
  on it, so the page shows what is really there; a body that is not such an
  object is 400 (or 413 over :data:`MAX_BODY` bytes, 415 when it is not JSON,
  408 when it does not arrive in time);
* staff: ``GET /staff`` (HTML), ``GET /api/staff/sessions`` (today's
  records, emergencies first, and those not saved yet), ``GET /api/staff/alerts``,
  ``GET /api/staff/sessions/{id}/fhir`` (one record as a FHIR R4
  QuestionnaireResponse), ``POST /api/staff/ack`` (``{"id": N}``, or ``{}`` for all), all with
  ``Authorization: Bearer TOKEN`` or the HttpOnly, SameSite=Strict session cookie
  that ``POST /staff/login`` (form field ``token``) sets, one per sign-in, revoked by
  ``POST /staff/logout``; 401 otherwise, 429 while a client is locked out after
  wrong tokens (:mod:`~voice_triage.kiosk.staffauth`).  The cookie is ``Secure``
  when the request came over TLS or ``web.tls_proxy`` is set.

The kiosk page and its API (``/``, ``/events``, ``/api/state``,
``/api/input``) answer only loopback clients (403 otherwise): with
``web.host`` opened for the staff page, the screen's answers stay on the
kiosk.  The client is the connection's peer; ``X-Forwarded-For`` and
``X-Forwarded-Proto`` count only from ``web.trusted_proxies``.  A ``Host``
header that is not the kiosk's (Starlette's ``TrustedHostMiddleware``) is 400,
so a web page on another name (DNS rebinding) cannot reach the kiosk API.
Every response, errors included, forbids caching and framing and allows only
same-origin scripts and styles; an internal error is a 500 with one sentence,
never a traceback.  Nothing here logs a request body.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import ipaddress
import json
import logging
import sqlite3
import traceback
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.fhir import questionnaire_response
from ..core.grammar import COMMANDS
from ..core.locale import load_locale
from ..core.summary import Summary
from ..core.yamlload import ContentError
from .config import WebConfig
from .controller import SETTINGS, KioskController
from .records import MAX_ID, RecordStore
from .staffauth import SignInLimiter, StaffSessions, token_matches
from .text import load_staff_text

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 4096
MAX_ANSWER_CHARS = 16
COOKIE = "vt_staff"
COOKIE_MAX_AGE_S = 12 * 3600
KEEPALIVE_S = 15.0
QUEUE_LIMIT = 200  # screen events queued for one live stream before it is ended (a client that stopped reading)
BODY_TIMEOUT_S = 10.0
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
PEER = "voice_triage.peer"  # scope keys: the connection's own peer, and whether a trusted proxy named the client
PROXIED = "voice_triage.proxied"
HOST_PASSED = "voice_triage.host_passed"
INTERNAL_ERROR = "The kiosk had an internal error; try again, or ask for it to be restarted."
HOST_REFUSED = "This kiosk does not answer to that host name (add it to web.allowed_hosts if it is the kiosk's own)."
SECURITY_HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _security_headers(message: Message) -> Message:
    headers = [(k, v) for k, v in message.get("headers", []) if k.decode("latin-1").lower() not in SECURITY_HEADERS]
    headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
    return {**message, "headers": headers}


def _frames(exc: BaseException, depth: int = 4) -> str:
    """Where an exception came from (file:line function, innermost first), never its message (it could quote
    an answer)."""
    return " < ".join(
        f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
        for f in list(reversed(traceback.extract_tb(exc.__traceback__)))[:depth]
    )


class Guard:
    """The outermost layer of the app.

    * The client: the connection's peer; only a peer in ``trusted_proxies`` may name
      another with ``X-Forwarded-For`` (the nearest address in it that is not a trusted
      proxy) and the scheme with ``X-Forwarded-Proto``.
    * :data:`SECURITY_HEADERS` on every response, errors included.
    * Anything that fails inside is a 500 with one sentence, logged as one line
      (the exception's type and where), never a traceback.
    """

    def __init__(self, app: ASGIApp, trusted_proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted = [ipaddress.ip_network(n, strict=False) for n in trusted_proxies]

    def trusted_peer(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def _client(self, scope: Scope) -> None:
        peer = scope.get("client")
        scope[PEER] = peer
        if not self.trusted or not peer or not self.trusted_peer(str(peer[0])):
            return
        headers = Headers(scope=scope)
        chain = [h.strip() for line in headers.getlist("x-forwarded-for") for h in line.split(",") if h.strip()]
        if chain:
            client = chain[0]
            for hop in reversed(chain):  # the nearest hop that is not one of our proxies is the client
                client = hop
                if not self.trusted_peer(hop):
                    break
            scope["client"] = (client[:64], 0)
            scope[PROXIED] = True
        proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if proto in ("http", "https"):
            scope["scheme"] = proto

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._client(scope)
        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = _security_headers(message)
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception as exc:
            log.error("internal error in the web server (%s) at %s", type(exc).__name__, _frames(exc))
            if started:
                return  # the connection is closed by the server
            body = json.dumps({"error": INTERNAL_ERROR})
            await with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await with_headers({"type": "http.response.body", "body": body.encode()})


class _HostPassed:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[HOST_PASSED] = True
        await self.app(scope, receive, send)


class HostCheck(TrustedHostMiddleware):
    """Starlette's :class:`TrustedHostMiddleware`, with its refusal said in one sentence."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        super().__init__(_HostPassed(app), allowed_hosts=list(allowed_hosts), www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def reworded(message: Message) -> None:
            if scope.get(HOST_PASSED):
                await send(message)
            elif message["type"] == "http.response.start":  # the middleware's own 400
                body = json.dumps({"error": HOST_REFUSED}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})

        await super().__call__(scope, receive, reworded)


def allowed_hosts(web: WebConfig) -> list[str]:
    """The Host names the kiosk answers to: localhost, its own address when it is one, and web.allowed_hosts."""
    hosts = list(LOCAL_HOSTS)
    own = web.host.strip().lower()
    try:
        address = ipaddress.ip_address(own)
    except ValueError:
        if own:
            hosts.append(own)
    else:
        if not address.is_unspecified:
            hosts.append(f"[{address}]" if address.version == 6 else str(address))
    hosts += web.allowed_hosts
    return list(dict.fromkeys(hosts))


async def read_body(request: Request, limit: int = MAX_BODY, timeout_s: float = BODY_TIMEOUT_S) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise BadRequest(413, "The request is too large.")
    body = b""

    async def read() -> None:
        nonlocal body
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise BadRequest(413, "The request is too large.")

    try:
        await asyncio.wait_for(read(), timeout_s)
    except TimeoutError:
        raise BadRequest(408, "The request did not arrive in time.") from None
    return body


async def read_json(request: Request, timeout_s: float = BODY_TIMEOUT_S) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        raise BadRequest(415, "Send JSON (Content-Type: application/json).")
    body = await read_body(request, timeout_s=timeout_s)
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest(400, "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest(400, "The body must be a JSON object.")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def kiosk_client(request: Request) -> bool:
    """The kiosk page and its API answer only the machine itself (the kiosk's own browser).

    The staff page may be served to the network (``web.host``); the person's
    answers on the kiosk screen never are.
    """
    client = request.client
    if client is None:  # a Unix socket: the machine itself
        return True
    return _loopback(client.host)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def client_address(request: Request) -> str:
    """The client as :class:`Guard` decided (a trusted proxy's X-Forwarded-For, else the peer)."""
    return request.client.host if request.client is not None else "local"


def kiosk_itself(request: Request) -> bool:
    """The kiosk machine itself, connected directly (not through a proxy)."""
    return not request.scope.get(PROXIED) and kiosk_client(request)


def _not_here() -> JSONResponse:
    return _error(403, "The kiosk page is shown only on the kiosk itself.")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


INPUT_KEYS = ("start", "answer", "command", "setting", "scan", "interrupt", "print")
NEEDS_STEP = ("answer", "command", "print")  # they answer what is on screen: they must say which screen


def apply_input(controller: KioskController, data: dict[str, Any]) -> bool | None:
    """Validate one input object and hand it to the controller; BadRequest if it is malformed.

    True: taken; False: it means nothing on the current screen; None: it names a
    step the screen has moved on from (it was for a question no longer shown).
    """
    keys = [key for key in data if key in INPUT_KEYS]
    if len(keys) != 1 or set(data) - {keys[0], "step"}:
        raise BadRequest(400, f"Send exactly one of: {', '.join(INPUT_KEYS)} (with the screen's 'step').")
    key = keys[0]
    value = data[key]
    step = data.get("step")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
        raise BadRequest(400, "'step' must be the whole number the screen's state gives.")
    if step is None and key in NEEDS_STEP:
        raise BadRequest(400, f"{key!r} needs the 'step' of the screen it answers (from /api/state or /events).")
    act = _input_action(controller, key, value)
    return act() if step is None else controller.at_step(step, act)


def _input_action(controller: KioskController, key: str, value: Any) -> Callable[[], bool]:
    if key in ("start", "interrupt", "print"):
        if value is not True:
            raise BadRequest(400, f"{key!r} must be true.")
        return {"start": controller.start, "interrupt": controller.interrupt, "print": controller.print_slip}[key]
    if key == "answer":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise BadRequest(400, "'answer' must be text or a number.")
        if isinstance(value, str) and (not value.strip() or len(value) > MAX_ANSWER_CHARS):
            raise BadRequest(400, f"'answer' must be 1 to {MAX_ANSWER_CHARS} characters.")
        answer = value.strip() if isinstance(value, str) else value
        return lambda: controller.answer(answer)
    if not isinstance(value, str):
        raise BadRequest(400, f"{key!r} must be text.")
    if key == "command":
        if value not in COMMANDS:
            raise BadRequest(400, f"Unknown command; use one of: {', '.join(COMMANDS)}.")
        return lambda: controller.command(value)
    if key == "setting":
        if value not in SETTINGS:
            raise BadRequest(400, f"Unknown setting; use one of: {', '.join(SETTINGS)}.")
        return lambda: controller.setting(value)
    if len(value) > 16:
        raise BadRequest(400, "'scan' must be one key.")
    return lambda: controller.scan(value)


# ------------------------------------------------------------------ pages


def kiosk_page(lang: str, title: str, regions: dict[str, str]) -> str:
    e = html.escape
    return f"""<!doctype html>
<html lang="{e(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<link rel="stylesheet" href="/static/kiosk.css">
<script src="/static/kiosk.js" defer></script>
</head>
<body>
<main id="main">
<div id="screen"><h1 id="loading">{e(title)}</h1></div>
</main>
<section id="listening" aria-label="{e(regions.get("listening", "Listening"))}" hidden>
<div id="indicator" data-state="listening"><span class="mic" aria-hidden="true"></span>
<span id="indicator-label"></span>
<span id="level" aria-hidden="true"><span id="level-bar"></span></span></div>
<p id="listen-live" class="visually-hidden" aria-live="polite"></p>
<p id="heard" aria-live="polite"></p>
</section>
<section id="captions" aria-label="{e(regions.get("captions", "Captions"))}">
<p id="caption" aria-live="polite"></p>
<p id="scan-caption" aria-live="polite"></p>
</section>
<div id="slip"></div>
<section id="settings" aria-label="{e(regions.get("settings", "Settings"))}"></section>
</body>
</html>
"""


_ENGLISH: dict[str, str] = {}


def _words(words: dict[str, str] | None) -> dict[str, str]:
    """The staff page's words: the kiosk's locale's, else English (prompts/en/staff.yaml)."""
    if words is not None:
        return words
    if not _ENGLISH:
        _ENGLISH.update(load_staff_text("en"))
    return _ENGLISH


def _page(title: str, body: str, lang: str = "en", words: dict[str, str] | None = None) -> str:
    e = html.escape
    w = _words(words)
    data = " ".join(
        f'data-{key.replace("_", "-")}="{e(w[key])}"' for key in ("staff_needed", "acknowledge", "record_notices")
    )
    return f"""<!doctype html>
<html lang="{e(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<link rel="stylesheet" href="/static/staff.css">
<script src="/static/staff.js" defer></script>
</head>
<body {data}>
{body}
</body>
</html>
"""


def login_page(
    kiosk: str,
    failed: bool = False,
    message: str | None = None,
    words: dict[str, str] | None = None,
    lang: str = "en",
) -> str:
    """The sign-in form; ``failed`` says the token was wrong, ``message`` says anything else (a lock-out)."""
    e = html.escape
    w = _words(words)
    text = message or (w["wrong_token"] if failed else None)
    error = f'<p id="login-error" role="alert">{e(text)}</p>\n' if text else ""
    return _page(
        w["signin_title"].format(kiosk=kiosk),
        f"""<main id="main">
<h1>{e(w["signin_title"].format(kiosk=kiosk))}</h1>
{error}<form method="post" action="/staff/login">
<label for="token">{e(w["token_label"])}</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit" id="login">{e(w["sign_in"])}</button>
</form>
</main>""",
        lang,
        w,
    )


def alert_banner(alerts: list[dict[str, Any]], words: dict[str, str] | None = None) -> str:
    """The staff banner: kiosk, time and level of each unacknowledged alert, and nothing else."""
    if not alerts:
        return ""
    e = html.escape
    w = _words(words)
    items = "\n".join(
        f'<li><span class="alert-level">{e(str(a["level"]))}</span>: {e(str(a["kiosk"]))}, '
        f'<time datetime="{e(str(a["time"]))}">{e(str(a["time"]))}</time> '
        f'<button type="button" class="ack" data-alert-id="{int(a["id"])}">{e(w["acknowledge"])}</button></li>'
        for a in alerts
    )
    return f'<div id="staff-alert" role="alert">\n<h2>{e(w["staff_needed"])}</h2>\n<ul>\n{items}\n</ul>\n</div>'


def session_dict(summary: Summary, level_names: dict[str, str], unsaved: str | None = None) -> dict[str, Any]:
    """One record for the staff page; ``unsaved``: the uid of a record not saved yet (its id is None)."""
    local = summary.finished_at.astimezone()
    return {
        "id": summary.id,
        "saved": unsaved is None,
        "ref": str(summary.id) if unsaved is None else f"unsaved-{unsaved[:12]}",
        "kiosk": summary.kiosk,
        "finished_at": summary.finished_at.isoformat(),
        "local_time": local.strftime("%H:%M"),
        "level": summary.level,
        "level_name": level_names.get(summary.level, summary.level),
        "outcome": summary.outcome,
        "emergency": summary.emergency,
        "red_flags": list(summary.red_flags),
        "causes": [
            {"id": c.id, "name": c.name, "because": summary.because[i] if i < len(summary.because) else ""}
            for i, c in enumerate(summary.causes)
        ],
        "answers": [{"question": a.question, "answer": a.words} for a in summary.answers],
    }


def records_status(problem: str | None, notices: list[dict[str, str]], words: dict[str, str] | None = None) -> str:
    """The staff page's word on the records: what is not saved now, and what happened to the database."""
    e = html.escape
    w = _words(words)
    parts = []
    if problem:
        parts.append(f'<p id="records-problem" role="alert">{e(problem)}</p>')
    if notices:
        items = "\n".join(
            f'<li><time datetime="{e(n["time"])}">{e(n["time"])}</time>: {e(n["text"])}</li>' for n in notices
        )
        parts.append(f'<h2>{e(w["record_notices"])}</h2>\n<ul id="record-notices">\n{items}\n</ul>')
    return "\n".join(parts)


def room_status(room: dict[str, Any] | None, words: dict[str, str] | None = None) -> str:
    """The staff page's word on the room: whether spoken answers can be heard here (core/room.py)."""
    if room is None:
        return ""
    e = html.escape
    w = _words(words)
    level = w["room_level"].format(background=f"{room['background_db']:.0f}", snr=f"{room['snr_db']:.0f}")
    if room["reliable"]:
        return f'<p id="room" data-reliable="true">{e(w["room_quiet"].format(level=level), quote=False)}</p>'
    text = w["room_loud"].format(level=level, min_snr=f"{room['min_snr_db']:.0f}")
    return f'<p id="room" data-reliable="false" role="status">{e(text, quote=False)}</p>'


def staff_page(
    kiosk: str,
    sessions: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
    problem: str | None = None,
    notices: list[dict[str, str]] | None = None,
    words: dict[str, str] | None = None,
    lang: str = "en",
    room: dict[str, Any] | None = None,
) -> str:
    e = html.escape
    w = _words(words)
    articles = []
    for s in sessions:
        ref = e(str(s.get("ref", s["id"])))
        flags = ", ".join(e(f) for f in s["red_flags"]) or e(w["none"])
        causes = (
            "".join(
                f"<li>{e(c['name'])}" + (f" <small>{e(c['because'])}</small>" if c.get("because") else "") + "</li>"
                for c in s["causes"]
            )
            or f"<li>{e(w['none'])}</li>"
        )
        rows = "".join(
            f'<tr><th scope="row">{e(a["question"])}</th><td>{e(a["answer"])}</td></tr>' for a in s["answers"]
        )
        emergency = " emergency" if s["emergency"] else ""
        saved = s.get("saved", True)
        state = "" if saved else f'<p class="unsaved">{e(w["not_saved"])}</p>\n'
        export = f'\n<a class="fhir" href="/api/staff/sessions/{int(s["id"])}/fhir">{e(w["fhir"])}</a>' if saved else ""
        line = e(w["session_line"].format(kiosk=s["kiosk"], outcome=s["outcome"]))
        flags_line = flags.join(e(part) for part in w["red_flags"].split("{flags}"))
        articles.append(
            f"""<article class="session{emergency}" id="session-{ref}" data-level="{e(s["level"])}"
 aria-labelledby="session-{ref}-title">
<h3 id="session-{ref}-title">{e(s["local_time"])}: {e(s["level_name"])}</h3>
{state}<p>{line}
 <time datetime="{e(s["finished_at"])}">{e(s["finished_at"])}</time>.</p>
<p>{flags_line}</p>
<h4>{e(w["causes"])}</h4>
<ol>{causes}</ol>
<h4>{e(w["answers"])}</h4>
<table>
<thead><tr><th scope="col">{e(w["question"])}</th><th scope="col">{e(w["answer"])}</th></tr></thead>
<tbody>{rows}</tbody>
</table>
<p>{e(w["not_diagnosis"])}</p>
<p class="actions"><button type="button" class="print" data-print="{ref}">{e(w["print_record"])}</button>{export}</p>
</article>"""
        )
    listing = "\n".join(articles) if articles else f'<p id="no-sessions">{e(w["no_sessions"])}</p>'
    unsaved = sum(1 for s in sessions if not s.get("saved", True))
    return _page(
        w["page_title"].format(kiosk=kiosk),
        f"""<header>
<p class="product">{e(w["product"])}</p>
<form method="post" action="/staff/logout"><button type="submit" id="logout">{e(w["sign_out"])}</button></form>
</header>
<main id="main">
<h1>{e(w["records_title"].format(kiosk=kiosk))}</h1>
<div id="alerts">{alert_banner(alerts, w)}</div>
<div id="records-status">{records_status(problem, notices or [], w)}</div>
<div id="room-status">{room_status(room, w)}</div>
<h2>{e(w["sessions_title"].format(count=len(sessions)), quote=False)}</h2>
<div id="sessions" data-count="{len(sessions)}" data-unsaved="{unsaved}">
{listing}
</div>
</main>""",
        lang,
        w,
    )


# ------------------------------------------------------------------ the app


def create_app(
    controller: KioskController,
    store: RecordStore | None,
    token: str,
    *,
    local_now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
    limiter: SignInLimiter | None = None,
    staff_sessions: StaffSessions | None = None,
) -> ASGIApp:
    kiosk = controller.config.name
    web = controller.config.web
    lang = controller.content.locale
    title = controller.text["title"]
    level_names = dict(controller.content.messages.level_names)
    words = load_staff_text(lang)
    limiter = limiter if limiter is not None else SignInLimiter()
    logins = staff_sessions if staff_sessions is not None else StaffSessions()
    records = controller.records
    body_timeout_s = min(BODY_TIMEOUT_S, web.header_timeout_s)

    def locked_out(request: Request) -> int:
        return limiter.wait_s(client_address(request), local=kiosk_itself(request))

    def authorized(request: Request) -> bool | int:
        """True with a valid session cookie or the token; False without; N: locked out for N more seconds."""
        if logins.valid(request.cookies.get(COOKIE, "")):
            return True
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return False
        wait = locked_out(request)
        if wait:
            return wait
        if token_matches(given.strip(), token):
            return True
        limiter.failed(client_address(request))
        log.warning("a wrong staff token was refused")
        return False

    def refused_json(result: bool | int) -> JSONResponse:
        if result is False:
            return JSONResponse(
                {"error": "A staff token is needed."}, status_code=401, headers={"www-authenticate": "Bearer"}
            )
        return _locked_json(int(result))

    def sessions() -> tuple[list[dict[str, Any]], str | None]:
        """Today's records (saved, then those not saved yet) and a sentence if the saved ones cannot be read."""
        listed: list[dict[str, Any]] = []
        problem = None
        if store is not None:
            try:
                listed = [session_dict(s, level_names) for s in store.today(local_now())]
            except (sqlite3.Error, OSError) as exc:
                log.error("the saved records cannot be read (%s)", type(exc).__name__)
                problem = "The saved records cannot be read just now; the kiosk tries again with every refresh."
        unsaved = [session_dict(s, level_names, uid) for uid, s in records.unsaved_records()]
        return unsaved + listed, problem

    def records_problem(read_problem: str | None) -> str | None:
        return " ".join(p for p in (records.problem(), read_problem) if p) or None

    async def index(request: Request) -> Response:
        if not kiosk_client(request):
            return _not_here()
        return HTMLResponse(kiosk_page(lang, title, dict(controller.text.regions)))

    async def state(request: Request) -> Response:
        if not kiosk_client(request):
            return _not_here()
        return JSONResponse(controller.snapshot())

    async def input_(request: Request) -> Response:
        if not kiosk_client(request):
            return _not_here()
        try:
            taken = apply_input(controller, await read_json(request, body_timeout_s))
        except BadRequest as exc:
            return _error(exc.status, exc.message)
        if taken is None:
            return JSONResponse(
                {
                    "error": "That was for a screen no longer shown: here is the one shown now.",
                    "state": controller.snapshot(),
                },
                status_code=409,
            )
        if not taken:
            return JSONResponse(
                {"error": "That means nothing on the current screen.", "state": controller.snapshot()}, status_code=409
            )
        return JSONResponse({"ok": True})

    async def events(request: Request) -> Response:
        if not kiosk_client(request):
            return _not_here()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=QUEUE_LIMIT)

        def put(event: dict[str, Any] | None) -> None:
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # a client that stopped reading: end its stream
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(None)

        def push(event: dict[str, Any]) -> None:
            loop.call_soon_threadsafe(put, event)

        first, unsubscribe = controller.connect(push)

        async def stream() -> AsyncIterator[str]:
            try:
                yield "retry: 1000\n\n"
                yield _sse({"type": "state", "state": first})
                while True:
                    try:
                        event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                    except TimeoutError:
                        yield ": keepalive\n\n"
                        continue
                    if event is None:
                        return
                    yield _sse(event)
            finally:
                unsubscribe()

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"x-accel-buffering": "no"})

    async def staff(request: Request) -> Response:
        if authorized(request) is not True:  # the page itself never counts as a sign-in try
            wait = locked_out(request)
            message = _locked_sentence(wait, words) if wait else None
            return HTMLResponse(login_page(kiosk, message=message, words=words, lang=lang), status_code=401)
        listed, read_problem = sessions()
        return HTMLResponse(
            staff_page(
                kiosk,
                listed,
                controller.alerts_snapshot(),
                records_problem(read_problem),
                records.notices(),
                words=words,
                lang=lang,
                room=controller.room_snapshot(),
            )
        )

    async def login(request: Request) -> Response:
        try:
            body = await read_body(request, timeout_s=body_timeout_s)
            form = parse_qs(body.decode("utf-8"), max_num_fields=5)
        except BadRequest as exc:
            return _error(exc.status, exc.message)
        except (UnicodeDecodeError, ValueError):
            return _error(400, "The form could not be read.")
        wait = locked_out(request)
        if wait:
            return HTMLResponse(
                login_page(kiosk, message=_locked_sentence(wait, words), words=words, lang=lang),
                status_code=429,
                headers={"retry-after": str(wait)},
            )
        given = (form.get("token") or [""])[0].strip()
        if not given or not token_matches(given, token):
            limiter.failed(client_address(request))
            log.warning("staff sign-in refused")
            return HTMLResponse(login_page(kiosk, failed=True, words=words, lang=lang), status_code=401)
        response = RedirectResponse("/staff", status_code=303)
        response.set_cookie(
            COOKIE,
            logins.new(),
            max_age=COOKIE_MAX_AGE_S,
            path="/",
            httponly=True,
            samesite="strict",
            secure=web.tls_proxy or request.url.scheme == "https",
        )
        log.info("staff signed in")
        return response

    async def logout(request: Request) -> Response:
        if logins.revoke(request.cookies.get(COOKIE, "")):
            log.info("staff signed out")
        response = RedirectResponse("/staff", status_code=303)
        response.delete_cookie(
            COOKIE, path="/", httponly=True, samesite="strict", secure=web.tls_proxy or request.url.scheme == "https"
        )
        return response

    async def api_sessions(request: Request) -> Response:
        allowed = authorized(request)
        if allowed is not True:
            return refused_json(allowed)
        listed, read_problem = sessions()
        return JSONResponse(
            {"kiosk": kiosk, "sessions": listed, "unsaved": records.unsaved, "problem": records_problem(read_problem)}
        )

    async def api_fhir(request: Request) -> Response:
        allowed = authorized(request)
        if allowed is not True:
            return refused_json(allowed)
        record = int(request.path_params["record"])
        try:
            summary = store.get(record) if store is not None and 0 < record <= MAX_ID else None
        except (sqlite3.Error, OSError) as exc:
            log.error("a saved record cannot be read (%s)", type(exc).__name__)
            return _error(503, "The saved records cannot be read just now; try again in a moment.")
        if summary is None:
            return _error(404, "No such record (or it is past the retention period).")
        try:
            content = controller.content if summary.locale == lang else load_locale(summary.locale).content
        except ContentError:
            return _error(409, f"The {summary.locale!r} content is not available to export this record.")
        return JSONResponse(questionnaire_response(summary, content), media_type="application/fhir+json")

    def count_sessions() -> tuple[int, str | None]:
        """How many records the staff page lists (saved and not yet), without reading them (polled every 2 s)."""
        saved, problem = 0, None
        if store is not None:
            try:
                saved = store.count_today(local_now())
            except (sqlite3.Error, OSError) as exc:
                log.error("the saved records cannot be counted (%s)", type(exc).__name__)
                problem = "The saved records cannot be read just now; the kiosk tries again with every refresh."
        return saved + records.unsaved, problem

    async def api_alerts(request: Request) -> Response:
        allowed = authorized(request)
        if allowed is not True:
            return refused_json(allowed)
        count, read_problem = count_sessions()
        return JSONResponse(
            {
                "alerts": controller.alerts_snapshot(),
                "sessions": count,
                "unsaved": records.unsaved,
                "problem": records_problem(read_problem),
                "notices": records.notices(),
            }
        )

    async def api_ack(request: Request) -> Response:
        allowed = authorized(request)
        if allowed is not True:
            return refused_json(allowed)
        try:
            data = await read_json(request, body_timeout_s)
        except BadRequest as exc:
            return _error(exc.status, exc.message)
        alert_id = data.get("id")
        if set(data) - {"id"} or (
            alert_id is not None and (isinstance(alert_id, bool) or not isinstance(alert_id, int))
        ):
            return _error(400, 'Send {"id": N} for one alert, or {} for all.')
        return JSONResponse({"acknowledged": controller.staff_ack(alert_id)})

    routes = [
        Route("/", index),
        Route("/api/state", state),
        Route("/api/input", input_, methods=["POST"]),
        Route("/events", events),
        Route("/staff", staff),
        Route("/staff/login", login, methods=["POST"]),
        Route("/staff/logout", logout, methods=["POST"]),
        Route("/api/staff/sessions", api_sessions),
        Route("/api/staff/sessions/{record:int}/fhir", api_fhir),
        Route("/api/staff/alerts", api_alerts),
        Route("/api/staff/ack", api_ack, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    # Starlette answers an exception with this (then raises it again for Guard to log as one line)
    app = Starlette(routes=routes, exception_handlers={Exception: _internal_error})
    return Guard(HostCheck(app, allowed_hosts(web)), web.trusted_proxies)


async def _internal_error(request: Request, exc: Exception) -> Response:
    return _error(500, INTERNAL_ERROR)


def _locked_sentence(wait_s: int, words: dict[str, str] | None = None) -> str:
    if words is None or words.get("locked") == _words(None)["locked"]:
        return f"Too many wrong staff tokens: sign-in is locked for {wait_s} more second{'s' if wait_s != 1 else ''}."
    return words["locked"].format(seconds=wait_s)


def _locked_json(wait_s: int) -> JSONResponse:
    return JSONResponse({"error": _locked_sentence(wait_s)}, status_code=429, headers={"retry-after": str(wait_s)})


def _sse(event: dict[str, Any]) -> str:
    return "data: " + json.dumps(event, ensure_ascii=False) + "\n\n"
