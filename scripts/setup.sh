#!/usr/bin/env bash
# Sourced by the other scripts: installs the Debian packages the project
# needs (only those missing, `apt-get update` at most once) and sets up the
# environment for mix. Run as root on Debian 12.
set -euo pipefail

ANALYTICS_PACKAGES=(g++ make cmake erlang-nox erlang-dev elixir libxsimd-dev catch2 libhiredis-dev libssl-dev openssl redis-server erlang-jiffy erlang-inets libjs-chart.js)

install_missing_packages() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    # Once per script, however many times it installs.
    if [ -z "${ANALYTICS_APT_UPDATED:-}" ]; then
      apt-get update -q
      ANALYTICS_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

install_missing_packages "${ANALYTICS_PACKAGES[@]}"

# Elixir wants a UTF-8 locale; mix keeps its state inside the project, and
# hex.pm is never reached.
export LANG=C.UTF-8 LC_ALL=C.UTF-8
export MIX_HOME="${MIX_HOME:-$(pwd)/_build/mix_home}"
export HEX_OFFLINE=1
