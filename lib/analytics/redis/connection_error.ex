defmodule Analytics.Redis.ConnectionError do
  @moduledoc """
  A failure of the connection rather than of a command.

  Reasons:

    * `:timeout` - no reply within the call's timeout (a late reply is dropped)
    * `:disconnected` - the server went away with the request in flight, or
      the connection was reset under it because an earlier reply outlived its
      caller (see "Limits" in `Analytics.Redis`)
    * `:closed` - sent while the connection was (re)connecting, or after `stop/1`;
      while (re)connecting, `:address` names where it tries to connect and
      `:cause` why its latest attempt failed (`nil` before one has failed)
    * `:protocol_error` - a malformed reply; the connection reconnects
    * `:reply_too_large` - a reply over `max_reply_bytes`, buffered or decoded;
      the connection reconnects
    * a socket error such as `:econnrefused`, or a message string (when connecting)

  `:address` is `"host:port"` when connecting failed (`start_link/1` with
  `sync_connect: true`) or, with reason `:closed`, for a call made while the
  connection is not connected; `nil` otherwise. `:cause` is the latest
  connect attempt's socket reason (such as `:econnrefused` or `:timeout`, or
  a message string such as "cannot resolve ...") for such a call, `nil`
  otherwise. Neither ever holds a password. (When the server refused the
  credentials, such a call gets the server's `%Analytics.Redis.Error{}`
  instead, such as `WRONGPASS ...`.)

      iex> Exception.message(%Analytics.Redis.ConnectionError{reason: :econnrefused, address: "127.0.0.1:6379"})
      "cannot connect to 127.0.0.1:6379: econnrefused"
      iex> Exception.message(%Analytics.Redis.ConnectionError{reason: :closed, address: "127.0.0.1:6379", cause: :econnrefused})
      "not connected to 127.0.0.1:6379 (last attempt: econnrefused)"
      iex> Exception.message(%Analytics.Redis.ConnectionError{reason: :closed, address: "127.0.0.1:6379"})
      "not connected to 127.0.0.1:6379 (reconnecting)"
      iex> Exception.message(%Analytics.Redis.ConnectionError{reason: :closed})
      "connection error: :closed"
  """
  defexception [:reason, address: nil, cause: nil]

  @type t :: %__MODULE__{
          reason: atom() | String.t(),
          address: String.t() | nil,
          cause: atom() | String.t() | nil
        }

  @impl true
  def message(%__MODULE__{reason: :closed, address: address, cause: nil}) when is_binary(address),
    do: "not connected to #{address} (reconnecting)"

  def message(%__MODULE__{reason: :closed, address: address, cause: cause})
      when is_binary(address),
      do: "not connected to #{address} (last attempt: #{cause})"

  def message(%__MODULE__{reason: reason, address: address}) when is_binary(address),
    do: "cannot connect to #{address}: #{reason}"

  def message(%__MODULE__{reason: reason}) when is_binary(reason), do: reason
  def message(%__MODULE__{reason: reason}), do: "connection error: #{inspect(reason)}"
end
