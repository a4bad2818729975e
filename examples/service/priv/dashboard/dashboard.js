// The analytics dashboard: plain JavaScript over the service's JSON API and
// Debian's Chart.js. What is shown is chosen by the URL's hash (or query
// string): #metric=cpu.web-01&from=1763000000&to=1763086400, plus where,
// map, group_by and reducers to run a query. Clicking a metric, dragging
// across the chart and "Reset zoom" only change the hash.
//
// After drawing, the page writes what it drew into data attributes (the
// chart's points, width and range, the health state, the query's outcome),
// which the browser test reads from the DOM.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const HEALTH_EVERY_MS = 3000;
  const MAX_WIDTH = 10000;
  const BAND_BUCKETS = 120;
  // The summary's rows in this order; JSON objects have none.
  const SUMMARY_ORDER = ["count", "mean", "min", "max", "standard_deviation", "p50", "p90", "p99"];

  const state = {
    metrics: [],
    metric: null,
    from: null,
    to: null,
    seq: 0,
    chartWidth: null,
    chartRequests: 0,
    charts: {},
    metricsPending: false,
    // A banner that health reports must not hide (Chart.js missing).
    fatal: false,
  };

  // ---- formatting -------------------------------------------------------

  function isoMinute(t) {
    return new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ");
  }

  function tickTime(t, span) {
    const text = isoMinute(t);
    return span <= 2 * 86400 ? text.slice(5) : text.slice(0, 10);
  }

  function duration(seconds) {
    if (seconds < 120) return Math.round(seconds) + " s";
    if (seconds < 7200) return Math.round(seconds / 60) + " min";
    if (seconds < 2 * 86400) return (seconds / 3600).toFixed(1) + " h";
    return (seconds / 86400).toFixed(1) + " days";
  }

  function number(value) {
    if (value === null || value === undefined) return "–";
    if (typeof value !== "number") return String(value);
    if (Number.isInteger(value)) return value.toLocaleString("en-US");
    const size = Math.abs(value);
    if (size !== 0 && (size >= 1e9 || size < 1e-3)) return value.toExponential(3);
    return value.toLocaleString("en-US", { maximumFractionDigits: 3 });
  }

  // JSON carries "nan" and "infinity" as strings; a chart skips them.
  function plotted(value) {
    return typeof value === "number" ? value : null;
  }

  // ---- talking to the service -------------------------------------------

  // The decoded answer, or an Error whose message is the service's own
  // ({"error": ...}) or says that the service did not answer.
  async function api(path, options) {
    let response;
    try {
      response = await fetch(path, Object.assign({ cache: "no-store" }, options));
    } catch (_networkError) {
      throw new Error("The service is not answering (" + path.split("?")[0] + "). Is it running?");
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_notJson) {
      body = null;
    }
    if (!response.ok) {
      const message = body && body.error ? body.error : "HTTP " + response.status;
      throw new Error(message + " (" + response.status + ")");
    }
    return body;
  }

  function showError(id, error) {
    const element = $(id);
    if (error) {
      element.textContent = error.message || String(error);
      element.hidden = false;
    } else {
      element.textContent = "";
      element.hidden = true;
    }
  }

  function encode(name) {
    return encodeURIComponent(name);
  }

  function rangeQuery() {
    const parts = [];
    if (state.from !== null) parts.push("from=" + encodeURIComponent(state.from));
    if (state.to !== null) parts.push("to=" + encodeURIComponent(state.to));
    return parts.join("&");
  }

  // ---- health ------------------------------------------------------------

  async function pollHealth() {
    let body = null;
    try {
      const response = await fetch("/health", { cache: "no-store" });
      body = await response.json();
    } catch (_error) {
      body = null;
    }

    const badge = $("health");
    const banner = $("banner");
    let level = null;
    let message = "";
    let stateName;
    let text;

    if (!body) {
      stateName = "unreachable";
      text = "service not answering";
      level = "bad";
      message = "The service is not answering. Is it running? This page retries every few seconds.";
    } else {
      const cache = body.cache || {};
      const age = cache.age_ms === null || cache.age_ms === undefined ? null : cache.age_ms / 1000;
      const ageText = age === null ? "" : " · data " + duration(age) + " old";
      if (body.status === "ok") {
        stateName = "fresh";
        text = "fresh" + ageText;
      } else if (body.status === "stale") {
        stateName = "stale";
        text = "stale · Redis " + body.redis + ageText;
        level = "warn";
        message =
          body.redis === "up"
            ? "The last refresh from Redis failed (" + (cache.last_error || "unknown error") + "): showing data from " + duration(age || 0) + " ago."
            : "Redis is " + body.redis + ": showing the last good data, from " + duration(age || 0) + " ago." + (cache.last_error ? " (" + cache.last_error + ")" : "");
      } else if (body.status === "starting") {
        stateName = "starting";
        text = "starting";
        level = "bad";
        message = "The service has no data yet: Redis has not answered" + (cache.last_error ? " (" + cache.last_error + ")" : "") + ".";
      } else {
        stateName = "empty";
        text = "no metrics";
        level = "warn";
        message = "Redis holds no metrics (keys metric:<name>:ts and metric:<name>:values).";
      }
      badge.dataset.age = age === null ? "" : String(Math.round(age));
    }

    badge.textContent = text;
    badge.dataset.state = stateName;
    document.body.dataset.state = stateName;
    if (!state.fatal) {
      banner.hidden = level === null;
      banner.textContent = message;
      if (level) banner.dataset.level = level;
    }

    // Metrics appear once a starting service has loaded them.
    if (body && body.status === "ok" && state.metrics.length === 0 && !state.metricsPending) loadMetrics();
  }

  // ---- the metric list -----------------------------------------------------

  async function loadMetrics() {
    state.metricsPending = true;
    try {
      const body = await api("/metrics");
      state.metrics = body.metrics;
      showError("metrics-error", body.metrics.length ? null : new Error("No metrics yet."));
      renderMetrics();
      applyLocation();
    } catch (error) {
      showError("metrics-error", error);
    } finally {
      state.metricsPending = false;
    }
  }

  function renderMetrics() {
    const list = $("metrics");
    list.textContent = "";
    for (const metric of state.metrics) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.metric = metric.name;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = metric.name;
      const span = document.createElement("span");
      span.className = "span";
      span.textContent =
        metric.from === null
          ? "no points"
          : number(metric.points) + " points · " + duration(metric.to - metric.from) + " · to " + isoMinute(metric.to);
      button.append(name, span);
      button.addEventListener("click", () => setLocation({ metric: metric.name }));
      item.append(button);
      list.append(item);
    }
    markCurrent();
  }

  function markCurrent() {
    for (const button of $("metrics").querySelectorAll("button")) {
      button.setAttribute("aria-current", String(button.dataset.metric === state.metric));
    }
  }

  // ---- what to show: the URL --------------------------------------------------

  function locationParams() {
    const params = new URLSearchParams(window.location.search);
    for (const [key, value] of new URLSearchParams(window.location.hash.slice(1))) params.set(key, value);
    return params;
  }

  function setLocation(values) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(values)) {
      if (value !== null && value !== undefined && value !== "") params.set(key, value);
    }
    window.location.hash = params.toString();
  }

  function integerOrText(text) {
    if (text === null) return null;
    return /^-?\d+$/.test(text) ? Number(text) : text;
  }

  function applyLocation() {
    if (state.metrics.length === 0) return;
    const params = locationParams();
    const name = params.get("metric") || state.metrics[0].name;
    const metric = state.metrics.find((m) => m.name === name);
    state.metric = name;
    state.from = integerOrText(params.get("from"));
    state.to = integerOrText(params.get("to"));
    if (metric && metric.from !== null) {
      if (state.from === null) state.from = metric.from;
      if (state.to === null) state.to = metric.to + 1;
    }
    const full = !metric || (state.from === metric.from && state.to === metric.to + 1);
    $("reset").disabled = full;
    $("chart-title").textContent = name;
    $("range-label").textContent =
      typeof state.from === "number" && typeof state.to === "number"
        ? isoMinute(state.from) + " to " + isoMinute(state.to) + " UTC (" + duration(state.to - state.from) + ")"
        : "";
    markCurrent();

    const form = $("query-form");
    let query = false;
    for (const key of ["where", "map", "group_by", "reducers"]) {
      if (params.has(key)) {
        form.elements[key].value = params.get(key);
        query = query || key !== "reducers";
      }
    }

    state.seq += 1;
    const seq = state.seq;
    loadChart(seq, 0);
    loadBand(seq);
    loadHours(seq);
    loadSummary(seq);
    if (query) runQuery();
  }

  // ---- charts --------------------------------------------------------------------

  function timeAxis() {
    return {
      type: "linear",
      ticks: {
        maxRotation: 0,
        autoSkipPadding: 24,
        align: "inner",
        callback(value) {
          return tickTime(value, this.max - this.min);
        },
      },
    };
  }

  // A fixed width for the y axis keeps the plot's width, and so the number
  // of points asked for, the same whatever the values' labels.
  function valueAxis() {
    return {
      type: "linear",
      afterFit(scale) {
        scale.width = 64;
      },
      ticks: { callback: (value) => number(value) },
    };
  }

  function tooltipTitle(items) {
    return items.length ? isoMinute(items[0].parsed.x) + " UTC" : "";
  }

  function createCharts() {
    const common = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "nearest", axis: "x", intersect: false },
    };

    state.charts.main = new Chart($("chart"), {
      type: "line",
      data: { datasets: [{ label: "value", data: [], borderColor: "#2a6fdb", borderWidth: 1, pointRadius: 0, parsing: false, normalized: true }] },
      options: Object.assign({}, common, {
        scales: { x: timeAxis(), y: valueAxis() },
        plugins: { legend: { display: false }, tooltip: { callbacks: { title: tooltipTitle } } },
      }),
    });

    state.charts.band = new Chart($("band"), {
      type: "line",
      data: {
        datasets: [
          { label: "p99", data: [], borderColor: "#c2352b", backgroundColor: "rgba(194, 53, 43, 0.15)", borderWidth: 1, pointRadius: 0, fill: "+1", parsing: false },
          { label: "p50", data: [], borderColor: "#2a6fdb", borderWidth: 1.5, pointRadius: 0, fill: false, parsing: false },
        ],
      },
      options: Object.assign({}, common, {
        scales: { x: timeAxis(), y: valueAxis() },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } }, tooltip: { callbacks: { title: tooltipTitle } } },
      }),
    });

    state.charts.hours = new Chart($("hours"), {
      type: "bar",
      data: {
        labels: [],
        datasets: [
          { type: "bar", label: "mean", data: [], backgroundColor: "rgba(42, 111, 219, 0.6)" },
          { type: "line", label: "p99", data: [], borderColor: "#c2352b", borderWidth: 1.5, pointRadius: 2 },
        ],
      },
      options: Object.assign({}, common, {
        interaction: { mode: "index", intersect: false },
        scales: { y: valueAxis() },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
      }),
    });

    setUpZoom();
    new ResizeObserver(debounce(() => {
      if (state.metric && plotWidth() !== state.chartWidth) loadChart(state.seq, 0);
    }, 250)).observe($("chart-box"));
  }

  function debounce(fun, ms) {
    let timer = null;
    return () => {
      clearTimeout(timer);
      timer = setTimeout(fun, ms);
    };
  }

  // The plot's width in device pixels: one M4 slice per pixel column.
  function plotWidth() {
    const area = state.charts.main.chartArea;
    const css = area ? area.right - area.left : $("chart").clientWidth;
    const width = Math.round(css * (window.devicePixelRatio || 1));
    return Math.max(1, Math.min(MAX_WIDTH, width));
  }

  function setAxis(chart, from, to) {
    const numeric = typeof from === "number" && typeof to === "number";
    chart.options.scales.x.min = numeric ? from : undefined;
    chart.options.scales.x.max = numeric ? to - 1 : undefined;
    // Time labels are about 90 pixels wide; the first and last are drawn
    // inside the plot, which autoSkip does not allow for.
    chart.options.scales.x.ticks.maxTicksLimit = Math.max(2, Math.floor(chart.width / 130));
  }

  async function loadChart(seq, attempt) {
    if (!state.charts.main) return;
    const chart = state.charts.main;
    const panel = $("chart-panel");
    const width = plotWidth();
    state.chartWidth = width;
    state.chartRequests += 1;
    panel.dataset.chartRequests = String(state.chartRequests);
    panel.dataset.chartState = "loading";
    try {
      const body = await api("/metrics/" + encode(state.metric) + "/chart?" + rangeQuery() + "&width=" + width);
      if (seq !== state.seq) return;
      chart.data.datasets[0].data = body.times.map((t, i) => ({ x: t, y: plotted(body.values[i]) }));
      setAxis(chart, body.first, body.last === null ? null : body.last + 1);
      chart.update("none");
      Object.assign(panel.dataset, {
        chartPoints: String(body.times.length),
        chartWidth: String(width),
        chartFrom: String(state.from),
        chartTo: String(state.to),
        chartRows: String(body.rows),
        chartState: "drawn",
      });
      $("chart-info").textContent = body.rows === 0
        ? "No points in this range: choose another metric, or Reset zoom."
        : number(body.rows) + " points in the range, " + number(body.times.length) + " drawn for " + width +
        " pixel columns (M4: the first, last, lowest and highest of each). Drag across the chart to zoom in.";
      showError("chart-error", null);
      // Drawing can change the plot's width (a scroll bar appears): ask again for the new one.
      if (plotWidth() !== width && attempt < 2) loadChart(seq, attempt + 1);
    } catch (error) {
      if (seq !== state.seq) return;
      chart.data.datasets[0].data = [];
      chart.update("none");
      panel.dataset.chartState = "error";
      panel.dataset.chartPoints = "0";
      showError("chart-error", error);
    }
  }

  async function loadBand(seq) {
    if (!state.charts.band) return;
    const chart = state.charts.band;
    const panel = $("band-panel");
    try {
      const span = typeof state.from === "number" && typeof state.to === "number" ? state.to - state.from : 86400;
      const width = Math.max(60, Math.ceil(span / BAND_BUCKETS));
      const body = await api("/metrics/" + encode(state.metric) + "/buckets?" + rangeQuery() + "&width=" + width + "&reducers=p50,p99");
      if (seq !== state.seq) return;
      const middle = width / 2;
      chart.data.datasets[0].data = body.buckets.map((b, i) => ({ x: b + middle, y: plotted(body.p99[i]) }));
      chart.data.datasets[1].data = body.buckets.map((b, i) => ({ x: b + middle, y: plotted(body.p50[i]) }));
      setAxis(chart, state.from, state.to);
      chart.update("none");
      panel.dataset.buckets = String(body.buckets.length);
      $("band-info").textContent = body.buckets.length + " buckets of " + duration(width) + ".";
      showError("band-error", null);
    } catch (error) {
      if (seq !== state.seq) return;
      chart.data.datasets.forEach((d) => (d.data = []));
      chart.update("none");
      panel.dataset.buckets = "0";
      showError("band-error", error);
    }
  }

  async function loadHours(seq) {
    if (!state.charts.hours) return;
    const chart = state.charts.hours;
    const panel = $("hours-panel");
    try {
      const body = await api("/metrics/" + encode(state.metric) + "/groups?" + rangeQuery() + "&by=hour_of_day&reducers=mean,p99");
      if (seq !== state.seq) return;
      chart.data.labels = body.keys.map((h) => String(h).padStart(2, "0") + ":00");
      chart.data.datasets[0].data = body.mean.map(plotted);
      chart.data.datasets[1].data = body.p99.map(plotted);
      chart.update("none");
      panel.dataset.groups = String(body.keys.length);
      showError("hours-error", null);
    } catch (error) {
      if (seq !== state.seq) return;
      chart.data.labels = [];
      chart.data.datasets.forEach((d) => (d.data = []));
      chart.update("none");
      panel.dataset.groups = "0";
      showError("hours-error", error);
    }
  }

  // ---- drag to zoom ------------------------------------------------------------------

  function setUpZoom() {
    const canvas = $("chart");
    const selection = $("selection");
    let start = null;

    const inside = (x) => {
      const area = state.charts.main.chartArea;
      return Math.min(Math.max(x, area.left), area.right);
    };
    const offsetX = (event) => event.clientX - canvas.getBoundingClientRect().left;

    canvas.addEventListener("pointerdown", (event) => {
      if (!state.charts.main.chartArea || typeof state.from !== "number") return;
      start = inside(offsetX(event));
      canvas.setPointerCapture(event.pointerId);
      selection.style.left = start + "px";
      selection.style.width = "0px";
      selection.hidden = false;
    });

    canvas.addEventListener("pointermove", (event) => {
      if (start === null) return;
      const x = inside(offsetX(event));
      selection.style.left = Math.min(start, x) + "px";
      selection.style.width = Math.abs(x - start) + "px";
    });

    const finish = (event, apply) => {
      if (start === null) return;
      const end = inside(offsetX(event));
      const [left, right] = [Math.min(start, end), Math.max(start, end)];
      start = null;
      selection.hidden = true;
      // A click, or a drag of a few pixels, is not a zoom.
      if (!apply || right - left < 4) return;
      const scale = state.charts.main.scales.x;
      const from = Math.max(state.from, Math.floor(scale.getValueForPixel(left)));
      const to = Math.min(state.to, Math.ceil(scale.getValueForPixel(right)) + 1);
      if (to - from >= 2) zoomTo(from, to);
    };
    canvas.addEventListener("pointerup", (event) => finish(event, true));
    canvas.addEventListener("pointercancel", (event) => finish(event, false));

    $("reset").addEventListener("click", () => setLocation({ metric: state.metric }));
  }

  function zoomTo(from, to) {
    const params = locationParams();
    params.set("metric", state.metric);
    params.set("from", from);
    params.set("to", to);
    window.location.hash = params.toString();
  }

  // ---- summary and query ----------------------------------------------------------------

  function table(rows) {
    const element = document.createElement("table");
    element.className = "numbers";
    for (const cells of rows) {
      const row = element.insertRow();
      cells.forEach((cell, i) => {
        const header = cell !== null && typeof cell === "object";
        const td = document.createElement(i === 0 || header ? "th" : "td");
        td.textContent = header ? cell.text : i === 0 ? cell : number(cell);
        row.append(td);
      });
    }
    return element;
  }

  async function loadSummary(seq) {
    const panel = $("summary-panel");
    try {
      const body = await api("/metrics/" + encode(state.metric) + "/summary?" + rangeQuery());
      if (seq !== state.seq) return;
      const rows = [["points", body.rows]];
      const rank = (label) => (SUMMARY_ORDER.includes(label) ? SUMMARY_ORDER.indexOf(label) : SUMMARY_ORDER.length);
      const labels = Object.keys(body.result).sort((a, b) => rank(a) - rank(b));
      for (const label of labels) rows.push([label, body.result[label]]);
      $("summary").replaceWith(Object.assign(table(rows), { id: "summary" }));
      panel.dataset.rows = String(body.rows);
      showError("summary-error", null);
    } catch (error) {
      if (seq !== state.seq) return;
      $("summary").textContent = "";
      showError("summary-error", error);
    }
  }

  async function runQuery() {
    const panel = $("query-panel");
    const form = $("query-form");
    const body = { metric: state.metric };
    if (typeof state.from === "number") body.from = state.from;
    if (typeof state.to === "number") body.to = state.to;
    for (const key of ["where", "map", "group_by"]) {
      const value = form.elements[key].value.trim();
      if (value) body[key] = value;
    }
    const reducers = form.elements.reducers.value.split(",").map((r) => r.trim()).filter((r) => r);
    if (reducers.length) body.reducers = reducers;

    panel.dataset.queryState = "running";
    const result = $("query-result");
    try {
      const answer = await api("/query", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      result.textContent = "";
      if (answer.keys) {
        const labels = Object.keys(answer).filter((k) => k !== "keys");
        const rows = [[{ header: true, text: "group" }].concat(labels.map((l) => ({ header: true, text: l })))];
        answer.keys.forEach((key, i) => rows.push([String(key)].concat(labels.map((l) => answer[l][i]))));
        result.append(table(rows));
        panel.dataset.queryGroups = String(answer.keys.length);
      } else {
        const rows = [["rows in range", answer.rows]];
        for (const [label, value] of Object.entries(answer.result)) rows.push([label, value]);
        result.append(table(rows));
      }
      panel.dataset.queryState = "ok";
      showError("query-error", null);
    } catch (error) {
      result.textContent = "";
      panel.dataset.queryState = "error";
      showError("query-error", error);
    }
  }

  // ---- start -----------------------------------------------------------------------------

  async function chartJsMissing() {
    let reason = "";
    try {
      await api("/assets/chart.js");
    } catch (error) {
      reason = " " + error.message;
    }
    state.fatal = true;
    const banner = $("banner");
    banner.hidden = false;
    banner.dataset.level = "bad";
    banner.textContent = "Chart.js did not load, so there are no charts." + reason;
  }

  function start() {
    if (typeof Chart === "undefined") {
      chartJsMissing();
    } else {
      createCharts();
    }
    $("query-form").addEventListener("submit", (event) => {
      event.preventDefault();
      if (state.metric) runQuery();
    });
    window.addEventListener("hashchange", applyLocation);
    pollHealth();
    setInterval(pollHealth, HEALTH_EVERY_MS);
    loadMetrics();
  }

  start();
})();
