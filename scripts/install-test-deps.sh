#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine with Python 3.11:
# the project with its test extras (PyPI), headless Chromium for the browser test and
# Virtuoso open source for the triple-store integration tests, nginx for the public profile
# (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(chromium chromium-driver virtuoso-opensource nginx-light)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then apt=(apt-get); else apt=(sudo apt-get); fi
  "${apt[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq "${missing[@]}"
fi

python -m pip install -q --disable-pip-version-check -e '.[test]'

# Front-end packages for the query page, if the project declares any (installed offline-ready).
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --silent
fi
