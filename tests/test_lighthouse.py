"""Lighthouse on the real server: the home page, the query page and a resource page, as a phone
and as a desktop, each scoring at least 90 in Performance, Accessibility, Best Practices and SEO.

npm ``lighthouse`` (``npm ci``, which scripts/install-test-deps.sh runs) drives the installed
Chromium through scripts/lighthouse.mjs: the six audits in one browser, with Lighthouse's
default simulated throttling (a mid-range phone on slow 4G for "mobile"), so the scores do not
depend on this machine's network. Performance still depends on its CPU: the report names
Lighthouse's ``benchmarkIndex`` of each run, which says how fast the machine was then.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.conftest import PROJECT_ROOT, LiveServer
from tests.test_browser import CHROMIUM

PAGES = ("", "query", "id/place/zhaoqing")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
MINIMUM_SCORE = 90
LIGHTHOUSE = PROJECT_ROOT / "node_modules" / "lighthouse"


# Not solo: Performance is scored from the CPU time the pages took, but with another test module
# running beside it (test_reliability_fuzz, test_security, test_validate) the six scores were
# still 98-100 (100 on a quiet machine), far from the bound.
def test_lighthouse_scores_every_category_at_least_90_on_phone_and_desktop(
    live_server: LiveServer, tmp_path: Path
) -> None:
    assert LIGHTHOUSE.is_dir(), "npm lighthouse is missing: run `npm ci` (scripts/install-test-deps.sh)"
    node = shutil.which("node")
    assert node is not None, "node is missing (scripts/install-test-deps.sh installs it)"
    urls = [live_server.url + path for path in PAGES]
    completed = subprocess.run(
        [node, "scripts/lighthouse.mjs", "--chrome", CHROMIUM, "--out", str(tmp_path), *urls],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    scores = json.loads(completed.stdout)
    assert len(scores) == 2 * len(PAGES)
    low = {
        run: {category: entry[category] for category in CATEGORIES if entry[category] < MINIMUM_SCORE}
        for run, entry in scores.items()
    }
    low = {run: categories for run, categories in low.items() if categories}
    assert not low, f"scores below {MINIMUM_SCORE}: {low}\nall runs: {json.dumps(scores, indent=1)}"
