#!/usr/bin/env bash
# Installs the Debian packages csn builds and tests with, when they are missing.
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -euo pipefail
packages=(pkg-config libopenblas-dev libfreetype-dev zlib1g-dev libjpeg62-turbo-dev libpng-dev libncursesw5-dev tmux fonts-dejavu-core fonts-dejavu-extra "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
command="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "csn needs these Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get update && sudo $command" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$command >/dev/null
