"""Serve the playground: train a network in the browser on 2-D data and watch the regions, the
curves and the curvature live. Binds 127.0.0.1 unless told otherwise; each browser tab is its own
session; "save as run" writes run folders under --runs.
"""

from __future__ import annotations

HELP = "serve the browser playground (2-D data, live regions, curves and curvature)"


def add_arguments(p) -> None:
    p.add_argument("--host", default="127.0.0.1", help="the address to bind (another than 127.0.0.1 "
                   "exposes the server to the network)")
    p.add_argument("--port", type=int, default=8000, help="the port to listen on")
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.add_argument("--runs", default="runs", metavar="DIR", help="where 'save as run' writes run folders")


def run(args) -> int:
    from .._checks import check_int

    port = check_int("--port", args.port, minimum=0, maximum=65535)
    from ..playground import serve

    serve(host=args.host, port=port, open_browser=args.open, runs_dir=args.runs)
    return 0
