"""Where the benchmark ran (versions, CPU, BLAS, commit) and how its results are written (atomically)."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path

import numpy as np

import ravine as rv

HERE = Path(__file__).resolve().parent


def machine_info() -> dict:
    import sklearn
    import torch
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": None,
        "ravine": rv.__version__,
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_num_threads": torch.get_num_threads(),
        "sklearn": sklearn.__version__,
        "blas": None,
        "git_commit": None,
    }
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu_model"] = next((line.split(":", 1)[1].strip() for line in f
                                      if line.startswith("model name")), None)
    except OSError:
        pass
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads, "
                        f"{os.path.basename(p.get('filepath', ''))})"
                        for p in threadpool_info() if p.get("user_api") == "blas"]
    except Exception:  # threadpoolctl is optional here
        pass
    info["ravine_path"] = str(Path(rv.__file__).resolve().parent)
    try:
        # the commit of the ravine being measured, if it is this repository's (not another copy)
        if Path(rv.__file__).resolve().is_relative_to(HERE.parent / "src"):
            commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                                    text=True, timeout=10).stdout.strip()
            dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=HERE.parent,
                                   capture_output=True, text=True, timeout=10).stdout.strip()
            info["git_commit"] = (commit + ("+dirty src" if dirty else "")) or None
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def write_json_atomic(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
