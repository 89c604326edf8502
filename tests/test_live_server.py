"""The real server starts, answers its probes over HTTP, and stops cleanly."""

import requests


def test_health_probes(live_server):
    assert requests.get(live_server.url + "healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(live_server.url + "readyz", timeout=5).json()
    assert ready["status"] == "ready"
    assert ready["quads"] > 0
