// NIF entry points behind Analytics.Redis (registered in module.cpp).
#pragma once

#include <erl_nif.h>

namespace analytics::nif {

// Registers the engine resource type; call from the NIF load callback.
bool open_engine_resource(ErlNifEnv* env);

// redis_connect(host, port, username, password, database, connect_timeout_ms,
// max_reply_bytes, sync_connect, tls) -> {:ok, engine} | {:error, %ConnectionError{} | %Error{}}.
// A dirty IO NIF: it resolves, connects, runs the TLS handshake and
// authenticates (unless sync_connect is false: then the engine connects in
// the background). tls: false, or {cacertfile, certfile, keyfile,
// verify_peer, peer_name, send_sni}; files that do not load raise ArgumentError.
ERL_NIF_TERM redis_connect(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// redis_request(engine, ref, commands, slots, shape, timeout_ms) -> :ok |
// {:error, %ConnectionError{reason: :closed}}. Later the caller receives
// {:analytics_redis, ref, {:ok, value} | {:error, error}}.
//   commands: [[binary]]; slots: [:tree | {layout, dtype, key, names}], one per
//   reply, where names (for error messages) is nil, {start, stop} or MGET's keys;
//   shape: :single (one reply, {:error, _} if it is an error) or :many (a list).
ERL_NIF_TERM redis_request(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// redis_stop(engine) -> :ok. Pending callers get :closed.
ERL_NIF_TERM redis_stop(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// redis_own(engine) -> :ok. The calling process becomes the engine's owner:
// when it dies, however, the engine stops.
ERL_NIF_TERM redis_own(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// redis_pending(engine) -> how many requests still wait for an answer.
ERL_NIF_TERM redis_pending(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace analytics::nif
