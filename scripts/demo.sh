#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the demo
# (examples/demo.exs, which starts and stops its own redis-server on a free
# loopback port) under the recommended BEAM flags.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

export MIX_ENV=prod
mix compile
# One dirty CPU scheduler per core (the default, stated so it is not lost).
cores=$(nproc)
exec elixir --erl "+SDcpu ${cores}:${cores}" -S mix run examples/demo.exs
