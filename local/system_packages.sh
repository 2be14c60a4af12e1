#!/bin/sh
# Debian packages the offline engines and the tests need. Installs the missing ones when run as
# root (quiet and quick when nothing is missing); otherwise prints the command to run.
set -eu

PACKAGES="
tesseract-ocr-eng
tesseract-ocr-osd
fonts-dejavu-core
fonts-liberation
fonts-freefont-ttf
"

missing=""
for package in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $package" ;;
    esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" = "0" ]; then
    echo "Installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
    echo "These Debian packages are missing; install them with:" >&2
    echo "    sudo apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi
