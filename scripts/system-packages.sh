#!/usr/bin/env bash
# The Debian packages the app itself needs (make run, make test): pango for PDF (WeasyPrint)
# and a CJK font so printed Chinese is embedded in the PDF. Installed once if missing; on a
# machine without apt-get the app still runs, and PDF download says what is missing.
set -euo pipefail
need=()
ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || need+=(libpango-1.0-0 libpangoft2-1.0-0)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
[ ${#need[@]} -gt 0 ] || exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Not installed (no apt-get here): ${need[*]} — PDF download needs them" >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "Installing: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
