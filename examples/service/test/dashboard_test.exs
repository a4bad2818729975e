defmodule AnalyticsService.DashboardTest do
  # The dashboard in a real browser: Debian's headless Chromium loads the
  # page from the service (on a loaded redis-server), runs its JavaScript
  # with a virtual-time budget and dumps the DOM, where the page has
  # written what it drew (data attributes). Its console output is captured
  # from stderr. The tests run as root, hence --no-sandbox.
  use AnalyticsService.ServiceCase, async: false
  import Analytics.Eventually
  alias Analytics.RedisServer
  alias AnalyticsService.Chromium

  @moduletag timeout: 180_000
  @screenshot Path.expand("../_build/dashboard.png", __DIR__)

  setup_all do
    assert System.find_executable("chromium"),
           "the dashboard's tests need Debian's chromium (scripts/test.sh installs it)"

    :ok
  end

  setup do
    start_service!(metrics: 5, refresh: 500)
  end

  # {dumped DOM, console lines of the page}. Each run gets a fresh profile.
  defp browse!(url, flags \\ ["--dump-dom"], window \\ "1280,900") do
    dir = Path.join(System.tmp_dir!(), "dashboard-test-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    log = Path.join(dir, "stderr.log")

    args =
      [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--user-data-dir=#{dir}/profile",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=#{window}",
        # Long enough for every request and a few health polls; virtual
        # time stands still while a request is in flight.
        "--virtual-time-budget=10000"
      ] ++ flags ++ [url]

    # sh keeps stderr (the console) apart from stdout (the DOM).
    {dom, status} = System.cmd("sh", ["-c", ~s(exec timeout 90 chromium "$@" 2>"$0"), log | args])

    stderr = File.read!(log)
    File.rm_rf!(dir)
    assert status == 0, "chromium exited with #{status}:\n#{stderr}"
    {dom, for(line <- String.split(stderr, "\n"), line =~ ~r/CONSOLE|Uncaught/, do: line)}
  end

  defp page_url(port, fragment), do: "http://127.0.0.1:#{port}/#{fragment}"

  # The attribute `name` of the element with id `id`, or nil.
  defp attr(dom, id, name) do
    with [tag] <- Regex.run(~r/<[a-z]+ [^>]*id="#{id}"[^>]*>/, dom),
         [_, value] <- Regex.run(~r/ #{name}="([^"]*)"/, tag) do
      value
    else
      _ -> nil
    end
  end

  defp body_attr(dom, name) do
    [tag] = Regex.run(~r/<body[^>]*>/, dom)

    case Regex.run(~r/ #{name}="([^"]*)"/, tag) do
      [_, value] -> value
      nil -> nil
    end
  end

  # The text of the element with id `id` (no nested elements).
  defp text(dom, id) do
    case Regex.run(~r/id="#{id}"[^>]*>([^<]*)</, dom) do
      [_, text] -> text
      nil -> nil
    end
  end

  defp integer_attr(dom, id, name), do: dom |> attr(id, name) |> String.to_integer()

  defp span!(port, metric) do
    {200, %{"metrics" => metrics}} = get!(port, "/metrics")
    %{"from" => from, "to" => to} = Enum.find(metrics, &(&1["name"] == metric))
    {from, to}
  end

  # The chart as drawn matches the service's answer for the range and
  # width the page says it asked for.
  defp assert_chart_matches(dom, port, metric) do
    assert attr(dom, "chart-panel", "data-chart-state") == "drawn"
    width = integer_attr(dom, "chart-panel", "data-chart-width")
    from = integer_attr(dom, "chart-panel", "data-chart-from")
    to = integer_attr(dom, "chart-panel", "data-chart-to")
    # The plot of a 1280-pixel window, less the metric list and the axis.
    assert width in 500..1_200

    assert {200, chart} =
             get!(port, "/metrics/#{metric}/chart?from=#{from}&to=#{to}&width=#{width}")

    assert integer_attr(dom, "chart-panel", "data-chart-points") == length(chart["times"])
    assert integer_attr(dom, "chart-panel", "data-chart-rows") == chart["rows"]
    {from, to, width, chart}
  end

  defp raw_get!(port, path) do
    {:ok, {{_, status, _}, headers, body}} =
      :httpc.request(:get, {~c"http://127.0.0.1:#{port}#{path}", []}, [], body_format: :binary)

    {status, to_string(:proplists.get_value(~c"content-type", headers)), body}
  end

  test "the page and Chart.js are served by the service, nothing from elsewhere", %{port: port} do
    assert {200, "text/html; charset=utf-8", html} = raw_get!(port, "/")
    assert html =~ ~s(<script src="/assets/chart.js">)
    refute html =~ ~r/src="https?:|href="https?:/
    assert {200, "text/javascript; charset=utf-8", chart_js} = raw_get!(port, "/assets/chart.js")
    assert chart_js =~ "Chart.js v3"
    assert {200, "text/css; charset=utf-8", _} = raw_get!(port, "/assets/dashboard.css")
    assert {200, "text/javascript; charset=utf-8", _} = raw_get!(port, "/assets/dashboard.js")
    assert {404, "application/json", _} = raw_get!(port, "/assets/chart.js.map")
    assert {405, %{"error" => "POST is not allowed on /"}} = post!(port, "/", %{})
  end

  test "a metric's chart is drawn at the plot's width, with every panel and no console errors",
       %{port: port} do
    metric = "latency_ms.web-01"
    # The artefact: a screenshot, from the same run, tall enough for every panel.
    File.rm(@screenshot)
    File.mkdir_p!(Path.dirname(@screenshot))
    flags = ["--dump-dom", "--screenshot=#{@screenshot}"]
    {dom, console} = browse!(page_url(port, "#metric=#{metric}"), flags, "1280,1200")

    assert console == []
    assert body_attr(dom, "data-state") == "fresh"
    assert attr(dom, "health", "data-state") == "fresh"
    assert text(dom, "health") =~ ~r/^fresh · data \d+ s old$/
    assert length(Regex.scan(~r/<button type="button" data-metric=/, dom)) == 5
    assert dom =~ ~s(data-metric="#{metric}" aria-current="true")

    # The whole span by default: M4 gives up to four points a column.
    {first, last} = span!(port, metric)
    {from, to, width, chart} = assert_chart_matches(dom, port, metric)
    assert {from, to} == {first, last + 1}
    assert chart["rows"] == points()
    assert length(chart["times"]) > width and length(chart["times"]) <= 4 * width
    assert attr(dom, "reset", "disabled") == ""

    assert integer_attr(dom, "band-panel", "data-buckets") > 100
    assert integer_attr(dom, "hours-panel", "data-groups") == 24
    assert integer_attr(dom, "summary-panel", "data-rows") == points()
    assert dom =~ ~r/<th>p99<\/th><td>[0-9.,]+<\/td>/

    for id <- ~w(chart-error band-error hours-error summary-error metrics-error),
        do: assert(attr(dom, id, "hidden") == "", id)

    assert %{size: size} = File.stat!(@screenshot)
    assert size > 20_000
    assert <<137, "PNG", _::binary>> = File.read!(@screenshot)
  end

  test "a range in the hash is the range the chart asks for; a query in it shows its result",
       %{port: port} do
    metric = "cpu.web-01"
    {first, _last} = span!(port, metric)
    from = first + 3_600 * 24
    to = from + 3_600 * 6 + 30
    where = URI.encode_www_form("value > 40")

    {dom, console} =
      browse!(
        page_url(
          port,
          "#metric=#{metric}&from=#{from}&to=#{to}&where=#{where}&reducers=count,max"
        )
      )

    assert console == []
    assert {^from, ^to, _width, chart} = assert_chart_matches(dom, port, metric)
    # 6 hours of a point a minute: fewer points than columns, all drawn.
    assert chart["rows"] == 361 and length(chart["times"]) == 361
    assert integer_attr(dom, "summary-panel", "data-rows") == 361
    assert attr(dom, "reset", "disabled") == nil

    assert attr(dom, "query-panel", "data-query-state") == "ok"

    {200, %{"result" => %{"count" => count}}} =
      post!(port, "/query", %{
        "metric" => metric,
        "from" => from,
        "to" => to,
        "where" => "value > 40",
        "reducers" => ["count"]
      })

    assert count > 0 and count < 361
    assert dom =~ ~s(<th>count</th><td>#{count}</td>)
    assert attr(dom, "query-error", "hidden") == ""
  end

  test "a bad query shows the service's message, as does an unknown metric; an empty range is empty",
       %{port: port} do
    where = URI.encode_www_form("value >")

    {dom, console} = browse!("http://127.0.0.1:#{port}/?metric=requests.web-01&where=#{where}")

    assert attr(dom, "query-panel", "data-query-state") == "error"
    assert text(dom, "query-error") =~ "where: syntax error before"
    assert text(dom, "query-error") =~ "(400)"
    # The rest of the page is drawn as usual.
    assert attr(dom, "chart-panel", "data-chart-state") == "drawn"
    assert Enum.reject(console, &(&1 =~ "Failed to load resource")) == []

    {dom, _console} = browse!(page_url(port, "#metric=ghost"))
    assert attr(dom, "chart-panel", "data-chart-state") == "error"
    assert text(dom, "chart-error") == ~s{unknown metric "ghost" (404)}
    assert text(dom, "summary-error") =~ "unknown metric"

    # A range with no points is not an error: empty charts, and said so.
    {dom, console} = browse!(page_url(port, "#metric=cpu.web-01&from=1000&to=2000"))
    assert console == []
    assert attr(dom, "chart-panel", "data-chart-points") == "0"
    assert text(dom, "chart-info") =~ "No points in this range"
    assert attr(dom, "summary-panel", "data-rows") == "0"
    assert dom =~ ~s(<th>mean</th><td>–</td>)
    for id <- ~w(chart-error summary-error), do: assert(attr(dom, id, "hidden") == "", id)
  end

  # Evaluates `expression` until it is true; the browser, moved on.
  defp wait_for(browser, expression, deadline \\ nil) do
    deadline = deadline || System.monotonic_time(:millisecond) + 30_000

    case Chromium.eval!(browser, expression) do
      {browser, true} ->
        browser

      {browser, _} ->
        if System.monotonic_time(:millisecond) > deadline,
          do: flunk("never true in the page: #{expression}")

        Process.sleep(100)
        wait_for(browser, expression, deadline)
    end
  end

  defp dataset(browser, id) do
    Chromium.eval!(browser, "Object.assign({}, document.getElementById('#{id}').dataset)")
  end

  defp center_of(browser, id) do
    {browser, rect} =
      Chromium.eval!(
        browser,
        "(() => { const r = document.getElementById('#{id}').getBoundingClientRect(); " <>
          "return {left: r.left, top: r.top, width: r.width, height: r.height}; })()"
      )

    {browser, rect}
  end

  test "dragging across the chart (real mouse events) asks for that range and draws it; Reset zoom goes back",
       %{port: port} do
    metric = "cpu.web-01"
    {first, last} = span!(port, metric)
    browser = Chromium.start!(page_url(port, "#metric=#{metric}"))

    try do
      drawn = "document.getElementById('chart-panel')?.dataset.chartState === 'drawn'"
      browser = wait_for(browser, drawn)
      {browser, before} = dataset(browser, "chart-panel")
      assert {before["chartFrom"], before["chartTo"]} == {"#{first}", "#{last + 1}"}

      # From 30% to 60% of the canvas, inside the plot (the y axis is at its left).
      {browser, canvas} = center_of(browser, "chart")
      y = canvas["top"] + canvas["height"] / 2
      x0 = canvas["left"] + 0.3 * canvas["width"]
      x1 = canvas["left"] + 0.6 * canvas["width"]
      browser = Chromium.drag(browser, {x0, y}, {x1, y})

      browser = wait_for(browser, "#{drawn} && location.hash.includes('from=')")
      {browser, zoomed} = dataset(browser, "chart-panel")
      from = String.to_integer(zoomed["chartFrom"])
      to = String.to_integer(zoomed["chartTo"])
      assert first < from and from < to and to < last + 1
      fraction = (to - from) / (last + 1 - first)
      assert fraction > 0.2 and fraction < 0.45, "zoomed to #{fraction} of the span"

      assert String.to_integer(zoomed["chartRequests"]) >
               String.to_integer(before["chartRequests"])

      {browser, hash} = Chromium.eval!(browser, "location.hash")
      assert hash == "#metric=#{metric}&from=#{from}&to=#{to}"

      width = zoomed["chartWidth"]

      assert {200, chart} =
               get!(port, "/metrics/#{metric}/chart?from=#{from}&to=#{to}&width=#{width}")

      assert zoomed["chartPoints"] == "#{length(chart["times"])}"

      # A click is not a drag: nothing changes.
      browser = Chromium.click(browser, {x0, y})
      assert {browser, ^hash} = Chromium.eval!(browser, "location.hash")

      {browser, reset} = center_of(browser, "reset")
      point = {reset["left"] + reset["width"] / 2, reset["top"] + reset["height"] / 2}
      browser = Chromium.click(browser, point)

      browser =
        wait_for(
          browser,
          "#{drawn} && document.getElementById('chart-panel').dataset.chartFrom === '#{first}'"
        )

      {_browser, back} = dataset(browser, "chart-panel")
      assert back["chartTo"] == "#{last + 1}"
    after
      Chromium.stop(browser)
    end
  end

  test "with redis-server stopped the page says Redis is down and draws the last good data",
       %{port: port, server: server} do
    RedisServer.stop(server)
    assert wait_until(fn -> match?({200, %{"status" => "stale"}}, get!(port, "/health")) end)

    {dom, console} = browse!(page_url(port, "#metric=memory_mb.web-01"))
    assert console == []
    assert body_attr(dom, "data-state") == "stale"
    assert text(dom, "health") =~ ~r/^stale · Redis down · data \d+ s old$/
    assert text(dom, "banner") =~ "Redis is down: showing the last good data, from"
    assert attr(dom, "banner", "hidden") == nil
    assert_chart_matches(dom, port, "memory_mb.web-01")
  end
end
