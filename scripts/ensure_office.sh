#!/usr/bin/env bash
# Install LibreOffice Calc (headless) for the workbook tests when it is absent.
# Debian package, root only; never fatal: without it those tests skip with a reason.
if command -v soffice >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "LibreOffice absent and not installable here: the 'office' tests will be skipped" >&2
  exit 0
fi
echo "installing libreoffice-calc-nogui for the workbook tests…" >&2
{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    libreoffice-calc-nogui poppler-utils; } >/dev/null 2>&1 \
  || echo "could not install LibreOffice: the 'office' tests will be skipped" >&2
exit 0
