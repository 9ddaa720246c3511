#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo use, when run as root and missing.
# Without root it only lists what is missing and how to install it.
set -euo pipefail

PACKAGES=(ffmpeg qbittorrent-nox opentracker festival festvox-us-slt-hts chromium)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing system packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install ${missing[*]}" >&2
  echo "(tests that need them are skipped with that reason; under CI=true they fail)" >&2
  exit 0
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
