// Service dashboard charts (ECharts, vendored). Data and labels come from <script id="dashboard-data">.
(function () {
  "use strict";
  var BLUE = "#0b6bcb", RED = "#c62828", GREEN = "#2e7d32";

  function percent(value) {
    return value === null || value === undefined ? null : Math.round(value * 1000) / 10;
  }

  function init() {
    var node = document.getElementById("dashboard-data");
    if (!node || !window.echarts) return;
    var data = JSON.parse(node.textContent);
    var days = data.days.map(function (day) { return day.slice(5); });
    var charts = [];

    function make(id, option) {
      var element = document.getElementById(id);
      if (!element) return;
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(Object.assign({
        animation: false,
        grid: { left: 44, right: 16, top: 36, bottom: 28 },
        tooltip: { trigger: "axis", renderMode: "richText" },
        xAxis: { type: "category", data: days, axisTick: { alignWithLabel: true } }
      }, option));
      charts.push(chart);
    }

    make("chart-opened", {
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: data.labels.opened, type: "bar", data: data.opened, itemStyle: { color: BLUE } }]
    });

    function share(id, values, target, name, color) {
      var targetLine = days.map(function () { return Math.round(target * 1000) / 10; });
      make(id, {
        legend: { top: 0, data: [name, data.labels.target] },
        yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
        tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: function (v) { return v === null || v === undefined ? "—" : v + "%"; } },
        series: [
          { name: name, type: "line", data: values.map(percent), connectNulls: true, symbolSize: 6,
            itemStyle: { color: color }, lineStyle: { color: color } },
          { name: data.labels.target, type: "line", data: targetLine, symbol: "none",
            itemStyle: { color: RED }, lineStyle: { color: RED, type: "dashed", width: 1 } }
        ]
      });
    }

    share("chart-resolved", data.resolved_within_48h, data.targets.resolved, data.labels.resolved, GREEN);
    share("chart-csat", data.csat, data.targets.csat, data.labels.csat, BLUE);
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
