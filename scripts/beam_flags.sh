# The recommended BEAM flags for a service using analytics, measured by
# bench/service_bench.sh (see guides/performance.md, "Recommended BEAM flags"). Sourced by the
# main job and the benchmark.
cores=$(nproc)
# Dirty CPU schedulers: one per core (the default, stated so it is not lost).
ANALYTICS_BEAM_FLAGS="+SDcpu ${cores}:${cores}"
