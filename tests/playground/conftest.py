"""A real playground server (uvicorn on 127.0.0.1, a free port, in a background thread)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class RunningServer:
    host: str
    port: int
    runs_dir: Path
    app: object

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def playground_server(tmp_path_factory):
    """Start the playground once for the session; stop it at the end."""
    import uvicorn

    from ravine.playground import create_app
    from ravine.playground.protocol import MESSAGE_BYTES

    runs_dir = tmp_path_factory.mktemp("playground-runs")
    app = create_app(runs_dir=runs_dir)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            ws_max_size=4 * MESSAGE_BYTES, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the playground server did not start")
        time.sleep(0.02)
    yield RunningServer("127.0.0.1", port, runs_dir, app)
    server.should_exit = True
    thread.join(timeout=10)
