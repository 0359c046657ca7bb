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

    // A day's share is of few cases or many: the point grows with the count, and the tooltip
    // says it ("100 % of 1 case" is no trend).
    function of(n) {  // " of 3 cases"; "（共 3 件）" brings its own spacing
      var text = (n === 1 ? data.labels.of_case : data.labels.of_cases).replace("%(n)s", n);
      return /^[（(]/.test(text) ? text : " " + text;
    }
    function share(id, values, counts, target, name, color) {
      var targetLine = days.map(function () { return Math.round(target * 1000) / 10; });
      make(id, {
        legend: { top: 0, data: [name, data.labels.target] },
        yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
        tooltip: {
          trigger: "axis", renderMode: "richText",
          formatter: function (params) {
            var lines = [params[0].axisValue];
            params.forEach(function (p) {
              var v = p.value === null || p.value === undefined ? "—" : p.value + "%";
              var n = p.seriesIndex === 0 && p.value !== null && p.value !== undefined ? counts[p.dataIndex] : null;
              lines.push(p.seriesName + ": " + v + (n ? of(n) : ""));
            });
            return lines.join("\n");
          }
        },
        series: [
          { name: name, type: "line", data: values.map(percent), connectNulls: true,
            symbolSize: function (_value, p) { return Math.min(4 + 2 * Math.sqrt(counts[p.dataIndex] || 0), 14); },
            itemStyle: { color: color }, lineStyle: { color: color } },
          { name: data.labels.target, type: "line", data: targetLine, symbol: "none",
            itemStyle: { color: RED }, lineStyle: { color: RED, type: "dashed", width: 1 } }
        ]
      });
    }

    share("chart-resolved", data.resolved_within_48h, data.resolved_decided, data.targets.resolved, data.labels.resolved, GREEN);
    share("chart-csat", data.csat, data.csat_rated, data.targets.csat, data.labels.csat, BLUE);
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
