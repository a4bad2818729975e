# The soak run is long: `mix test --only soak` (SOAK_CALLS sets its length).
ExUnit.start(exclude: [:soak])
