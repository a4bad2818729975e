defmodule Analytics.Redis.Error do
  @moduledoc """
  An error reply from Redis (`-ERR ...`, `-WRONGTYPE ...`), or a reply that
  could not be decoded into numbers (the message names the key and element).
  """
  defexception [:message]

  @type t :: %__MODULE__{message: String.t()}
end
