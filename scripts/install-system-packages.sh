#!/usr/bin/env bash
# Installs the system libraries Stelltron builds against (Debian/Ubuntu), only when missing.
set -euo pipefail
packages=(libsqlite3-dev libsodium-dev libffi-dev pkg-config gcc)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}"
fi
