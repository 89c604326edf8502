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
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.processes import start_listening, stop_process_group

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def time_to_ready(server_args: list[str], timeout: float = 600.0) -> float:
    """Seconds from launching the server until ``/readyz`` answers 200 from it (on a free port; a
    port lost to another process before the server bound it is retried, timed from the new launch)."""
    with tempfile.TemporaryFile() as log:
        launched, answered = [], []

        def launch(ports: tuple[int, ...]) -> subprocess.Popen:
            command = [sys.executable, "-m", "govkg", "serve", "--host", "127.0.0.1", "--port", str(ports[0])]
            launched.append(time.monotonic())
            return subprocess.Popen(
                [*command, *server_args], cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

        def ready(ports: tuple[int, ...]) -> bool:
            with urllib.request.urlopen(f"http://127.0.0.1:{ports[0]}/readyz", timeout=5) as answer:
                answered.append(time.monotonic())  # before start_listening checks who answered
                return answer.status == 200

        def output(ports: tuple[int, ...]) -> str:
            log.seek(0)
            return log.read().decode(errors="replace")

        process, _ports = start_listening(
            launch, ready, timeout=timeout, interval=0.01, log=output, name="the server", grace=30
        )
        seconds = answered[-1] - launched[-1]
        stop_process_group(process, grace=30)
        return seconds


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
