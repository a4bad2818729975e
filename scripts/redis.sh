# Sourced by the scripts that need a throwaway redis-server: start_redis
# starts one on a free loopback port (REDIS_PORT), with its files in a
# temporary directory; stop_redis stops it and removes the directory. The
# caller traps EXIT so that it happens however the script ends.

start_redis() {
  REDIS_DIR=$(mktemp -d /tmp/analytics-redis.XXXXXX)
  for _ in $(seq 1 20); do
    REDIS_PORT=$((20000 + RANDOM % 40000))
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
      --dir "$REDIS_DIR" --daemonize no --loglevel warning >"$REDIS_DIR/log" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 1 50); do
      if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then return 0; fi
      kill -0 "$REDIS_PID" 2>/dev/null || break # port taken: try another
      sleep 0.1
    done
    kill "$REDIS_PID" 2>/dev/null || true
  done
  echo "could not start redis-server; its log:" >&2
  cat "$REDIS_DIR/log" >&2
  return 1
}

stop_redis() {
  if [ -n "${REDIS_PID:-}" ]; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
  if [ -n "${REDIS_DIR:-}" ]; then rm -rf "$REDIS_DIR"; fi
}
