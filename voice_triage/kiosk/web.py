"""The kiosk's web server: the accessible kiosk page, its live updates, and the staff page.

Starlette routes over one :class:`~voice_triage.kiosk.KioskController`:

* ``GET /``: the kiosk page (static HTML shell, ``static/kiosk.js`` renders
  every screen with ``textContent``, never as HTML);
* ``GET /events``: server-sent events, the current screen first, then every
  screen change and caption (``data: {json}``);
* ``GET /api/state``: the current screen as JSON;
* ``POST /api/input``: one JSON object with exactly one of ``{"start": true}``,
  ``{"answer": V}``, ``{"command": NAME}``, ``{"setting": NAME}``,
  ``{"scan": KEY}``, ``{"interrupt": true}``.  200 ``{"ok": true}`` when it
  was taken, 409 when it means nothing on the current screen; a body that is
  not such an object is 400 (or 413 over :data:`MAX_BODY` bytes, 415 when it
  is not JSON);
* staff: ``GET /staff`` (HTML), ``GET /api/staff/sessions`` (today's
  records, emergencies first), ``GET /api/staff/alerts``,
  ``GET /api/staff/sessions/{id}/fhir`` (one record as a FHIR R4
  QuestionnaireResponse), ``POST /api/staff/ack`` (``{"id": N}``, or ``{}`` for all), all with
  ``Authorization: Bearer TOKEN`` or the HttpOnly, SameSite=Strict cookie
  that ``POST /staff/login`` (form field ``token``) sets; 401 otherwise.

The kiosk page and its API (``/``, ``/events``, ``/api/state``,
``/api/input``) answer only loopback clients (403 otherwise): with
``web.host`` opened for the staff page, the screen's answers stay on the
kiosk.  Every response forbids caching and framing and allows only same-origin
scripts and styles.  Nothing here logs a request body.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import ipaddress
import json
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
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
from .controller import SETTINGS, KioskController
from .records import RecordStore

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 4096
MAX_ANSWER_CHARS = 16
COOKIE = "vt_staff"
COOKIE_MAX_AGE_S = 12 * 3600
KEEPALIVE_S = 15.0
QUEUE_LIMIT = 1000
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


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode("latin-1") not in SECURITY_HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise BadRequest(413, "The request is too large.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BadRequest(413, "The request is too large.")
    return body


async def read_json(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        raise BadRequest(415, "Send JSON (Content-Type: application/json).")
    body = await read_body(request)
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
    try:
        return ipaddress.ip_address(client.host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _not_here() -> JSONResponse:
    return _error(403, "The kiosk page is shown only on the kiosk itself.")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


INPUT_KEYS = ("start", "answer", "command", "setting", "scan", "interrupt")


def apply_input(controller: KioskController, data: dict[str, Any]) -> bool:
    """Validate one input object and hand it to the controller; BadRequest if it is malformed."""
    keys = [key for key in data if key in INPUT_KEYS]
    if len(data) != 1 or len(keys) != 1:
        raise BadRequest(400, f"Send exactly one of: {', '.join(INPUT_KEYS)}.")
    key = keys[0]
    value = data[key]
    if key in ("start", "interrupt"):
        if value is not True:
            raise BadRequest(400, f"{key!r} must be true.")
        return controller.start() if key == "start" else controller.interrupt()
    if key == "answer":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise BadRequest(400, "'answer' must be text or a number.")
        if isinstance(value, str) and (not value.strip() or len(value) > MAX_ANSWER_CHARS):
            raise BadRequest(400, f"'answer' must be 1 to {MAX_ANSWER_CHARS} characters.")
        return controller.answer(value.strip() if isinstance(value, str) else value)
    if not isinstance(value, str):
        raise BadRequest(400, f"{key!r} must be text.")
    if key == "command":
        if value not in COMMANDS:
            raise BadRequest(400, f"Unknown command; use one of: {', '.join(COMMANDS)}.")
        return controller.command(value)
    if key == "setting":
        if value not in SETTINGS:
            raise BadRequest(400, f"Unknown setting; use one of: {', '.join(SETTINGS)}.")
        return controller.setting(value)
    if len(value) > 16:
        raise BadRequest(400, "'scan' must be one key.")
    return controller.scan(value)


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
<section id="captions" aria-label="{e(regions.get("captions", "Captions"))}">
<p id="caption" aria-live="polite"></p>
<p id="scan-caption" aria-live="polite"></p>
</section>
<section id="settings" aria-label="{e(regions.get("settings", "Settings"))}"></section>
</body>
</html>
"""


