# Sourced by the service benchmarks (service_bench.sh, chart_bench.sh): the
# project's packages and wrk, the service built for prod, and a throwaway
# redis-server on a free port ($REDIS_PORT) that stops when the script exits.
# Leaves the caller in examples/service.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
source scripts/redis.sh
source scripts/beam_flags.sh
install_missing_packages wrk

cd examples/service
export MIX_ENV=prod
mix compile

trap stop_redis EXIT
start_redis
