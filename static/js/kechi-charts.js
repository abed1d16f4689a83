/* Report charts: draw the ECharts options the page carries, switch between the chart types
   the report offers, and open the records behind a bar or slice on click. */
(function () {
  "use strict";
  // Whoever asked the system for less motion gets the chart drawn at once, without the growing bars.
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  function calm(options) { return still ? Object.assign({}, options, {animation: false}) : options; }
  // A chart follows its box: a turned phone, a resized window or a collapsed menu all redraw it.
  function follow(el, chart) {
    if (window.ResizeObserver) {
      new window.ResizeObserver(function () { chart.resize(); }).observe(el);
    } else {
      window.addEventListener("resize", function () { chart.resize(); });
    }
  }
  if (window.echarts) {
    document.querySelectorAll(".kechi-mini-chart[data-options]").forEach(function (el) {
      var mini = window.echarts.init(el);
      mini.on("finished", function () { el.setAttribute("data-rendered", "1"); });
      mini.setOption(calm(JSON.parse(el.getAttribute("data-options"))));
      follow(el, mini);
    });
  }
  var box = document.getElementById("kechi-chart");
  var source = document.getElementById("kechi-chart-data");
  if (!box || !source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var chart = window.echarts.init(box);
  var buttons = document.querySelectorAll("[data-chart-type]");

  function show(kind) {
    if (!data.options[kind]) { return; }
    box.setAttribute("data-rendered", "");
    box.setAttribute("data-chart-type", kind);  // before drawing: without animation it finishes at once
    chart.setOption(calm(data.options[kind]), true);
    buttons.forEach(function (b) {
      var on = b.getAttribute("data-chart-type") === kind;
      b.classList.toggle("active", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
    if (window.history && window.history.replaceState) {
      var url = new URL(window.location.href);
      url.searchParams.set("chart", kind);
      window.history.replaceState(null, "", url.toString());
    }
  }

  chart.on("finished", function () { box.setAttribute("data-rendered", box.getAttribute("data-chart-type")); });
  chart.on("click", function (params) {
    var bySeries = data.series_drill && data.series_drill[params.seriesIndex];
    var url = bySeries ? bySeries[params.dataIndex] : data.drill[params.dataIndex];
    if (url) { window.location.href = url; }
  });
  buttons.forEach(function (b) {
    b.addEventListener("click", function () { show(b.getAttribute("data-chart-type")); });
  });
  follow(box, chart);
  window.kechiChart = chart;
  show(data.initial);
}());
