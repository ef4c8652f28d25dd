#!/usr/bin/env bash
# Install headless Chromium for the report.html browser test when it is absent.
# Debian package, root only; never fatal: without it that test skips with a reason.
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Chromium absent and not installable here: the 'browser' test will be skipped" >&2
  exit 0
fi
echo "installing chromium for the report.html browser test…" >&2
{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core; } >/dev/null 2>&1 \
  || echo "could not install Chromium: the 'browser' test will be skipped" >&2
exit 0
