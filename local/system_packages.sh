#!/bin/sh
# Debian packages the offline engines and the tests need. Installs the missing ones when run as
# root (quiet and quick when nothing is missing); otherwise prints the command to run.
set -eu

# Tesseract's language data (vision), Apertium and its English pairs (translation), fonts for
# the images the tests and the demo render; espeak-ng (the demo speaks a sentence to the speech
# service) and pocketsphinx-testdata (LibriVox recordings: the speech tests' human speech; the
# tests unpack it with `apt-get download` + `dpkg -x` where it is not installed).
PACKAGES="
tesseract-ocr-eng
tesseract-ocr-osd
apertium
apertium-eng-spa
apertium-eng-cat
fonts-dejavu-core
fonts-liberation
fonts-freefont-ttf
espeak-ng
pocketsphinx-testdata
"
# Installed where the distribution has them: more Apertium pairs (French <-> Spanish gives
# French <-> English through Spanish). The services list exactly what is installed.
OPTIONAL="
apertium-fr-es
"

installed() {
    case "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" in
        *"install ok installed"*) return 0 ;;
        *) return 1 ;;
    esac
}

missing=""
for package in $PACKAGES; do
    installed "$package" || missing="$missing $package"
done
if [ "$(id -u)" = "0" ]; then
    for package in $OPTIONAL; do
        if ! installed "$package" && apt-cache show "$package" >/dev/null 2>&1; then
            missing="$missing $package"
        fi
    done
fi

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
