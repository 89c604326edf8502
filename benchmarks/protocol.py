"""The measuring protocol of ``benchmarks/run.py``: a quiet machine, rotated peers, ratios with spread.

A run starts only on a quiet machine (1-minute load average at most ``MAX_LOAD``, no other
process above ``MAX_PROCESS_SHARE`` of a core over a ``SAMPLE_SECONDS`` sample, read from
``/proc``), or is marked INVALID in everything it writes. Each round runs the peers in a rotated
order and records the load average at its start and end and any other busy process during it;
ratios ours ÷ peer are taken within a round and reported as the median and the min–max over the
rounds. The table keeps the layout of issue 21's (ours / naive / Oxigraph / Virtuoso, rows by scale).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

MAX_LOAD = 0.5
MAX_PROCESS_SHARE = 0.20  # of one core
SAMPLE_SECONDS = 2.0
MIN_ROUNDS = 3
OURS = "govkg"
# The column names; a system not listed here is shown under its own name.
LABELS = {
    "govkg": "ours",
    "naive-flask": "naive Flask + pyoxigraph",
    "oxigraph-mem": "Oxigraph server (memory)",
    "virtuoso": "Virtuoso 7",
}
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# ---------------------------------------------------------------------------------------------------
# A quiet machine.


def load_average() -> tuple[float, float, float]:
    """The 1-, 5- and 15-minute load averages (``/proc/loadavg``), rounded to 2 decimals."""
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


@dataclass(frozen=True)
class BusyProcess:
    """A process outside the run that used ``share`` of one core over a sample."""

    pid: int
    command: str
    share: float

    def __str__(self) -> str:
        return f"pid {self.pid} {self.command} at {self.share:.0%} of a core"


def cpu_ticks(proc: Path = Path("/proc")) -> dict[int, tuple[str, int]]:
    """Every process's name and CPU so far (user + system clock ticks, all its threads)."""
    ticks = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # The name is in parentheses and may hold spaces: utime and stime are the 12th and
        # 13th fields after the last ")".
        fields = stat[stat.rfind(")") + 2 :].split()
        ticks[int(entry.name)] = (
            stat[stat.find("(") + 1 : stat.rfind(")")],
            int(fields[11]) + int(fields[12]),
        )
    return ticks


def _command_line(pid: int, name: str) -> str:
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return name
    # One line whatever the arguments hold (a `python -c` program spans several).
    text = " ".join(" ".join(word.decode("utf-8", "replace").split()) for word in words if word)
    return (text[:80] + "…" if len(text) > 80 else text) or name


def busy_between(
    before: dict[int, tuple[str, int]],
    after: dict[int, tuple[str, int]],
    seconds: float,
    min_share: float,
    exclude: Iterable[int] = (),
) -> list[BusyProcess]:
    """Processes in both snapshots, not in ``exclude``, that used more than ``min_share`` of a core.

    >>> busy_between({7: ("x", 0), 8: ("y", 0)}, {7: ("x", 150), 8: ("y", 10)}, 2.0, 0.2, exclude=[])
    [BusyProcess(pid=7, command='x', share=0.75)]
    """
    excluded = set(exclude)
    busy = []
    for pid, (name, ticks) in after.items():
        if pid in excluded or before.get(pid, ("", -1))[0] != name or seconds <= 0:
            continue
        share = (ticks - before[pid][1]) / _CLOCK_TICKS / seconds
        if share > min_share:
            busy.append(BusyProcess(pid, name, round(share, 2)))
    return sorted(busy, key=lambda process: -process.share)


def busy_processes(seconds: float, min_share: float, exclude: Iterable[int] = ()) -> list[BusyProcess]:
    """Sample every process's CPU for ``seconds``; those above ``min_share`` of a core, busiest first."""
    before = cpu_ticks()
    started = time.monotonic()
    time.sleep(seconds)
    after = cpu_ticks()
    return with_command_lines(busy_between(before, after, time.monotonic() - started, min_share, exclude))


def with_command_lines(busy: list[BusyProcess]) -> list[BusyProcess]:
    """The same processes named by their command line (its first 80 characters) where still readable."""
    return [
        BusyProcess(process.pid, _command_line(process.pid, process.command), process.share)
        for process in busy
    ]


