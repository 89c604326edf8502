"""Start a helper server in its own process group with its output in a log, on free loopback ports
it is seen to hold itself, and stop it by PID.

Shared by the benchmark runner (``benchmarks/run.py``), the start-up benchmark
(``benchmarks/startup.py``) and the test fixtures that start real servers (``tests/conftest.py``,
``tests/stores.py``).
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.loadgen import process_tree


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


def wait_until_ready(
    process: subprocess.Popen, is_ready: Callable[[], bool], timeout: float, interval: float = 0.1
) -> bool:
    """Poll ``is_ready`` (a request that answers ``True`` once the service serves) every ``interval`` s:
    ``True`` as soon as it does, ``False`` if ``process`` exits first or ``timeout`` s pass.

    A refused, reset or timed-out connection (any ``OSError``, which ``requests``' and ``urllib``'s
    errors are) counts as not ready yet.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if is_ready():
                return True
        except OSError:
            pass
        time.sleep(interval)
    return False


class PortTaken(RuntimeError):
    """Every port found free for a server was taken by another process before the server bound it."""


def free_ports(count: int) -> tuple[int, ...]:
    """``count`` distinct TCP ports on 127.0.0.1 that nothing listens on right now."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return tuple(sock.getsockname()[1] for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()


def start_listening(
    launch: Callable[[tuple[int, ...]], subprocess.Popen],
    is_ready: Callable[[tuple[int, ...]], bool],
    *,
    ports: int = 1,
    timeout: float = 60,
    interval: float = 0.1,
    log: Callable[[tuple[int, ...]], str] = lambda ports: "",
    name: str = "the server",
    grace: float = 15,
    attempts: int = 4,
) -> tuple[subprocess.Popen, tuple[int, ...]]:
    """Start a server on ``ports`` free loopback ports (``launch(ports)``, in a process group of its
    own) and wait until ``is_ready(ports)``; the process and its ports.

    The one way the tests and benchmarks start a server (the tests run in two pytest-xdist workers).
    A port found free can be taken before the server binds it (by the other worker's server, say):
    the server then exits while another process listens on one of its ports (or says "Address
    already in use" in ``log(ports)``), or, worse, ``is_ready`` is answered by that other server.
    So the server counts as ready only when its own process tree holds the
    listening socket of every one of its ports (:func:`listens`); if it lost a port it is stopped
    and started again on others, up to ``attempts`` times. Any other failure raises at once with
    ``log(ports)``.
    """
    for _attempt in range(attempts):
        chosen = free_ports(ports)
        process = launch(chosen)
        if wait_until_ready(process, functools.partial(is_ready, chosen), timeout, interval):
            if all(listens(process.pid, port) for port in chosen):
                return process, chosen
            stop_process_group(process, grace)  # what answered is another server, on a port it took
            continue
        if process.poll() is not None:
            # It exited: another process listens on one of its ports, or held one just then (the
            # other worker's free_ports() binds a port for a moment), which its log names.
            if any(listening_pids(port) for port in chosen) or "Address already in use" in log(chosen):
                continue
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log(chosen)}")
        stop_process_group(process, grace)
        raise RuntimeError(f"{name} did not become ready in {timeout} s:\n{log(chosen)}")
    raise PortTaken(f"{name} lost the race for its port(s) {attempts} times:\n{log(chosen)}")


def listening_pids(port: int) -> set[int]:
    """The PIDs of the processes that hold the socket listening on TCP ``port`` of 127.0.0.1 (the
    kernel's table, /proc/net/tcp, and the processes' descriptors)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
            inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return set()
    holders = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            descriptors = list((entry / "fd").iterdir())
        except OSError:
            continue
        for descriptor in descriptors:
            try:
                if os.readlink(descriptor) in inodes:
                    holders.add(int(entry.name))
                    break
            except OSError:
                continue
    return holders


def listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` or one of its descendants holds the socket listening on TCP ``port``
    of 127.0.0.1."""
    return bool(listening_pids(port) & set(process_tree(pid)))
