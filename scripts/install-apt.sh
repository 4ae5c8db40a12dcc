#!/usr/bin/env bash
# Installs Debian packages for commands the project needs, idempotently:
#   scripts/install-apt.sh COMMAND PACKAGE [COMMAND PACKAGE ...]
# A package is installed only when its command is missing; the package lists
# are refreshed once, and only when something must be installed.
set -euo pipefail
[ $(( $# % 2 )) -eq 0 ] || { echo "usage: $0 COMMAND PACKAGE [COMMAND PACKAGE ...]" >&2; exit 2; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
while [ $# -gt 0 ]; do
  command -v "$1" >/dev/null 2>&1 || missing+=("$2")
  shift 2
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "apt: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