def noisy_conditions(max_load: float, max_share: float, exclude: Iterable[int] = ()) -> list[str]:
    """Why the machine is not quiet enough to measure on (empty when it is)."""
    reasons = []
    one = load_average()[0]
    if one > max_load:
        reasons.append(f"1-minute load average {one} > {max_load}")
    busy = busy_processes(SAMPLE_SECONDS, max_share, exclude)
    if busy:
        shown = ", ".join(str(process) for process in busy[:3])
        more = f" and {len(busy) - 3} more" if len(busy) > 3 else ""
        reasons.append(f"busy: {shown}{more}")
    return reasons


# ---------------------------------------------------------------------------------------------------
# Rounds and their arithmetic.


def rotated(names: Sequence[str], turn: int) -> list[str]:
    """The peer order of ``turn``: the list rotated left by ``turn``, so each peer leads in turn.

    >>> rotated(["a", "b", "c"], 0), rotated(["a", "b", "c"], 1), rotated(["a", "b", "c"], 5)
    (['a', 'b', 'c'], ['b', 'c', 'a'], ['c', 'a', 'b'])
    """
    if not names:
        return []
    shift = turn % len(names)
    return [*names[shift:], *names[:shift]]


@dataclass(frozen=True)
class Spread:
    """The median of some rounds' values and their range."""

    median: float
    low: float
    high: float

    def format(self, digits: int = 2, unit: str = "") -> str:
        """``0.52× (0.49–0.55)``; one value alone when the range is empty.

        >>> Spread(0.52, 0.49, 0.55).format(unit="×")
        '0.52× (0.49–0.55)'
        >>> Spread(2.0, 2.0, 2.0).format(unit="×")
        '2.00×'
        """
        text = f"{self.median:,.{digits}f}{unit}"
        if f"{self.low:.{digits}f}" != f"{self.high:.{digits}f}":
            text += f" ({self.low:,.{digits}f}–{self.high:,.{digits}f})"
        return text


def spread(values: Iterable[float | None]) -> Spread | None:
    """Median, min and max of the values present (``None`` if there are none).

    >>> spread([3.0, None, 1.0, 2.0])
    Spread(median=2.0, low=1.0, high=3.0)
    """
    present = [value for value in values if value is not None]
    if not present:
        return None
    return Spread(statistics.median(present), min(present), max(present))


def ratio_spread(ours: Sequence[float | None], theirs: Sequence[float | None]) -> Spread | None:
    """Ours ÷ theirs within each round (the same index), then median and range over the rounds.

    A round where either figure is missing, or theirs is 0, gives no ratio.

    >>> ratio_spread([100.0, 120.0, 90.0], [200.0, 200.0, 100.0])
    Spread(median=0.6, low=0.5, high=0.9)
    """
    return spread(
        mine / other
        for mine, other in zip(ours, theirs, strict=True)
        if mine is not None and other  # neither missing nor zero
    )


# ---------------------------------------------------------------------------------------------------
# Conditions and the table.


def _first_line(command: list[str], pick: str = "") -> str | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (completed.stdout + completed.stderr).splitlines()
    return next((line.strip() for line in lines if pick in line), None)


def conditions(project_root: Path, systems: Sequence[str]) -> dict:
    """What a figure depends on besides the code: CPU, versions (of ``systems``' servers), git commit."""
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    versions = {}
    packages = ["govkg", "pyoxigraph", "flask", "gunicorn"] + (
        ["granian"] if "govkg-granian" in systems else []
    )
    for package in packages:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    if any(name.startswith("oxigraph") for name in systems):
        line = _first_line(["oxigraph", "--version"])  # "oxigraph 0.5.13"
        versions["oxigraph server"] = line.split()[-1] if line else None
    if "virtuoso" in systems:
        line = _first_line(["virtuoso-t", "-?"], "Version")  # "Version 7.2.5.3229-pthreads as of …"
        versions["virtuoso"] = line.split()[1] if line else None
    commit = _first_line(["git", "-C", str(project_root), "rev-parse", "--short=12", "HEAD"])
    changed = _first_line(["git", "-C", str(project_root), "status", "--porcelain", "--untracked-files=no"])
    return {
        "cpu_model": cpu_model,
        "cpus": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "versions": {name: version for name, version in versions.items() if version},
        "git_commit": (commit or "unknown") + (" with uncommitted changes" if changed else ""),
    }


