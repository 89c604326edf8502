"""Start-up time: from launching ``govkg serve`` until ``GET /readyz`` answers 200.

Each run starts a fresh ``python -m govkg serve`` on a free loopback port with the given
arguments, polls ``/readyz`` every 10 ms, records the wall time, and stops the server by
its PID. Examples::

    python -m benchmarks.startup                                   # the article graph alone
    python -m benchmarks.startup --data bench-100k.nt              # with a 100k-triple file
    govkg load bench-1M.nt --store var/store
    python -m benchmarks.startup --store var/store                 # a persistent store

Prints one line per run and the range; the server's own arguments follow the options
(``--runs N`` first).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def time_to_ready(server_args: list[str], timeout: float = 600.0) -> float:
    """Seconds from launching the server until ``/readyz`` answers 200."""
    port = _free_port()
    command = [sys.executable, "-m", "govkg", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        started = time.monotonic()
        process = subprocess.Popen(
            [*command, *server_args], cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            while time.monotonic() - started < timeout:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"the server exited ({process.returncode}):\n{log.read().decode()}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
                        if answer.status == 200:
                            return time.monotonic() - started
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                time.sleep(0.01)
            raise RuntimeError(f"not ready in {timeout} s")
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="start-ups to time (default: 5)")
    options, server_args = parser.parse_known_args()
    times = []
    for run in range(1, options.runs + 1):
        seconds = time_to_ready(server_args)
        times.append(seconds)
        print(f"run {run}: {seconds:.2f} s to /readyz", flush=True)
    print(f"{' '.join(server_args) or '(article graph alone)'}: {min(times):.2f}–{max(times):.2f} s")


if __name__ == "__main__":
    main()
