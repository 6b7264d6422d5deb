"""The playground's web server: one page, its static files, and a WebSocket per tab (PROTOCOL.md).

Each WebSocket gets a ``Lab`` and, while it trains, an asyncio task that runs steps in short
chunks (``session.run(steps=k)`` with k adapted to a ~12 ms budget, at most
``STEPS_PER_SECOND``) and sends a ``frame`` at most ``FRAMES_PER_SECOND`` times a second; views are
computed only when a frame is due. Messages are handled between chunks, on the same event loop,
so a message never sees the lab mid-step. A bad message gets an ``error`` reply and the session
lives on; a disconnect cancels the task and drops the lab.
"""

from __future__ import annotations

import asyncio
import json
import time
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from . import protocol
from .lab import Lab
from .protocol import LIMITS, ProtocolError

CHUNK_SECONDS = 0.012
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _static_dir() -> Path:
    return Path(str(resources.files("ravine.playground") / "static"))


def _json(message: dict) -> str:
    return json.dumps(message, allow_nan=False, separators=(",", ":"))


class Connection:
    """One tab: its lab, its training task and its rate limits."""

    def __init__(self, ws: WebSocket, runs_dir: Path):
        self.ws, self.runs_dir = ws, runs_dir
        self.lab = Lab()
        self.task: asyncio.Task | None = None
        self.tokens = float(protocol.MESSAGES_PER_SECOND)
        self.refilled = time.monotonic()
        self.last_frame = 0.0
        self.rate = 500.0  # steps per second, measured as it trains
        self.closed = False
        self.send_lock = asyncio.Lock()

    async def send(self, message: dict) -> None:
        if self.closed:
            return
        async with self.send_lock:
            await self.ws.send_text(_json(message))

    async def error(self, message: str, field=None, request=None) -> None:
        await self.send({"type": "error", "message": message, "field": field, "request": request})

    def _allow(self) -> bool:
        now = time.monotonic()
        rate = protocol.MESSAGES_PER_SECOND
        self.tokens = min(rate, self.tokens + (now - self.refilled) * rate)
        self.refilled = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    # --- the training loop --------------------------------------------------------------------
    def start(self) -> None:
        self.lab.running = True
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        lab = self.lab
        budget_start, budget_steps = time.monotonic(), 0
        try:
            while lab.running and not self.closed:
                if not (lab.can_train or lab.race is not None):
                    lab.running = False
                    break
                period = 1.0 / protocol.FRAMES_PER_SECOND
                until_frame = self.last_frame + period - time.monotonic()
                # a chunk of about CHUNK_SECONDS, ending when the next frame is due
                chunk = max(1, min(5000, int(self.rate * min(CHUNK_SECONDS, max(0.002, until_frame)))))
                t0 = time.perf_counter()
                made = lab.run(chunk)
                dt = time.perf_counter() - t0
                budget_steps += made
                if made and dt > 0:
                    self.rate = 0.7 * self.rate + 0.3 * (made / dt)
                if made == 0 and lab.race is None and not lab.can_train:
                    lab.running = False
                now = time.monotonic()
                if now - self.last_frame >= period * 0.95 or not lab.running:
                    self.last_frame = now
                    await self.send(lab.frame())
                    if not lab.running:
                        await self.send(lab.state())
                        if lab.stop_reason:
                            await self.error(lab.stop_reason, None, None)
                        break
                # the work bound: at most STEPS_PER_SECOND per session
                elapsed = time.monotonic() - budget_start
                ahead = budget_steps / protocol.STEPS_PER_SECOND - elapsed
                if elapsed > 1.0:
                    budget_start, budget_steps = time.monotonic(), 0
                await asyncio.sleep(max(0.0, ahead))
        except (WebSocketDisconnect, RuntimeError, ConnectionError):
            lab.running = False

    def pause(self) -> None:
        self.lab.running = False

    # --- messages -----------------------------------------------------------------------------
    async def handle_text(self, text) -> None:
        request = None
        try:
            if not self._allow():
                raise ProtocolError(f"too many messages: at most {protocol.MESSAGES_PER_SECOND} a second", None)
            message = protocol.parse_message(text)
            request = message.get("type") if isinstance(message.get("type"), str) else None
            kind, values = protocol.validate_message(message)
            await self.dispatch(kind, values)
        except ProtocolError as error:
            await self.error(error.message, error.field, request)
        except (ValueError, TypeError) as error:  # refused by the engine (e.g. an optimizer's own check)
            await self.error(str(error), None, request)

    async def dispatch(self, kind: str, v: dict) -> None:
        lab = self.lab
        if kind == "configure":
            self.pause()
            lab.configure(v["config"])
            await self.send(lab.state())
            await self.send(lab.points_message())
            await self.send(lab.frame())
        elif kind == "set":
            lab.set(v["values"])
            await self.send(lab.state())
        elif kind == "start":
            if not (lab.can_train or lab.race is not None):
                raise ProtocolError(lab.stop_reason or "nothing to train on: add training points first", None)
            self.start()
            await self.send(lab.state())
        elif kind == "pause":
            self.pause()
            await self.send(lab.state())
            await self.send(lab.frame())
        elif kind == "step":
            self.pause()
            if not (lab.can_train or lab.race is not None):
                raise ProtocolError(lab.stop_reason or "nothing to train on: add training points first", None)
            lab.run(1)
            await self.send(lab.frame())
        elif kind == "reset":
            self.pause()
            lab.reset(v["new_seed"])
            await self.send(lab.state())
            await self.send(lab.frame())
        elif kind == "add_point":
            lab.add_point(v["x"], v["label"], v["split"])
            await self.send(lab.points_message())
        elif kind == "remove_point":
            lab.remove_point(v["x"])
            await self.send(lab.points_message())
        elif kind == "clear":
            lab.clear()
            await self.send(lab.points_message())
        elif kind == "regenerate":
            lab.regenerate(v["seed"])
            await self.send(lab.points_message())
        elif kind == "load_csv":
            lab.load_csv(v["text"])
            await self.send(lab.points_message())
            await self.send(lab.state())
        elif kind == "eigen":
            await self.send(lab.eigen())
        elif kind == "landscape":
            await self.send(lab.landscape_view(v["kind"], v["steps"], v["span"]))
        elif kind == "race":
            lab.start_race(v["optimizers"])
            await self.send(lab.state())
            await self.send(lab.frame())
        elif kind == "warp":
            await self.send(lab.warp_view(v["layer"], v["units"]))
        elif kind == "save_run":
            from .save import save_run

            path = save_run(lab, self.runs_dir, v["name"])
            await self.send({"type": "saved", "path": str(path)})

    def close(self) -> None:
        self.closed = True
        self.lab.running = False
        if self.task is not None:
            self.task.cancel()
        self.lab = None  # everything the session held goes with it


