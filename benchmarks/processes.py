"""Start a helper server in its own process group with its output in a log, and stop it by PID.

Shared by the benchmark runner (``benchmarks/run.py``) and the test fixtures that start
real servers (``tests/conftest.py``, ``tests/stores.py``).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path


def spawn_logged(
    command: list[str], log_path: Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """Start ``command`` in a process group of its own, its output appended to ``log_path``."""
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop_process_group(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM the process group started for ``process`` (by its PID), then SIGKILL it after ``grace`` s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        process.wait(timeout=10)
