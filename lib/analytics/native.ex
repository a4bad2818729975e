defmodule Analytics.Native do
  # The only module that calls the NIF. Every function here is a stub that the
  # NIF replaces on load; argument checks and errors live in the NIF itself.
  @moduledoc false

  @on_load :load_nif

  @doc false
  # The sanitized build is a file of its own (see Mix.Tasks.Compile.AnalyticsNif
  # in mix.exs), loaded only when asked for.
  def load_nif do
    name =
      if System.get_env("ANALYTICS_SANITIZE") in ["1", "true"],
        do: ~c"analytics_nif_sanitize",
        else: ~c"analytics_nif"

    :erlang.load_nif(:filename.join(:code.priv_dir(:analytics), name), 0)
  end

  def series_from_list(_list, _dtype), do: not_loaded()
  def series_from_binary(_binary, _dtype), do: not_loaded()
  def series_to_list(_series), do: not_loaded()
  def series_to_binary(_series), do: not_loaded()
  def series_slice(_series, _offset, _length), do: not_loaded()
  def series_concat(_list), do: not_loaded()
  def series_cast(_series, _dtype), do: not_loaded()
  def series_sort(_series, _descending, _nan_first), do: not_loaded()
  def series_argsort(_series, _descending, _nan_first), do: not_loaded()
  def series_search_sorted(_series, _value, _right), do: not_loaded()
  def reduce(_input, _reducers), do: not_loaded()
  def fused_reduce(_columns, _map, _where, _reducers), do: not_loaded()
  def map(_columns, _expression), do: not_loaded()
  def filter(_columns, _predicate), do: not_loaded()
  def group_reduce(_keys, _values, _reducers), do: not_loaded()
  def bucket_reduce(_timestamps, _values, _width, _reducers), do: not_loaded()
  def downsample(_times, _values, _from, _to, _width, _method), do: not_loaded()
  def sketch_merge(_a, _b), do: not_loaded()
  def sketch_estimate(_sketch, _reducer), do: not_loaded()
  def info, do: not_loaded()
  def native_counters, do: not_loaded()
  def release_memory, do: not_loaded()

  def redis_connect(
        _host,
        _port,
        _user,
        _password,
        _database,
        _timeout,
        _max_reply_bytes,
        _sync,
        _tls,
        _socket,
        _io_threads
      ),
      do: not_loaded()

  def redis_request(_engine, _ref, _commands, _slots, _shape, _timeout), do: not_loaded()
  def redis_stop(_engine), do: not_loaded()
  def redis_own(_engine), do: not_loaded()
  def redis_pending(_engine), do: not_loaded()

  defp not_loaded, do: :erlang.nif_error(:nif_not_loaded)
end