def origin_allowed(ws: WebSocket, host: str | None) -> bool:
    """The Origin must be the page's own: ``http://`` + the Host the browser asked for, with that
    host the loopback name or the host the server was told to bind. A missing Origin is refused."""
    origin = ws.headers.get("origin")
    asked = ws.headers.get("host")
    if not origin or not asked:
        return False
    if origin.rstrip("/") != f"http://{asked}":
        return False
    hostname = urlsplit(f"http://{asked}").hostname or ""
    allowed = set(LOOPBACK)
    if host and host not in ("0.0.0.0", "::"):
        allowed.add(host.strip("[]"))
    return hostname in allowed or (host in ("0.0.0.0", "::"))


def create_app(runs_dir="runs", host: str | None = "127.0.0.1") -> Starlette:
    """The Starlette app: GET / (the page), /static (its files), /ws (one session per socket)."""
    runs_dir = Path(runs_dir)
    static = _static_dir()
    sessions: set[Connection] = set()

    async def index(request):
        page = static / "index.html"
        if not page.is_file():
            return HTMLResponse("<!doctype html><title>ravine playground</title><p>the page is missing "
                                "from this installation (ravine/playground/static/index.html)</p>", 500)
        return HTMLResponse(page.read_text(encoding="utf-8"))

    async def protocol_doc(request):
        return Response((static.parent / "PROTOCOL.md").read_text(encoding="utf-8"), media_type="text/markdown")

    async def health(request):
        return JSONResponse({"sessions": len(sessions), "limits": LIMITS})

    async def socket(ws: WebSocket):
        if not origin_allowed(ws, host):
            await ws.close(code=1008)  # before accept: the handshake is refused (HTTP 403)
            return
        await ws.accept()
        if len(sessions) >= protocol.MAX_SESSIONS:
            await ws.send_text(_json({"type": "error", "message": f"too many sessions (limit "
                                      f"{protocol.MAX_SESSIONS}); close another tab", "field": None,
                                      "request": None}))
            await ws.close(code=1013)
            return
        conn = Connection(ws, runs_dir)
        sessions.add(conn)
        try:
            lab = conn.lab
            await conn.send({"type": "hello", "limits": LIMITS, "options": protocol.OPTIONS,
                             "config": protocol.default_config()})
            await conn.send(lab.state())
            await conn.send(lab.points_message())
            await conn.send(lab.frame())
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    text = message.get("bytes") or b""
                await conn.handle_text(text)
        except (WebSocketDisconnect, RuntimeError, ConnectionError):
            pass
        finally:
            conn.close()
            sessions.discard(conn)

    routes = [Route("/", index), Route("/protocol", protocol_doc), Route("/health", health),
              WebSocketRoute("/ws", socket)]
    routes.append(Mount("/static", app=StaticFiles(directory=str(static), check_dir=False), name="static"))
    app = Starlette(routes=routes)
    app.state.sessions = sessions
    return app


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False, runs_dir="runs") -> None:
    """Run the playground with uvicorn until interrupted."""
    import uvicorn

    app = create_app(runs_dir=runs_dir, host=host)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    print(f"ravine playground on {url} (Ctrl-C to stop)")
    # The networks here are tiny: a BLAS thread pool only spins against the training loop (measured:
    # a second core busy for nothing). And frames are base64 floats that barely compress: deflate
    # cost more than building them (2.7 ms a frame), so it is off.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        uvicorn.run(app, host=host, port=port, log_level="warning",
                    ws_max_size=4 * protocol.MESSAGE_BYTES, ws_per_message_deflate=False)


__all__ = ["create_app", "serve", "origin_allowed"]
