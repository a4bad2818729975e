defmodule AnalyticsService.Dashboard do
  @moduledoc """
  The dashboard: a page at `GET /` (plain HTML, CSS and JavaScript in
  `priv/dashboard`, read when asked, so an edit shows on the next load)
  that draws the service's answers with Chart.js.

  Chart.js is Debian's (`libjs-chart.js`, installed by `scripts/setup.sh`)
  and is served from where Debian puts it, at `/assets/chart.js`: nothing
  comes from a CDN. Without the package that path answers 404 with a
  message saying what to install, and the page says so.

      GET /                        the page
      GET /assets/dashboard.js     its script
      GET /assets/dashboard.css    its style sheet
      GET /assets/chart.js         Chart.js, from /usr/share/javascript/chart.js
  """
  alias AnalyticsService.BadRequest

  @chart_js_dir "/usr/share/javascript/chart.js"
  # Its UMD build (it defines `Chart`): chart.min.js in Debian 12's
  # Chart.js 3; Chart.js 4 names it chart.umd.js.
  @chart_js_files ~w(chart.umd.min.js chart.umd.js chart.min.js)
  @files %{
    "index.html" => "text/html; charset=utf-8",
    "dashboard.js" => "text/javascript; charset=utf-8",
    "dashboard.css" => "text/css; charset=utf-8"
  }

  @typedoc "An answer that is not JSON: its content type and its bytes."
  @type asset :: {:asset, String.t(), iodata()}

  @doc """
  The asset at `path` (`[]` is the page), or `nil` for a path that is not
  one of the dashboard's.

      iex> {:asset, "text/html; charset=utf-8", _html} = AnalyticsService.Dashboard.asset([])
      iex> AnalyticsService.Dashboard.asset(["assets", "nope.js"])
      nil
  """
  @spec asset([String.t()]) :: asset() | nil
  def asset([]), do: file("index.html")
  def asset(["assets", "chart.js"]), do: chart_js()
  def asset(["assets", name]) when name in ["dashboard.js", "dashboard.css"], do: file(name)
  def asset(_path), do: nil

  defp file(name) do
    path = Application.app_dir(:analytics_service, Path.join("priv/dashboard", name))
    {:asset, Map.fetch!(@files, name), File.read!(path)}
  end

  # Read when asked too (200 KB, from the page cache): an upgrade of the
  # package is served without a rebuild.
  defp chart_js do
    found =
      Enum.find_value(@chart_js_files, fn file ->
        case File.read(Path.join(@chart_js_dir, file)) do
          {:ok, bytes} -> bytes
          {:error, _} -> nil
        end
      end)

    if found do
      {:asset, "text/javascript; charset=utf-8", found}
    else
      raise BadRequest,
        status: 404,
        message:
          "Chart.js is not installed (none of #{Enum.join(@chart_js_files, ", ")} in #{@chart_js_dir}); apt-get install libjs-chart.js"
    end
  end
end
