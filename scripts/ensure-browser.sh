#!/usr/bin/env bash
# Installs headless Chromium from Debian's packages when missing, for the
# console's browser test (internal/console). Only that test needs it: `make test`
# skips it cleanly without a browser; CI runs this script first so it runs.
# Debian's chromium plays the sandbox's H.264/AAC MP4s (proprietary codecs are
# built in), which the test checks. Safe to run again.
set -euo pipefail

for b in chromium chromium-browser google-chrome; do
  command -v "$b" >/dev/null 2>&1 && exit 0
done

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "the browser test needs chromium — install it with your package manager (or run as root)" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "the browser test needs chromium — this script installs it only on Debian/Ubuntu" >&2
  exit 1
fi
echo "installing chromium (Debian package) for the browser test…" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
