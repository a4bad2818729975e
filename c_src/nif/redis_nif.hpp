// NIF entry points behind Analytics.Redis (registered in module.cpp).
#pragma once

#include <erl_nif.h>

namespace analytics::nif {

// Registers the engine resource type; call from the NIF load and upgrade
// callbacks (each counts as a library instance).
bool open_engine_resource(ErlNifEnv* env);
// Call from the NIF unload callback: when the last instance goes, the
// reactor threads are joined (answering every connection left with
// :closed), so that no thread runs this library's code once it is unmapped.
void close_engine_instance();

// redis_connect(host, port, username, password, database, connect_timeout_ms,
// max_reply_bytes, sync_connect, tls, socket_path, io_threads) -> {:ok, engine} |
// {:error, %ConnectionError{} | %Error{}}. tls: false, or {cacertfile,
// certfile, keyfile, verify_peer, peer_name, send_sni}; files that do not
// load raise ArgumentError. socket_path "" means TCP to host and port;
// io_threads sizes the node's reactor pool when it starts.
// A dirty IO NIF: with sync_connect it waits while the reactor connects, runs
// the TLS handshake and authenticates (otherwise the engine connects in the
// background).
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
