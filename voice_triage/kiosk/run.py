"""``voice-triage kiosk``: one long-lived process that serves session after session.

Loads the config, the locale and the record store once (saying in one
sentence if the database was removed or replaced since the last run), starts
the voice (unless ``--no-voice``, or falling back to screen and touch with one
sentence when a part is missing), and serves the kiosk and staff pages with
uvicorn (:mod:`~voice_triage.kiosk.server`).  Prints ``kiosk ready on http://HOST:PORT`` once it accepts
connections (with ``--port 0``, the port it was given).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import signal
import socket
import sqlite3
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, TextIO

from ..core.locale import load_locale
from ..core.yamlload import EXIT_BAD_INPUT
from .config import ConfigError, load_config
from .controller import KioskController
from .records import RecordStore
from .server import uvicorn_config
from .text import load_locale_text
from .web import create_app

log = logging.getLogger(__name__)

TICK_S = 0.25


def ipaddress_is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # protocol set: asyncio then sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def cmd_kiosk(args: argparse.Namespace, out: TextIO) -> int:
    try:
        config = load_config(args.config)
        token = config.staff_token()
    except ConfigError as exc:
        if exc.sentence:
            print(exc.sentence, file=sys.stderr)
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    locale = load_locale(config.locale)
    text = load_locale_text(config.locale)
    host = args.host or config.web.host
    port = config.web.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        print(f"The port must be from 0 to 65535, not {port}.", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        sock = _bind(host, port)
    except OSError as exc:
        print(f"The kiosk cannot listen on {host}:{port} ({exc.strerror or exc}).", file=sys.stderr)
        return 1
    try:
        store = RecordStore(config.database, timedelta(hours=config.retention_hours))
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        sock.close()
        print(f"The record database {config.database} cannot be opened ({exc}).", file=sys.stderr)
        return 1
    if not ipaddress_is_loopback(host):
        print(
            f"The staff page is reachable from other machines on {host}: put it behind TLS, and list the names "
            "staff use in web.allowed_hosts (deploy/README.md).",
            file=sys.stderr,
        )
    voice = None
    controller = KioskController(locale, text, config, store)
    if controller.records.startup_notice:  # the database was removed or replaced since the last run
        _say(controller.records.startup_notice)
    if not args.no_voice:
        from .voice import start_voice

        voice = start_voice(controller, config, locale, download_model=args.download_model)
    try:
        app = create_app(controller, store, token)
        return asyncio.run(_serve(app, controller, sock, out))
    finally:
        if voice is not None:
            voice.close()
        store.close()


def _server_class() -> type[Any]:
    import uvicorn

    class Server(uvicorn.Server):
        """SIGINT and SIGTERM stop the server cleanly, and are not raised again afterwards.

        (uvicorn re-raises them once it has stopped, which would end the
        process before the kiosk closes its voice and its database.)
        """

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


def _say(sentence: str) -> None:
    """One sentence on stderr; a full disk (it may be why) never stops the kiosk."""
    try:
        print(sentence, file=sys.stderr, flush=True)
    except OSError:
        log.warning("a message could not be written to stderr")


async def _serve(app: object, controller: KioskController, sock: socket.socket, out: TextIO) -> int:
    server = _server_class()(uvicorn_config(app, controller.config.web))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.02)
    if serving.done():
        return 1
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"kiosk ready on http://{shown}:{port}", file=out, flush=True)
    ticking = asyncio.create_task(_tick(controller))
    try:
        await serving
    finally:
        ticking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticking
    return 0


async def _tick(controller: KioskController) -> None:
    while True:
        controller.tick()
        await asyncio.sleep(TICK_S)
