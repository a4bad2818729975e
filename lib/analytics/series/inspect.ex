defimpl Inspect, for: Analytics.Series do
  import Inspect.Algebra

  # Shown values are read from a slice, so inspecting a huge series is cheap.
  @shown 10

  def inspect(%Analytics.Series{dtype: dtype, size: size} = series, opts)
      when dtype in [:f64, :i64] and is_integer(size) do
    shown = min(size, @shown)
    values = series |> Analytics.Series.slice(0, shown) |> Analytics.Series.to_list()
    docs = Enum.map(values, &to_doc(&1, opts))
    docs = if shown < size, do: docs ++ ["..."], else: docs

    concat([
      "#Analytics.Series<#{dtype}[#{size}] ",
      container_doc("[", docs, "]", opts, fn doc, _opts -> doc end, break: :flex),
      ">"
    ])
  rescue
    # A size that disagrees with the data: shown as the next clause does.
    ArgumentError -> Inspect.Any.inspect(series, opts)
  end

  # A struct built or edited by hand shows its fields, so an error message
  # about it can say what is wrong.
  def inspect(series, opts), do: Inspect.Any.inspect(series, opts)
end