def _page(title: str, body: str, lang: str = "en") -> str:
    e = html.escape
    return f"""<!doctype html>
<html lang="{e(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<link rel="stylesheet" href="/static/staff.css">
<script src="/static/staff.js" defer></script>
</head>
<body>
{body}
</body>
</html>
"""


def login_page(kiosk: str, failed: bool = False) -> str:
    e = html.escape
    error = '<p id="login-error" role="alert">That token is not right.</p>\n' if failed else ""
    return _page(
        f"Staff sign-in: {kiosk}",
        f"""<main id="main">
<h1>Staff sign-in: {e(kiosk)}</h1>
{error}<form method="post" action="/staff/login">
<label for="token">Staff token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit" id="login">Sign in</button>
</form>
</main>""",
    )


def alert_banner(alerts: list[dict[str, Any]]) -> str:
    """The staff banner: kiosk, time and level of each unacknowledged alert, and nothing else."""
    if not alerts:
        return ""
    e = html.escape
    items = "\n".join(
        f'<li><span class="alert-level">{e(str(a["level"]))}</span>: {e(str(a["kiosk"]))}, '
        f'<time datetime="{e(str(a["time"]))}">{e(str(a["time"]))}</time> '
        f'<button type="button" class="ack" data-alert-id="{int(a["id"])}">Acknowledge</button></li>'
        for a in alerts
    )
    return f'<div id="staff-alert" role="alert">\n<h2>Staff needed</h2>\n<ul>\n{items}\n</ul>\n</div>'


def session_dict(summary: Summary, level_names: dict[str, str]) -> dict[str, Any]:
    local = summary.finished_at.astimezone()
    return {
        "id": summary.id,
        "kiosk": summary.kiosk,
        "finished_at": summary.finished_at.isoformat(),
        "local_time": local.strftime("%H:%M"),
        "level": summary.level,
        "level_name": level_names.get(summary.level, summary.level),
        "outcome": summary.outcome,
        "emergency": summary.emergency,
        "red_flags": list(summary.red_flags),
        "causes": [{"id": c.id, "name": c.name} for c in summary.causes],
        "answers": [{"question": a.question, "answer": a.words} for a in summary.answers],
    }


def staff_page(kiosk: str, sessions: list[dict[str, Any]], alerts: list[dict[str, Any]]) -> str:
    e = html.escape
    articles = []
    for s in sessions:
        sid = int(s["id"])
        flags = ", ".join(e(f) for f in s["red_flags"]) or "none"
        causes = "".join(f"<li>{e(c['name'])}</li>" for c in s["causes"]) or "<li>none</li>"
        rows = "".join(
            f'<tr><th scope="row">{e(a["question"])}</th><td>{e(a["answer"])}</td></tr>' for a in s["answers"]
        )
        emergency = " emergency" if s["emergency"] else ""
        articles.append(
            f"""<article class="session{emergency}" id="session-{sid}" data-level="{e(s["level"])}"
 aria-labelledby="session-{sid}-title">
<h3 id="session-{sid}-title">{e(s["local_time"])}: {e(s["level_name"])}</h3>
<p>Kiosk {e(s["kiosk"])}; outcome {e(s["outcome"])}; finished
 <time datetime="{e(s["finished_at"])}">{e(s["finished_at"])}</time>.</p>
<p>Red flags: {flags}</p>
<h4>Possible causes</h4>
<ol>{causes}</ol>
<h4>Answers</h4>
<table>
<thead><tr><th scope="col">Question</th><th scope="col">Answer</th></tr></thead>
<tbody>{rows}</tbody>
</table>
<p>This is not a diagnosis: it records what the person answered and what the kiosk advised.</p>
<p class="actions"><button type="button" class="print" data-print="{sid}">Print this record</button>
<a class="fhir" href="/api/staff/sessions/{sid}/fhir">FHIR QuestionnaireResponse (JSON)</a></p>
</article>"""
        )
    listing = "\n".join(articles) if articles else '<p id="no-sessions">No sessions today.</p>'
    return _page(
        f"Staff: {kiosk}",
        f"""<header>
<p class="product">voice-triage staff page</p>
<form method="post" action="/staff/logout"><button type="submit" id="logout">Sign out</button></form>
</header>
<main id="main">
<h1>Hand-off records: {e(kiosk)}</h1>
<div id="alerts">{alert_banner(alerts)}</div>
<h2>Today's sessions ({len(sessions)})</h2>
<div id="sessions" data-count="{len(sessions)}">
{listing}
</div>
</main>""",
    )


