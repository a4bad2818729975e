defmodule Analytics.Redis.Cluster.HashSlot do
  @moduledoc """
  The hash slot of a key, as Redis Cluster computes it: CRC16 (the
  CCITT/XMODEM variant: polynomial 0x1021, initial value 0) of the key, or
  of its hash tag, modulo 16384.

  A hash tag is the part between the first `{` and the first `}` after it,
  when that part is not empty: `"{user:1}:name"` and `"{user:1}:mail"`
  share a slot, so a multi-key command may take both.

      iex> Analytics.Redis.Cluster.HashSlot.crc16("123456789")
      0x31C3
      iex> Analytics.Redis.Cluster.HashSlot.slot("{user:1}:name") ==
      ...>   Analytics.Redis.Cluster.HashSlot.slot("{user:1}:mail")
      true
      iex> Analytics.Redis.Cluster.HashSlot.slot("foo{}{bar}") ==
      ...>   Analytics.Redis.Cluster.HashSlot.slot("foo{}{bar}x")
      false
  """
  import Bitwise

  @slots 16_384

  # One entry per byte value: the CRC of that byte shifted in, so a key
  # costs one table lookup per byte.
  @table List.to_tuple(
           for byte <- 0..255 do
             Enum.reduce(1..8, byte <<< 8, fn _, crc ->
               if (crc &&& 0x8000) != 0,
                 do: bxor(crc <<< 1, 0x1021) &&& 0xFFFF,
                 else: crc <<< 1 &&& 0xFFFF
             end)
           end
         )

  @doc "The number of hash slots in a cluster."
  @spec count() :: pos_integer()
  def count, do: @slots

  @doc """
  The hash slot, 0..16383, of `key`.

      iex> Analytics.Redis.Cluster.HashSlot.slot("foo")
      12182
  """
  @spec slot(binary()) :: 0..16383
  def slot(key) when is_binary(key), do: crc16(hashed_part(key)) &&& @slots - 1

  @doc """
  The CRC16-CCITT (XMODEM) of `data`.

      iex> Analytics.Redis.Cluster.HashSlot.crc16("")
      0
  """
  @spec crc16(binary()) :: 0..65535
  def crc16(data) when is_binary(data), do: crc16(data, 0)

  defp crc16(<<byte, rest::binary>>, crc),
    do: crc16(rest, bxor(crc <<< 8 &&& 0xFFFF, elem(@table, bxor(crc >>> 8, byte) &&& 0xFF)))

  defp crc16(<<>>, crc), do: crc

  # The hash tag when the key has a non-empty one, else the whole key.
  defp hashed_part(key) do
    with {open, 1} <- :binary.match(key, "{"),
         after_open = open + 1,
         {close, 1} when close > after_open <-
           :binary.match(key, "}", scope: {after_open, byte_size(key) - after_open}) do
      binary_part(key, after_open, close - after_open)
    else
      _ -> key
    end
  end
end
