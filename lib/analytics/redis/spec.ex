defmodule Analytics.Redis.Spec do
  # Turns fetch specs into the command and the reply layout the NIF decodes.
  @moduledoc false

  @type t ::
          {:get, binary(), Analytics.Series.dtype()}
          | {:mget, [binary()], Analytics.Series.dtype()}
          | {:lrange, binary(), integer(), integer(), Analytics.Series.dtype()}
          | {:hvals, binary(), Analytics.Series.dtype()}
          | {:zrange_scores, binary(), integer(), integer()}
          | {:zrangebyscore, binary(), score_bound(), score_bound(), Analytics.Series.dtype()}
          | {:zrange_with_scores, binary(), integer(), integer(), Analytics.Series.dtype()}
          | {:hgetall, binary(), Analytics.Series.dtype(), Analytics.Series.dtype()}
          | {:xrange, binary(), stream_id(), stream_id(), [binary()], Analytics.Series.dtype()}

  # Milliseconds, or an id as Redis takes it ("-", "+", "1526985054069-0", "(1-0").
  @type stream_id :: integer() | String.t()

  # A number, an infinity, or a bound as Redis writes it ("(1.5" is exclusive).
  @type score_bound :: number() | :infinity | :neg_infinity | String.t()

  @dtypes [:f64, :i64]

  @doc false
  def to_request({:get, key, dtype}) when is_binary(key) and dtype in @dtypes,
    do: {["GET", key], {:packed, dtype, key, nil}}

  def to_request({:mget, [_ | _] = keys, dtype} = spec) when dtype in @dtypes do
    unless Enum.all?(keys, &is_binary/1), do: bad!(spec)
    {["MGET" | keys], {:elements, dtype, "", keys}}
  end

  def to_request({:lrange, key, start, stop, dtype})
      when is_binary(key) and is_integer(start) and is_integer(stop) and dtype in @dtypes,
      do:
        {["LRANGE", key, Integer.to_string(start), Integer.to_string(stop)],
         {:elements, dtype, key, {start, stop}}}

  def to_request({:hvals, key, dtype}) when is_binary(key) and dtype in @dtypes,
    do: {["HVALS", key], {:elements, dtype, key, nil}}

  def to_request({:zrange_scores, key, start, stop})
      when is_binary(key) and is_integer(start) and is_integer(stop),
      do:
        {["ZRANGE", key, Integer.to_string(start), Integer.to_string(stop), "WITHSCORES"],
         {:odd_elements, :f64, key, {start, stop}}}

  def to_request({:zrangebyscore, key, min, max, dtype} = spec)
      when is_binary(key) and dtype in @dtypes,
      do:
        {["ZRANGEBYSCORE", key, score_bound(min, spec), score_bound(max, spec), "WITHSCORES"],
         {:odd_elements, dtype, key, nil}}

  def to_request({:zrange_with_scores, key, start, stop, member_dtype})
      when is_binary(key) and is_integer(start) and is_integer(stop) and member_dtype in @dtypes,
      do:
        {["ZRANGE", key, Integer.to_string(start), Integer.to_string(stop), "WITHSCORES"],
         {:member_score_pairs, {member_dtype, :f64}, key, {start, stop}}}

  def to_request({:hgetall, key, field_dtype, value_dtype})
      when is_binary(key) and field_dtype in @dtypes and value_dtype in @dtypes,
      do: {["HGETALL", key], {:field_value_pairs, {field_dtype, value_dtype}, key, nil}}

  def to_request({:xrange, key, start, stop, [_ | _] = fields, dtype} = spec)
      when is_binary(key) and dtype in @dtypes do
    unless Enum.all?(fields, &is_binary/1) and length(Enum.uniq(fields)) == length(fields),
      do: bad!(spec)

    {["XRANGE", key, stream_id(start, spec), stream_id(stop, spec)],
     {:stream_fields, {:i64, dtype}, key, nil, fields}}
  end

  def to_request(spec), do: bad!(spec)

  @doc false
  # Whether the spec's result is a tuple of Series rather than one.
  def several_columns?(spec) when is_tuple(spec) and tuple_size(spec) > 0,
    do: elem(spec, 0) in [:zrange_with_scores, :hgetall, :xrange]

  def several_columns?(_spec), do: false

  defp stream_id(id, _spec) when is_integer(id), do: Integer.to_string(id)
  defp stream_id(id, _spec) when is_binary(id), do: id
  defp stream_id(_id, spec), do: bad!(spec)

  defp score_bound(bound, _spec) when is_integer(bound), do: Integer.to_string(bound)
  defp score_bound(bound, _spec) when is_float(bound), do: Float.to_string(bound)
  defp score_bound(:infinity, _spec), do: "+inf"
  defp score_bound(:neg_infinity, _spec), do: "-inf"
  defp score_bound(bound, _spec) when is_binary(bound), do: bound
  defp score_bound(_bound, spec), do: bad!(spec)

  defp bad!(spec) do
    raise ArgumentError,
          "bad fetch spec: #{inspect(spec)}; expected {:get, key, dtype}, {:mget, [key, ...], dtype}, " <>
            "{:lrange, key, start, stop, dtype}, {:hvals, key, dtype}, {:zrange_scores, key, start, stop}, " <>
            "{:zrangebyscore, key, min, max, dtype}, {:zrange_with_scores, key, start, stop, member_dtype}, " <>
            "{:hgetall, key, field_dtype, value_dtype} or {:xrange, key, start, stop, [field, ...], dtype}, " <>
            "with binary keys, integer ranks, score bounds that are numbers, :infinity, :neg_infinity " <>
            "or strings such as \"(1.5\", stream ids that are integers (ms) or strings such as \"-\", " <>
            "\"+\" or \"1526985054069-0\", distinct binary fields, and dtypes :f64 or :i64"
  end
end
