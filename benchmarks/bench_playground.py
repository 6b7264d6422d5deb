"""The playground server under load: frame rate, training rate and memory, with real WebSocket clients.

A real server (``python -m ravine.cli playground --port N``, a subprocess, so that its RSS is the
server's own) on 127.0.0.1 and a free port, and real ``websockets`` clients that send the page's
Origin, configure 2-16-16-3 on spirals (3 classes, 300 points, batch 10, the defaults otherwise:
adam, lr 0.01, tanh), start, and read every message, as a page does. The curvature gauge is
always on: the server computes every frame with ``lab.frame()``, whose ``curvature`` defaults to
True (there is no switch).

1. one session for ``--seconds``: frames/s received at the client and steps/s (from the frames'
   ``step``), targets ≥ 20 frames/s while ≥ 2,000 steps/s;
2. four sessions at once, same setup and time: each session's frames/s (target ≥ 10) and steps/s;
3. memory: the server's RSS (psutil if installed, else ``/proc/PID/status`` VmRSS) sampled every
   ``--sample-seconds`` during ``--minutes`` of training, with 1 and with 4 sessions (a fresh
   server each): start, max, end and the slope (MB per minute, least squares over all samples and
   over the second half); target "bounded" (no steady growth: second-half slope < 1 MB/min).

Not a test: nothing is asserted on time. Prints a table, writes ``benchmarks/results/playground.json``
(atomically). Run: ``.venv/bin/python benchmarks/bench_playground.py`` (``--quick``: 3 s runs and
0.5 minute memory runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import machine_info, write_json_atomic  # noqa: E402

from websockets.asyncio.client import connect  # noqa: E402

CONFIG = {"data": {"dataset": "spirals", "classes": 3, "points": 300},
          "features": ["x1", "x2"],
          "network": {"hidden": [16, 16], "activation": "tanh"},
          "training": {"optimizer": "adam", "lr": 0.01, "batch_size": 10, "seed": 0}}
WARMUP_SECONDS = 1.0  # after `start`, before the window counted
TARGETS = {"single_frames_per_second": 20.0, "single_steps_per_second": 2000.0,
           "multi_frames_per_second": 10.0, "memory_slope_mb_per_minute": 1.0}


# --- the server ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``ravine playground`` in a subprocess on 127.0.0.1:port; RSS and CPU time read from /proc."""

    def __init__(self):
        self.runs = tempfile.TemporaryDirectory(prefix="bench-playground-runs-")
        self.port = free_port()
        self.log = open(Path(self.runs.name) / "server.log", "w+b")  # a file, not a pipe: it never fills
        self.proc = subprocess.Popen([sys.executable, "-m", "ravine.cli", "playground", "--port", str(self.port),
                                      "--runs", self.runs.name], stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                self.log.seek(0)
                message = self.log.read().decode(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"the playground server exited: {message}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the playground server did not start within 30 s")
            time.sleep(0.1)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        try:
            import psutil
            return psutil.Process(self.proc.pid).memory_info().rss / 2**20
        except ImportError:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024  # kB
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.runs.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# --- one client ----------------------------------------------------------------------------------
class Client:
    """One session: configure, start, then read every message; frames are timed at arrival."""

    def __init__(self, server: Server):
        self.server = server
        self.frames: list[tuple[float, int, int]] = []  # (arrival, step, bytes) of running frames
        self.errors: list[str] = []
        self.ws = None

    async def open(self) -> None:
        self.ws = await connect(self.server.ws_url, origin=self.server.origin, max_size=2**24, max_queue=None)
        greeting = [json.loads(await self.ws.recv())["type"] for _ in range(4)]
        if greeting != ["hello", "state", "points", "frame"]:
            raise RuntimeError(f"unexpected greeting {greeting}")
        await self.ws.send(json.dumps({"type": "configure", "config": CONFIG}))
        replies = [json.loads(await self.ws.recv()) for _ in range(3)]
        if [r["type"] for r in replies] != ["state", "points", "frame"]:
            raise RuntimeError(f"unexpected replies to configure: {[r['type'] for r in replies]}")
        self.parameters = replies[0]["parameters"]
        self.step_kind = replies[0]["step_kind"]

    async def start(self) -> None:
        await self.ws.send(json.dumps({"type": "start"}))

    async def read(self, until: float) -> None:
        """Read every message until the monotonic time ``until``."""
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            try:
                text = await asyncio.wait_for(self.ws.recv(), left)
            except asyncio.TimeoutError:
                return
            now = time.monotonic()
            message = json.loads(text)
            kind = message["type"]
            if kind == "frame" and message.get("running"):
                self.frames.append((now, message["step"], len(text)))
            elif kind == "error":
                self.errors.append(message["message"])

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    def window(self, t0: float, t1: float) -> dict:
        """Frames/s and steps/s over the frames that arrived in [t0, t1]."""
        inside = [f for f in self.frames if t0 <= f[0] <= t1]
        out = {"frames": len(inside), "frames_per_second": len(inside) / (t1 - t0), "steps_per_second": None,
               "gap_ms_median": None, "gap_ms_max": None, "frame_kb_mean": None}
        if len(inside) >= 2:
            span = inside[-1][0] - inside[0][0]
            out["steps_per_second"] = (inside[-1][1] - inside[0][1]) / span if span > 0 else None
            gaps = [1000 * (b[0] - a[0]) for a, b in zip(inside, inside[1:])]
            out["gap_ms_median"] = statistics.median(gaps)
            out["gap_ms_max"] = max(gaps)
            out["frame_kb_mean"] = statistics.fmean(f[2] for f in inside) / 1024
        if inside:
            out["last_step"] = inside[-1][1]
        return out


# --- the measurements ----------------------------------------------------------------------------
async def throughput(server: Server, sessions: int, seconds: float) -> dict:
    clients = [Client(server) for _ in range(sessions)]
    try:
        for c in clients:
            await c.open()
        for c in clients:
            await c.start()
        started = time.monotonic()
        t0 = started + WARMUP_SECONDS
        t1 = t0 + seconds
        cpu0, cpu_t0 = None, None

        async def mark_cpu():
            nonlocal cpu0, cpu_t0
            await asyncio.sleep(max(0.0, t0 - time.monotonic()))
            cpu0, cpu_t0 = server.cpu_seconds(), time.monotonic()

        await asyncio.gather(mark_cpu(), *(c.read(t1) for c in clients))
        cpu = (server.cpu_seconds() - cpu0) / (time.monotonic() - cpu_t0)
        per = [c.window(t0, t1) for c in clients]
        return {"sessions": sessions, "seconds": seconds, "per_session": per,
                "parameters": clients[0].parameters, "step_kind": clients[0].step_kind,
                "server_cpu_cores": cpu, "errors": [e for c in clients for e in c.errors]}
    finally:
        for c in clients:
            await c.close()


def slope_mb_per_minute(samples: list[tuple[float, float]]) -> float | None:
    if len(samples) < 3:
        return None
    ts = [t / 60 for t, _ in samples]
    ms = [m for _, m in samples]
    mt, mm = statistics.fmean(ts), statistics.fmean(ms)
    den = sum((t - mt) ** 2 for t in ts)
    return sum((t - mt) * (m - mm) for t, m in zip(ts, ms)) / den if den > 0 else None


async def memory(server: Server, sessions: int, minutes: float, every: float) -> dict:
    clients = [Client(server) for _ in range(sessions)]
    idle_mb = server.rss_mb()
    samples: list[tuple[float, float]] = []
    try:
        for c in clients:
            await c.open()
        for c in clients:
            await c.start()
        started = time.monotonic()
        end = started + 60 * minutes

        async def sample():
            while True:
                now = time.monotonic()
                samples.append((now - started, server.rss_mb()))
                if now >= end:
                    return
                await asyncio.sleep(min(every, max(0.0, end - now)))

        await asyncio.gather(sample(), *(c.read(end) for c in clients))
        half = [s for s in samples if s[0] >= samples[-1][0] / 2]
        per = [c.window(started + WARMUP_SECONDS, end) for c in clients]
        rss = [m for _, m in samples]
        step = min(30.0, 60 * minutes / 4)  # the rates over time, per window: does anything degrade?
        timeline, a = [], started + WARMUP_SECONDS
        while a + step <= end + 1e-6:
            w = [c.window(a, a + step) for c in clients]
            timeline.append({"t": round(a - started, 1),
                             "frames_per_second": statistics.fmean(x["frames_per_second"] for x in w),
                             "steps_per_second": statistics.fmean(x["steps_per_second"] or 0 for x in w)})
            a += step
        return {"sessions": sessions, "minutes": minutes, "sample_seconds": every, "idle_mb": idle_mb,
                "start_mb": rss[0], "max_mb": max(rss), "end_mb": rss[-1],
                "slope_mb_per_minute": slope_mb_per_minute(samples),
                "slope_second_half_mb_per_minute": slope_mb_per_minute(half),
                "samples": [[round(t, 2), round(m, 2)] for t, m in samples],
                "frames_per_second": [p["frames_per_second"] for p in per],
                "steps_per_second": [p["steps_per_second"] for p in per],
                "steps": [p.get("last_step") for p in per], "timeline": timeline,
                "errors": [e for c in clients for e in c.errors]}
    finally:
        for c in clients:
            await c.close()


# --- the report ----------------------------------------------------------------------------------
def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def fmt(x, spec=".1f") -> str:
    return "—" if x is None else format(x, spec)


def print_tables(result: dict) -> None:
    t = TARGETS
    print()
    print("throughput: 2-16-16-3 on spirals (3 classes, 300 points), batch 10, adam, curvature gauge on")
    print(f"{'run':<14}{'session':>8}{'frames/s':>10}{'steps/s':>10}{'gap ms med/max':>17}{'frame kB':>10}"
          f"{'server CPU':>12}  targets")
    for key, label, target_fps in (("single", "1 session", t["single_frames_per_second"]),
                                   ("multi", "4 sessions", t["multi_frames_per_second"])):
        run = result[key]
        for i, p in enumerate(run["per_session"]):
            ok_f = p["frames_per_second"] >= target_fps
            marks = f"{mark(ok_f)} ≥{target_fps:g} frames/s"
            if key == "single":
                ok_s = (p["steps_per_second"] or 0) >= t["single_steps_per_second"]
                marks += f", {mark(ok_s)} ≥{t['single_steps_per_second']:,.0f} steps/s"
            cpu = f"{run['server_cpu_cores']:.2f} cores" if i == 0 else ""
            print(f"{label if i == 0 else '':<14}{i + 1:>8}{p['frames_per_second']:>10.1f}"
                  f"{fmt(p['steps_per_second'], ',.0f'):>10}"
                  f"{fmt(p['gap_ms_median'], '.0f') + '/' + fmt(p['gap_ms_max'], '.0f'):>17}"
                  f"{fmt(p['frame_kb_mean']):>10}{cpu:>12}  {marks}")
        if key == "multi":
            total = sum(p["steps_per_second"] or 0 for p in run["per_session"])
            print(f"{'':<14}{'total':>8}{sum(p['frames_per_second'] for p in run['per_session']):>10.1f}"
                  f"{total:>10,.0f}")
    print()
    print("server memory (RSS, MB), fresh server per row")
    print(f"{'sessions':<10}{'minutes':>8}{'idle':>8}{'start':>8}{'max':>8}{'end':>8}{'MB/min':>8}"
          f"{'2nd half':>10}{'frames/s':>10}{'steps/s':>10}"
          f"  bounded (2nd-half slope < {t['memory_slope_mb_per_minute']:g})")
    for run in result["memory"]:
        fps = statistics.fmean(run["frames_per_second"])
        sps = statistics.fmean(s or 0 for s in run["steps_per_second"])
        late = run["slope_second_half_mb_per_minute"]
        ok = late is not None and late < t["memory_slope_mb_per_minute"]
        print(f"{run['sessions']:<10}{run['minutes']:>8.1f}{run['idle_mb']:>8.1f}{run['start_mb']:>8.1f}"
              f"{run['max_mb']:>8.1f}{run['end_mb']:>8.1f}{fmt(run['slope_mb_per_minute'], '+.2f'):>8}"
              f"{fmt(late, '+.2f'):>10}{fps:>10.1f}{sps:>10,.0f}  {mark(ok)}")
    print("(frames/s and steps/s of the memory rows: mean per session over the whole run)")
    for run in result["memory"]:
        line = ", ".join(f"{w['frames_per_second']:.0f}/{w['steps_per_second']:,.0f}" for w in run["timeline"])
        print(f"  {run['sessions']} session(s), frames/s / steps/s per session over time: {line}")
    errors = [e for k in ("single", "multi") for e in result[k]["errors"]] + \
        [e for run in result["memory"] for e in run["errors"]]
    if errors:
        print(f"server errors received: {len(errors)}, e.g. {errors[0]!r}")
    print(f"load average at start {result['loadavg_start']}, at end {result['loadavg_end']}")


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version
    out = {}
    for name in ("websockets", "uvicorn", "starlette", "psutil"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="length of the 1- and 4-session throughput runs")
    p.add_argument("--minutes", type=float, default=None, help="length of each memory run (default 5)")
    p.add_argument("--sample-seconds", type=float, default=None, help="RSS sampling period (default 5; 2 with --quick)")
    p.add_argument("--quick", action="store_true", help="3 s throughput runs, 0.5 minute memory runs")
    p.add_argument("--output", type=Path, default=HERE / "results" / "playground.json")
    args = p.parse_args(argv)
    seconds = 3.0 if args.quick and args.seconds == 10.0 else args.seconds
    minutes = args.minutes if args.minutes is not None else (0.5 if args.quick else 5.0)
    every = args.sample_seconds if args.sample_seconds is not None else (2.0 if args.quick else 5.0)

    result = {"config": CONFIG, "targets": TARGETS, "seconds": seconds, "minutes": minutes,
              "warmup_seconds": WARMUP_SECONDS, "loadavg_start": loadavg()}
    print(f"load average {result['loadavg_start']}; throughput runs {seconds:g} s, memory runs {minutes:g} min")
    with Server() as server:
        result["single"] = asyncio.run(throughput(server, 1, seconds))
    with Server() as server:
        result["multi"] = asyncio.run(throughput(server, 4, seconds))
    result["memory"] = []
    for sessions in (1, 4):
        print(f"memory run: {sessions} session(s), {minutes:g} min ...", flush=True)
        with Server() as server:
            result["memory"].append(asyncio.run(memory(server, sessions, minutes, every)))
    result["loadavg_end"] = loadavg()
    result["machine"] = {**machine_info(), **versions(),
                         "rss_source": "psutil" if versions()["psutil"] else "/proc/PID/status VmRSS"}
    print_tables(result)
    write_json_atomic(args.output, result)
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