# ------------------------------------------------------------------ the app


def create_app(
    controller: KioskController,
    store: RecordStore | None,
    token: str,
    *,
    local_now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
) -> Starlette:
    kiosk = controller.config.name
    lang = controller.content.locale
    title = controller.text["title"]
    level_names = dict(controller.content.messages.level_names)
    cookie_value = secrets.token_urlsafe(32)  # valid until the process restarts
    token_bytes = token.encode("utf-8")

    def authorized(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() == "bearer" and given and hmac.compare_digest(given.strip().encode("utf-8"), token_bytes):
            return True
        cookie = request.cookies.get(COOKIE, "")
        return bool(cookie) and hmac.compare_digest(cookie.encode("utf-8"), cookie_value.encode("utf-8"))

    def unauthorized_json() -> JSONResponse:
        return JSONResponse(
            {"error": "A staff token is needed."}, status_code=401, headers={"www-authenticate": "Bearer"}
        )

    def sessions() -> list[dict[str, Any]]:
        if store is None:
            return []
        return [session_dict(s, level_names) for s in store.today(local_now())]

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
            taken = apply_input(controller, await read_json(request))
        except BadRequest as exc:
            return _error(exc.status, exc.message)
        if not taken:
            return _error(409, "That means nothing on the current screen.")
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
        if not authorized(request):
            return HTMLResponse(login_page(kiosk), status_code=401)
        return HTMLResponse(staff_page(kiosk, sessions(), controller.alerts_snapshot()))

    async def login(request: Request) -> Response:
        try:
            body = await read_body(request)
            form = parse_qs(body.decode("utf-8"), max_num_fields=5)
        except BadRequest as exc:
            return _error(exc.status, exc.message)
        except (UnicodeDecodeError, ValueError):
            return _error(400, "The form could not be read.")
        given = (form.get("token") or [""])[0].strip().encode("utf-8")
        if not given or not hmac.compare_digest(given, token_bytes):
            log.warning("staff sign-in refused")
            return HTMLResponse(login_page(kiosk, failed=True), status_code=401)
        response = RedirectResponse("/staff", status_code=303)
        response.set_cookie(COOKIE, cookie_value, max_age=COOKIE_MAX_AGE_S, path="/", httponly=True, samesite="strict")
        return response

    async def logout(request: Request) -> Response:
        response = RedirectResponse("/staff", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    async def api_sessions(request: Request) -> Response:
        if not authorized(request):
            return unauthorized_json()
        return JSONResponse({"kiosk": kiosk, "sessions": sessions()})

    async def api_fhir(request: Request) -> Response:
        if not authorized(request):
            return unauthorized_json()
        summary = store.get(int(request.path_params["record"])) if store is not None else None
        if summary is None:
            return _error(404, "No such record (or it is past the retention period).")
        try:
            content = controller.content if summary.locale == lang else load_locale(summary.locale).content
        except ContentError:
            return _error(409, f"The {summary.locale!r} content is not available to export this record.")
        return JSONResponse(questionnaire_response(summary, content), media_type="application/fhir+json")

    async def api_alerts(request: Request) -> Response:
        if not authorized(request):
            return unauthorized_json()
        count = len(store.today(local_now())) if store is not None else 0
        return JSONResponse({"alerts": controller.alerts_snapshot(), "sessions": count})

    async def api_ack(request: Request) -> Response:
        if not authorized(request):
            return unauthorized_json()
        try:
            data = await read_json(request)
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
    app = Starlette(routes=routes)
    app.add_middleware(SecurityHeaders)
    return app


def _sse(event: dict[str, Any]) -> str:
    return "data: " + json.dumps(event, ensure_ascii=False) + "\n\n"
