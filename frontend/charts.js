/* Charts for the govkg pages: ECharts (bar and line), tree-shaken to what the pages draw.
 *
 * Built by `npm run build` into server/web/static/vendor/charts.js (an IIFE that sets
 * window.govkgCharts). On load it draws every element with a data-chart attribute from
 * the JSON in the <script type="application/json"> element that attribute names: a Data
 * Cube dataset's series, which the page also shows as a table (so nothing is lost
 * without JavaScript). The query page calls govkgCharts.draw for numeric result columns.
 */
import { BarChart, LineChart } from "echarts/charts";
import { AriaComponent, GridComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { SVGRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, GridComponent, TooltipComponent, AriaComponent, SVGRenderer]);

/** A number as a reader of `language` writes it: 220,000 in English, 22万 in Chinese. */
function formatNumber(value, language) {
  const number = Number(value);
  if (!Number.isFinite(number)) return String(value);
  if (language === "zh") {
    for (const [unit, size] of [["亿", 1e8], ["万", 1e4]]) {
      if (Math.abs(number) >= size) return String(Number((number / size).toFixed(2))) + unit;
    }
    return String(number);
  }
  return number.toLocaleString("en-US", { maximumFractionDigits: 10 });
}

function escapeText(text) {
  const span = document.createElement("span");
  span.textContent = String(text);
  return span.innerHTML;
}

/** Wrap a long category label onto lines of about `width` characters (CJK counts double). */
function wrapLabel(text, width) {
  const lines = [];
  let line = "";
  let size = 0;
  for (const character of String(text)) {
    const weight = /[\u2E80-\u9FFF\uFF00-\uFFEF]/.test(character) ? 2 : 1;
    if (size + weight > width && line) {
      lines.push(line);
      line = "";
      size = 0;
    }
    line += character;
    size += weight;
  }
  if (line) lines.push(line);
  return lines.slice(0, 3).join("\n") + (lines.length > 3 ? "…" : "");
}

/**
 * Draw `data` ({title, measure, language, points: [{category, value, unit, label, href, current}]})
 * into `element` as bars (or a line, with options.kind = "line"). Clicking a bar opens its page.
 */
function draw(element, data, options) {
  const kind = (options && options.kind) || "bar";
  const language = data.language || document.documentElement.lang.slice(0, 2) || "en";
  const existing = echarts.getInstanceByDom(element);
  if (existing) existing.dispose();
  const chart = echarts.init(element, null, { renderer: "svg", locale: language === "zh" ? "ZH" : "EN" });
  const narrow = element.clientWidth < 500;
  const points = data.points;
  // Many bars, or a narrow screen: bars run sideways, one row each, so their names stay readable.
  const sideways = kind === "bar" && (points.length > 8 || (narrow && points.length > 4));
  // A page reserves the box by a size class (no layout shift); a chart made by a script sizes itself.
  if (!element.matches(".chart-few, .chart-many, .chart-lots")) {
    element.style.height = sideways ? Math.max(240, points.length * 34 + 60) + "px" : "";
  }
  chart.resize();
  const categories = {
    type: "category",
    data: points.map((p) => p.category),
    inverse: sideways,
    axisLabel: {
      interval: 0,
      color: "#3f4757",
      formatter: (text) => wrapLabel(text, sideways ? (narrow ? 14 : 28) : narrow ? 10 : Math.max(10, Math.floor(60 / points.length) + 6)),
    },
  };
  const values = { type: "value", axisLabel: { color: "#3f4757", formatter: (value) => formatNumber(value, language) } };
  chart.setOption({
    animation: false,
    aria: { enabled: true, label: { description: data.title + ": " + points.map((p) => p.category + " " + formatNumber(p.value, language) + (p.unit ? " " + p.unit : "")).join("; ") } },
    grid: { left: 8, right: sideways ? 48 : 16, top: 24, bottom: 8, containLabel: true },
    tooltip: {
      trigger: "item",
      confine: true,
      formatter: (item) => {
        const point = points[item.dataIndex];
        return escapeText(point.label) + "<br><b>" + escapeText(formatNumber(point.value, language)) + " " + escapeText(point.unit || "") + "</b>";
      },
    },
    xAxis: sideways ? values : categories,
    yAxis: sideways ? categories : values,
    series: [
      {
        type: kind,
        name: data.measure,
        data: points.map((p) => ({ value: p.value, itemStyle: { color: p.current ? "#a11d21" : "#1a4f9c" } })),
        label: { show: true, position: sideways ? "right" : "top", color: "#1d2330", formatter: (item) => formatNumber(item.value, language) },
        barMaxWidth: sideways ? 24 : 56,
        lineStyle: { color: "#1a4f9c" },
      },
    ],
  }, true);
  chart.on("click", (item) => {
    const point = points[item.dataIndex];
    if (point && point.href) window.location.assign(point.href);
  });
  if (!element.dataset.resizeWatched) {
    element.dataset.resizeWatched = "1";
    new ResizeObserver(() => {
      const instance = echarts.getInstanceByDom(element);
      if (instance) instance.resize();
    }).observe(element);
  }
  return chart;
}

function drawAll() {
  for (const element of document.querySelectorAll("[data-chart]")) {
    const source = document.getElementById(element.dataset.chart);
    if (!source) continue;
    element.hidden = false;
    draw(element, JSON.parse(source.textContent));
    element.dataset.drawn = "true";
  }
}

window.govkgCharts = { draw: draw, formatNumber: formatNumber };
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
else drawAll();
