defmodule AnalyticsService.BadRequest do
  @moduledoc """
  A request the service refuses, with the HTTP status to answer and a
  message for the client.
  """
  defexception [:message, status: 400]

  @type t :: %__MODULE__{message: String.t(), status: 400..499}
end
