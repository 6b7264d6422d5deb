"""The playground: train a network in the browser on 2-D data and watch it (``ravine playground``).

``create_app(runs_dir="runs")`` is the Starlette app (GET /, /static, WebSocket /ws, PROTOCOL.md);
``serve(host, port, open_browser, runs_dir)`` runs it with uvicorn, on 127.0.0.1 by default.

Example::

    from ravine.playground import serve
    serve(port=8000, open_browser=True)
"""

from __future__ import annotations


def create_app(runs_dir="runs", host: str | None = "127.0.0.1"):
    """The playground's ASGI app (see ``server.create_app``)."""
    from .server import create_app as _create_app

    return _create_app(runs_dir=runs_dir, host=host)


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False, runs_dir="runs") -> None:
    """Serve the playground with uvicorn until interrupted (see ``server.serve``)."""
    from .server import serve as _serve

    _serve(host=host, port=port, open_browser=open_browser, runs_dir=runs_dir)


__all__ = ["create_app", "serve"]
