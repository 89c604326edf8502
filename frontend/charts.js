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

const CJK = "\u2E80-\u9FFF\uF900-\uFAFF\uFF00-\uFFEF";
// A Chinese character (with the closing marks that may not start a line), a word of another
// script with the spaces after it, or spaces: the units a label may break between.
const BREAK_UNITS = new RegExp(`[${CJK}][\u3001\u3002\uFF0C\uFF1A\uFF1B\uFF01\uFF1F\u201D\u2019\uFF09\u300D\u300F)]*|[^\\s${CJK}]+\\s*|\\s+`, "gu");

function weight(text) {
  let size = 0;
  for (const character of text) size += new RegExp(`[${CJK}]`).test(character) ? 2 : 1;
  return size;
}

/**
 * Wrap a category label onto lines of about `width` columns (a Chinese character is two), breaking
 * only between words or between Chinese characters, never inside a word; at most `maxLines`.
 */
function wrapLabel(text, width, maxLines = 4) {
  const lines = [];
  let line = "";
  for (const unit of String(text).match(BREAK_UNITS) || []) {
    if (line && weight(line.trimEnd() + unit.trimEnd()) > width) {
      lines.push(line.trimEnd());
      line = unit.trimStart();
    } else {
      line += unit;
    }
  }
  if (line.trim()) lines.push(line.trimEnd());
  return lines.slice(0, maxLines).join("\n") + (lines.length > maxLines ? "…" : "");
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
  // Columns of text a label may take: its share of the width (bars upright), or up to 40% of the
  // width beside sideways bars; about 7 px a column at 12 px.
  const width = element.clientWidth || 600;
  const columns = sideways ? Math.max(12, Math.floor((width * 0.4) / 7)) : Math.max(8, Math.floor((width - 64) / points.length / 7));
  const text = { color: "#3f4757", fontSize: 12 };
  const categories = {
    type: "category",
    data: points.map((p) => p.category),
    inverse: sideways,
    axisLabel: { ...text, interval: 0, lineHeight: 15, formatter: (label) => wrapLabel(label, columns) },
  };
  // The value axis says what it measures, in which unit ("processing time (days)").
  const axisName = data.axis || data.measure || "";
  const values = {
    type: "value",
    boundaryGap: [0, "15%"], // room above the tallest bar for its value and the axis's title
    name: axisName ? wrapLabel(axisName, Math.max(20, Math.floor(width / 7) - 4), 2) : "",
    nameLocation: sideways ? "middle" : "end",
    nameGap: sideways ? 28 : 14,
    nameTextStyle: { ...text, fontWeight: "bold", align: sideways ? "center" : "left" },
    axisLabel: { ...text, formatter: (value) => formatNumber(value, language) },
  };
  chart.setOption({
    animation: false,
    aria: { enabled: true, label: { description: data.title + ": " + points.map((p) => p.category + " " + formatNumber(p.value, language) + (p.unit ? " " + p.unit : "")).join("; ") } },
    grid: { left: 8, right: sideways ? 48 : 16, top: axisName && !sideways ? 54 : 24, bottom: axisName && sideways ? 40 : 8, containLabel: true },
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
