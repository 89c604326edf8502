#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian 12 machine (Python 3.11): Debian
# packages (headless Chromium for the browser tests, Virtuoso open source for the triple-store
# tests, nginx for the public profile's tests, python3-venv, curl for the documented examples,
# libjemalloc2 for the allocator `govkg serve` may be started with (README, Scaling up), Node.js
# and npm for the front-end test packages), then a venv in .venv holding the project with
# its test extras (PyPI), then the npm packages.
# Run as root or as a user with sudo; afterwards `. .venv/bin/activate && python -m pytest`.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(chromium chromium-driver virtuoso-opensource nginx-light python3-venv curl libjemalloc2)
command -v npm >/dev/null 2>&1 || debian_packages+=(nodejs npm)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then apt=(apt-get); else apt=(sudo apt-get); fi
  "${apt[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq "${missing[@]}"
fi

# Debian's Python is externally managed (PEP 668): the project goes into a venv of its own.
# A .venv left without pip (python3-venv was missing when it was made) is made again.
.venv/bin/python -m pip --version >/dev/null 2>&1 || python3 -m venv --clear .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
# The project's own modules compiled once (pip compiles the dependencies, not an editable
# project): where PYTHONDONTWRITEBYTECODE is set, as in many CI images, every server and command
# the tests start would compile them again, 0.1-0.3 s each.
.venv/bin/python -m compileall -q server >/dev/null

# Front-end packages for the tests (axe-core), pinned in package-lock.json.
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --silent
fi
