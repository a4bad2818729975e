defmodule Analytics.Redis.ConnectionError do
  @moduledoc """
  A failure of the connection rather than of a command.

  Reasons:

    * `:timeout` - no reply within the call's timeout (a late reply is dropped)
    * `:disconnected` - the server went away with the request in flight
    * `:closed` - sent while the connection was reconnecting, or after `stop/1`
    * `:protocol_error` - a malformed reply; the connection reconnects
    * `:reply_too_large` - a reply over `max_reply_bytes`; the connection reconnects
    * a socket error such as `:econnrefused`, or a message string (when connecting)
  """
  defexception [:reason]

  @type t :: %__MODULE__{reason: atom() | String.t()}

  @impl true
  def message(%__MODULE__{reason: reason}) when is_binary(reason), do: reason
  def message(%__MODULE__{reason: reason}), do: "connection error: #{inspect(reason)}"
end
