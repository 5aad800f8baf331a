#!/usr/bin/env bash
# Installs what seedgate needs at run time and the tests need, from Debian's
# packages, when it is missing: ffmpeg/ffprobe (the sandbox renders with them),
# fonts for the text the sandbox draws, and curl and jq (the README's examples
# use them, and a test runs those). Safe to run again.
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v jq >/dev/null 2>&1 || need+=(jq)
[ ${#need[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "seedgate needs: ${need[*]} — install them with your package manager (run as root to let this script do it)" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "seedgate needs: ${need[*]} — this script installs them only on Debian/Ubuntu; install them yourself" >&2
  exit 1
fi
echo "installing ${need[*]} (Debian packages)…" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
