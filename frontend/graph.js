/* Node-and-arrow diagrams for the govkg pages: Cytoscape.js, drawn on canvas.
 *
 * Built by `npm run build` into server/web/static/vendor/graph.js (an IIFE that sets
 * window.govkgGraph). On load it draws every element with a data-graph attribute from the
 * JSON in the <script type="application/json"> element that attribute names: a resource's
 * neighbourhood, whose links the page also lists in its tables (nothing is lost without
 * JavaScript). The query page calls govkgGraph.draw for CONSTRUCT and DESCRIBE answers.
 *
 * Data: {nodes: [{id, label, href, role: "self" | "out" | "in" | "both" | "literal"}],
 *        edges: [{source, target, label}], language}.
 */
import cytoscape from "cytoscape";

// Cytoscape adds a <style> element (".__________cytoscape_container { position: relative }")
// unless an element with this id exists; the site's CSP refuses inline styles, so the rule
// lives in govkg.css and this placeholder tells Cytoscape it is already there.
const STYLESHEET_ID = "__________cytoscape_stylesheet";

const COLOURS = { self: "#a11d21", out: "#1a4f9c", in: "#2f6b3a", both: "#5b3f8c", literal: "#6b7280" };

/** A label short enough for a node: about `width` characters (CJK counts double). */
function shorten(text, width) {
  let size = 0;
  let result = "";
  for (const character of String(text)) {
    size += /[\u2E80-\u9FFF\uFF00-\uFFEF]/.test(character) ? 2 : 1;
    if (size > width) return result + "…";
    result += character;
  }
  return result;
}

const instances = new WeakMap();

/** Draw `data` into `element`; selecting a node with an href opens it. Returns the Cytoscape core. */
function draw(element, data) {
  if (!document.getElementById(STYLESHEET_ID)) {
    const placeholder = document.createElement("meta");
    placeholder.id = STYLESHEET_ID;
    document.head.append(placeholder);
  }
  const previous = instances.get(element);
  if (previous) previous.destroy();
  const narrow = element.clientWidth < 500;
  const self = data.nodes.find((node) => node.role === "self");
  const outgoing = (edge) => !!self && edge.source === self.id;
  const width = narrow ? 16 : 26;
  const elements = [
    ...data.nodes.map((node) => ({
      group: "nodes",
      data: { id: node.id, label: shorten(node.label, node.role === "self" ? width + 8 : width), full: node.label, href: node.href || "", role: node.role },
    })),
    ...data.edges.map((edge, index) => ({
      group: "edges",
      // Many arrows' names would cover each other: then only the resource's own links are named.
      data: { id: "e" + index, source: edge.source, target: edge.target, label: data.edges.length <= 12 || outgoing(edge) ? shorten(edge.label, narrow ? 14 : 22) : "" },
    })),
  ];
  const cy = cytoscape({
    container: element,
    elements: elements,
    // A picture inside a scrolling page: no zoom on the wheel, no panning that would trap a
    // finger on a phone; nodes stay where the layout put them.
    maxZoom: 1.3, // a small graph is not blown up to fill its box
    userZoomingEnabled: false,
    userPanningEnabled: false,
    boxSelectionEnabled: false,
    autoungrabify: true,
    autounselectify: true,
    style: [
      {
        selector: "node",
        style: {
          label: "data(label)",
          "background-color": (node) => COLOURS[node.data("role")] || COLOURS.out,
          width: 14,
          height: 14,
          color: "#1d2330",
          "font-size": narrow ? 11 : 12,
          "font-family": "system-ui, sans-serif",
          "text-valign": "bottom",
          "text-margin-y": 3,
          "text-wrap": "wrap",
          "text-max-width": narrow ? 90 : 140,
          "text-background-color": "#ffffff",
          "text-background-opacity": 0.85,
          "text-background-padding": 1,
        },
      },
      { selector: "node[role = 'self']", style: { width: 22, height: 22, "font-weight": "bold", "font-size": narrow ? 12 : 14 } },
      { selector: "node[role = 'literal']", style: { shape: "round-rectangle", width: 10, height: 10 } },
      {
        selector: "edge",
        style: {
          width: 1.2,
          "line-color": "#9aa3b2",
          "target-arrow-color": "#9aa3b2",
          "target-arrow-shape": "triangle",
          "curve-style": "bezier",
          label: "data(label)",
          "font-size": narrow ? 9 : 10,
          color: "#3f4757",
          "text-rotation": "autorotate",
          "text-background-color": "#ffffff",
          "text-background-opacity": 0.85,
        },
      },
    ],
    layout: layoutFor(data, element),
  });
  cy.on("tap", "node", (event) => {
    const href = event.target.data("href");
    if (href) window.location.assign(href);
  });
  cy.on("mouseover", "node", (event) => {
    element.style.cursor = event.target.data("href") ? "pointer" : "default";
  });
  cy.on("mouseout", "node", () => {
    element.style.cursor = "default";
  });
  instances.set(element, cy);
  if (!element.dataset.resizeWatched) {
    element.dataset.resizeWatched = "1";
    new ResizeObserver(() => {
      const instance = instances.get(element);
      if (instance) {
        instance.resize();
        instance.fit(undefined, 24);
      }
    }).observe(element);
  }
  element.dataset.drawn = "true";
  return cy;
}

/** A resource in the middle of its neighbours; any other graph by force (cose). */
function layoutFor(data, element) {
  if (!data.nodes.some((node) => node.role === "self")) {
    return { name: "cose", animate: false, padding: 24, randomize: true, nodeRepulsion: () => 400000, idealEdgeLength: () => 110, nodeOverlap: 20, componentSpacing: 60 };
  }
  // Two rings: what the resource links to close around it, what links to it outside; each
  // ring wide enough for a label's room per node (Cytoscape's concentric layout packs the
  // inner ring so tightly that its labels cover the resource's own).
  const inner = data.nodes.filter((node) => node.role === "out" || node.role === "both");
  const outer = data.nodes.filter((node) => node.role === "in");
  const room = 70;
  const innerRadius = inner.length ? Math.max(130, (inner.length * room) / (2 * Math.PI)) : 0;
  const outerRadius = outer.length ? Math.max(innerRadius + 150, (outer.length * room) / (2 * Math.PI)) : 0;
  // Rings shaped like the box (a tall ellipse on a phone, a wide one on a desktop), so the
  // drawing fills it and its labels are not shrunk more than they must be.
  const stretch = Math.min(2, Math.max(0.6, element.clientHeight / Math.max(1, element.clientWidth)));
  const positions = new Map();
  const ring = (nodes, radius, offset) =>
    nodes.forEach((node, index) => {
      const angle = offset + (2 * Math.PI * index) / nodes.length - Math.PI / 2;
      positions.set(node.id, { x: radius * Math.cos(angle), y: radius * stretch * Math.sin(angle) });
    });
  ring(inner, innerRadius, 0);
  ring(outer, outerRadius, outer.length ? Math.PI / outer.length : 0);
  return { name: "preset", positions: (node) => positions.get(node.id()) || { x: 0, y: 0 }, padding: 24, animate: false };
}

function drawAll() {
  for (const element of document.querySelectorAll("[data-graph]")) {
    const source = document.getElementById(element.dataset.graph);
    if (!source) continue;
    const section = element.closest(".js-only");
    if (section) section.hidden = false;
    element.hidden = false;
    draw(element, JSON.parse(source.textContent));
  }
}

window.govkgGraph = { draw: draw, instance: (element) => instances.get(element) || null };
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
else drawAll();
