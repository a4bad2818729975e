#!/usr/bin/env bash
# bench/redis_bench.exs with what it compares against installed: eredis
# (erlang-redis-client) and redis-benchmark (redis-tools); run under the
# recommended BEAM flags (scripts/beam_flags.sh), and the socket-limit
# reference (bench/redis_socket_bench.cpp, built here); then
# bench/redis_tls_bench.exs (TLS against plaintext, 15 s). About 4.5 minutes.
#
#   bash bench/redis_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/beam_flags.sh
install_missing_packages erlang-redis-client redis-tools

cmake -S . -B _build/cmake-bench -DCMAKE_BUILD_TYPE=Release -DANALYTICS_BUILD_NIF=OFF -DANALYTICS_BUILD_TESTS=OFF \
  -DANALYTICS_BUILD_BENCH=ON >/dev/null
cmake --build _build/cmake-bench --parallel "$(nproc)" --target redis_socket_bench >/dev/null
export REDIS_SOCKET_BENCH="$PWD/_build/cmake-bench/redis_socket_bench"

export MIX_ENV=prod
mix compile
elixir --erl "$ANALYTICS_BEAM_FLAGS" -S mix run bench/redis_bench.exs
elixir --erl "$ANALYTICS_BEAM_FLAGS" -S mix run bench/redis_tls_bench.exs