def render_protocol(run: dict) -> str:
    """The Markdown of a protocol run: the issue's table, the ratios with spread, the conditions.

    ``run`` holds ``sizes`` (one entry per scale: ``label``, ``systems``, ``rounds`` with each
    round's ``results`` by system) and the run's ``command``, ``started``, ``conditions``,
    ``valid`` and ``invalid_reasons``. Every table of an invalid run says INVALID in its corner.
    """
    present = list(dict.fromkeys(name for size in run["sizes"] for name in size["systems"]))
    names = [name for name in LABELS if name in present] + [name for name in present if name not in LABELS]
    lines = [f"### Protocol run, {run['started']}" + ("" if run["valid"] else " — INVALID"), ""]
    if not run["valid"]:
        lines += ["**INVALID**: " + "; ".join(run["invalid_reasons"]) + ".", ""]
    lines += [
        "| | " + " | ".join(LABELS.get(name, name) for name in names) + " |",
        "|---|" + "---|" * len(names),
    ]

    def figures(size: dict, name: str, key: str) -> list[float | None]:
        return [round_["results"].get(name, {}).get(key) for round_ in size["rounds"]]

    def median_cell(size: dict, name: str, key: str, digits: int) -> str:
        found = spread(figures(size, name, key))
        return "–" if found is None else f"{found.median:,.{digits}f}"

    rows = (
        ("q/s", ("throughput_qps",), 0),
        ("server CPU ms per query", ("cpu_ms_per_query",), 2),
        ("p50 / p99 ms", ("p50_ms", "p99_ms"), 1),
        ("PSS MiB", ("pss_mib",), 0),
    )
    for size in run["sizes"]:
        for label, keys, digits in rows:
            cells = [" / ".join(median_cell(size, name, key, digits) for key in keys) for name in names]
            lines.append(f"| {size['label']} {label} | " + " | ".join(cells) + " |")
    lines.append("")
    rounds = max((len(size["rounds"]) for size in run["sizes"]), default=0)
    peers = [name for name in names if name != OURS]
    if OURS in names and peers:
        lines += [f"Ours ÷ peer: median (min–max) over {rounds} rounds, each ratio within one round.", ""]
        lines += [
            "| | " + " | ".join(f"÷ {LABELS.get(name, name)}" for name in peers) + " |",
            "|---|" + "---|" * len(peers),
        ]
        for size in run["sizes"]:
            for label, key in (
                ("q/s", "throughput_qps"),
                ("server CPU ms per query", "cpu_ms_per_query"),
                ("p50", "p50_ms"),
                ("p99", "p99_ms"),
                ("PSS", "pss_mib"),
            ):
                cells = []
                for peer in peers:
                    found = ratio_spread(figures(size, OURS, key), figures(size, peer, key))
                    cells.append("–" if found is None else found.format(unit="×"))
                lines.append(f"| {size['label']} {label} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [f"Command: `{run['command']}`", ""]
    facts = run["conditions"]
    versions = ", ".join(f"{name} {version}" for name, version in facts["versions"].items())
    lines += [
        f"Conditions: {facts['cpu_model']}, {facts['cpus']} CPUs, {facts['system']}, Python "
        f"{facts['python']}; {versions}; git commit {facts['git_commit']}. Load average (1/5/15 min) "
        f"before the run {'/'.join(map(str, run['load_before']))}; per round below (ours included: "
        "the peers' own load).",
        "",
        "| scale | round | peer order | load at start | load at end | other busy processes |",
        "|---|---|---|---|---|---|",
    ]
    for size in run["sizes"]:
        for round_ in size["rounds"]:
            lines.append(
                f"| {size['label']} | {round_['round'] + 1} | {', '.join(round_['order'])} | "
                f"{'/'.join(map(str, round_['load_start']))} | {'/'.join(map(str, round_['load_end']))} | "
                f"{'; '.join(round_['busy']) or 'none'} |"
            )
    differences = [
        f"- {size['label']}, result counts differ: {item}"
        for size in run["sizes"]
        for item in size.get("count_mismatches", [])
    ]
    lines += ["", *differences] if differences else []
    markdown = "\n".join(lines) + "\n"
    return markdown if run["valid"] else mark_invalid(markdown)


def mark_invalid(markdown: str) -> str:
    """Put INVALID in the first cell of every table's header row (the row above a ``|---`` rule), once.

    >>> print(mark_invalid("| | a |\\n|---|---|\\n| x | 1 |"))
    | **INVALID** | a |
    |---|---|
    | x | 1 |
    """
    lines = markdown.split("\n")
    for index in range(1, len(lines)):
        header = lines[index - 1]
        if (
            lines[index].startswith("|---")
            and header.startswith("|")
            and not header.startswith("| **INVALID**")
        ):
            lines[index - 1] = "| **INVALID**" + header[1:]
    return "\n".join(lines)
