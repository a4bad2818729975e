#!/usr/bin/env bash
# The whole test suite: Catch2 (plain, with ASan+UBSan, and the engine's
# tests with TSan), formatting, warnings-as-errors compilation, ExUnit, the
# path-dependency fixture, the analytics service's tests, and ExUnit and the
# short soak again with a sanitized NIF.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

jobs=$(nproc)

echo "==> Catch2 kernel and series tests"
cmake -S . -B _build/cmake-tests -DCMAKE_BUILD_TYPE=Release -DANALYTICS_BUILD_NIF=OFF >/dev/null
cmake --build _build/cmake-tests --parallel "$jobs"
ctest --test-dir _build/cmake-tests --output-on-failure --no-tests=error

echo "==> Catch2 tests under AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B _build/cmake-asan -DANALYTICS_SANITIZE=ON -DANALYTICS_BUILD_NIF=OFF -DANALYTICS_BUILD_BENCH=OFF >/dev/null
cmake --build _build/cmake-asan --parallel "$jobs"
ctest --test-dir _build/cmake-asan --output-on-failure --no-tests=error

echo "==> Catch2 engine tests (threads, abandoned callers, stop races) under ThreadSanitizer"
cmake -S . -B _build/cmake-tsan -DANALYTICS_SANITIZE_THREAD=ON -DANALYTICS_BUILD_NIF=OFF -DANALYTICS_BUILD_BENCH=OFF >/dev/null
cmake --build _build/cmake-tsan --parallel "$jobs" --target analytics_tests
TSAN_OPTIONS=halt_on_error=1 _build/cmake-tsan/analytics_tests "[engine]"

echo "==> Fuzzing the RESP reply decoder (libFuzzer with ASan+UBSan): kept crashes, then 60 s of new inputs"
install_missing_packages clang-14 libclang-rt-14-dev
CC=clang-14 CXX=clang++-14 cmake -S . -B _build/cmake-fuzz -DANALYTICS_BUILD_FUZZ=ON -DANALYTICS_BUILD_NIF=OFF \
  -DANALYTICS_BUILD_TESTS=OFF -DANALYTICS_BUILD_BENCH=OFF >/dev/null
cmake --build _build/cmake-fuzz --parallel "$jobs" --target resp_reply_fuzz
_build/cmake-fuzz/resp_reply_fuzz -rss_limit_mb=2048 c_src/fuzz/regressions/resp_reply/*
# The seed corpus is copied: what the fuzzer adds stays out of the checkout.
corpus=$(mktemp -d)
cp c_src/fuzz/corpus/resp_reply/* "$corpus"
mkdir -p _build/fuzz-artifacts
_build/cmake-fuzz/resp_reply_fuzz -max_total_time=60 -max_len=4096 -rss_limit_mb=2048 \
  -artifact_prefix=_build/fuzz-artifacts/ -print_final_stats=1 "$corpus" 2>&1 | tail -12
rm -rf "$corpus"

echo "==> mix format --check-formatted"
mix format --check-formatted

echo "==> mix compile --warnings-as-errors"
MIX_ENV=test mix compile --force --warnings-as-errors
c_src/tests/check_isa_isolation.sh priv/analytics_nif.so

echo "==> analytics as a path dependency of another project"
(cd fixtures/path_dependency && mix test)

echo "==> ExUnit"
mix test

echo "==> Soak, short variant: 50,000 mixed calls with Redis restarts; nothing may be left behind"
SOAK_CALLS=50000 mix test --only soak

echo "==> the analytics service (examples/service): format, warnings, ExUnit through real HTTP"
install_missing_packages chromium # the dashboard's test drives Debian's headless Chromium
(
  cd examples/service
  mix format --check-formatted
  MIX_ENV=test mix compile --force --warnings-as-errors
  mix test
)

echo "==> ExUnit inside a BEAM with the NIF built with AddressSanitizer and UndefinedBehaviorSanitizer"
# The ASan runtime must be loaded before anything else, hence LD_PRELOAD;
# every report aborts the VM, so a clean run means zero reports. Leak
# detection is off: the VM itself does not free everything at exit. The
# sanitized NIF is priv/analytics_nif_sanitize.so, loaded only under
# ANALYTICS_SANITIZE=1, so the plain library stays as it was.
(
  export ANALYTICS_SANITIZE=1
  MIX_ENV=test mix compile
  export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  LD_PRELOAD="$(gcc -print-file-name=libasan.so)" mix test
  # The soak's mix of threads, timeouts, killed callers and restarts too.
  LD_PRELOAD="$(gcc -print-file-name=libasan.so)" SOAK_CALLS=50000 mix test --only soak
)

echo "==> after the sanitized run, a plain mix run still loads the plain library"
mix run -e '
  answer = Analytics.reduce([1, 2, 3], :sum)
  answer == 6 || raise "reduce([1, 2, 3], :sum) gave #{inspect(answer)}"
  IO.puts("mix run: Analytics.reduce([1, 2, 3], :sum) = #{answer}")
'
