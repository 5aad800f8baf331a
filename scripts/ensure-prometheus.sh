#!/usr/bin/env bash
# Installs Prometheus (the server and promtool) from Debian's packages when
# missing, for the metrics tests (internal/metrics): promtool checks a scrape,
# and a real Prometheus server scrapes a gateway. The tests run this script
# themselves; it is safe to run again. Prometheus is only a test dependency.
set -euo pipefail

command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
    echo "the metrics tests need prometheus and promtool — install Debian's prometheus package (or run as root)" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "the metrics tests need prometheus and promtool — this script installs them only on Debian/Ubuntu" >&2
  exit 1
fi
echo "installing prometheus (Debian package) for the metrics tests…" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1
