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
 *
 * The keyboard reaches a drawing as one stop in the Tab order; there the arrow keys walk its
 * nodes, and the node walked to has its arrows named in the drawing (as a pointer on it does)
 * and told to a screen reader; Enter opens its page.
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
      // Arrows' names are shown on hover (of the arrow or either end), so they never cover the
      // resources' names; a small graph names them all.
      data: { id: "e" + index, source: edge.source, target: edge.target, full: edge.label, name: shorten(edge.label, narrow ? 14 : 28), label: data.edges.length <= 6 ? shorten(edge.label, narrow ? 14 : 28) : "" },
    })),
  ];
  const labelSides = new Map();
  // The room of a name beside a column: from the column to the box's edge (see layoutFor).
  const room = Math.max(120, Math.round(element.clientWidth * 0.3 - 24));
  const layout = layoutFor(data, element, labelSides);
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
      // Beside a column of neighbours, a name reads outwards from its node, on one line.
      { selector: "node.label-left", style: { label: "data(full)", "text-halign": "left", "text-valign": "center", "text-margin-x": -6, "text-margin-y": 0, "text-wrap": "ellipsis", "text-max-width": room } },
      { selector: "node.label-right", style: { label: "data(full)", "text-halign": "right", "text-valign": "center", "text-margin-x": 6, "text-margin-y": 0, "text-wrap": "ellipsis", "text-max-width": room } },
      { selector: "edge.named", style: { label: "data(name)", "line-color": "#1a4f9c", "target-arrow-color": "#1a4f9c", width: 2, "z-index": 10 } },
      { selector: "node[role = 'self']", style: { width: 22, height: 22, "font-weight": "bold", "font-size": narrow ? 12 : 14 } },
      // The node the keyboard is on: a dark ring, its name in bold.
      { selector: "node.focused", style: { "border-width": 3, "border-color": "#1d2330", "font-weight": "bold", "z-index": 20 } },
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
    layout: layout,
  });
  cy.on("tap", "node", (event) => {
    const href = event.target.data("href");
    if (href) window.location.assign(href);
  });
  cy.on("mouseover", "node", (event) => {
    element.style.cursor = event.target.data("href") ? "pointer" : "default";
    event.target.connectedEdges().addClass("named");
  });
  cy.on("mouseout", "node", (event) => {
    element.style.cursor = "default";
    event.target.connectedEdges().removeClass("named");
  });
  cy.on("mouseover", "edge", (event) => event.target.addClass("named"));
  cy.on("mouseout", "edge", (event) => event.target.removeClass("named"));
  for (const [id, side] of labelSides) cy.getElementById(id).addClass("label-" + side);
  instances.set(element, cy);
  walkable(element);
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

/** What a screen reader is told of a node: its name, then each of its arrows, end to end. */
function describe(node) {
  const arrows = node.connectedEdges().map((edge) => `${edge.source().data("full")} → ${edge.data("full")} → ${edge.target().data("full")}`);
  return [node.data("full"), ...arrows].join("; ");
}

/**
 * Makes the drawing in `element` one stop in the Tab order, whose arrow keys walk its nodes (the
 * resource first, then in the data's order: what it links to, then what links to it), Home and
 * End to the first and last; Enter opens the node's page. The node walked to is ringed, its
 * arrows are named, and a status line (read by screen readers, not shown) says them. Set once per
 * element; the handlers find the element's current drawing, which draw() may have replaced.
 */
function walkable(element) {
  const cy = instances.get(element);
  cy.scratch("_govkgFocus", 0);
  if (element.dataset.walkable) return;
  element.dataset.walkable = "1";
  element.tabIndex = 0;
  element.setAttribute("role", "application");
  const status = document.createElement("p");
  status.className = "visually-hidden graph-status";
  status.setAttribute("role", "status");
  element.after(status);
  const clear = (drawing) => drawing.elements().removeClass("focused named");
  const show = (drawing) => {
    const nodes = drawing.nodes();
    if (!nodes.length) return;
    const index = Math.min(drawing.scratch("_govkgFocus") || 0, nodes.length - 1);
    const node = nodes[index];
    clear(drawing);
    node.addClass("focused");
    node.connectedEdges().addClass("named");
    status.textContent = describe(node);
  };
  element.addEventListener("focus", () => show(instances.get(element)));
  element.addEventListener("blur", () => {
    clear(instances.get(element));
    status.textContent = "";
  });
  element.addEventListener("keydown", (event) => {
    const drawing = instances.get(element);
    const count = drawing.nodes().length;
    const index = drawing.scratch("_govkgFocus") || 0;
    const moves = { ArrowRight: index + 1, ArrowDown: index + 1, ArrowLeft: index - 1, ArrowUp: index - 1, Home: 0, End: count - 1 };
    if (event.key in moves) {
      drawing.scratch("_govkgFocus", (moves[event.key] + count) % count);
      show(drawing);
    } else if (event.key === "Enter") {
      const href = drawing.nodes()[index].data("href");
      if (href) window.location.assign(href);
    } else {
      return;
    }
    event.preventDefault(); // the arrow keys walk the drawing, not the page
  });
}

/**
 * A resource in the middle of its neighbours, any other graph by force (cose). On a wide box the
 * resources that link to it stand in two columns, left and right, their names reading outwards on
 * one line each, so no two names meet; what it links to is in a ring close around it.
 */
function layoutFor(data, element, labelSides) {
  const self = data.nodes.find((node) => node.role === "self");
  const boxWidth = element.clientWidth;
  const boxHeight = element.clientHeight;
  const outer = data.nodes.filter((node) => node.role === "in");
  if (self && boxWidth >= 700 && outer.length > 6) {
    const inner = data.nodes.filter((node) => node.role === "out" || node.role === "both" || node.role === "literal");
    const positions = new Map([[self.id, { x: boxWidth / 2, y: boxHeight / 2 }]]);
    const columnX = { left: boxWidth * 0.3, right: boxWidth * 0.7 };
    const halves = { left: outer.slice(0, Math.ceil(outer.length / 2)), right: outer.slice(Math.ceil(outer.length / 2)) };
    for (const side of ["left", "right"]) {
      const column = halves[side];
      const step = (boxHeight - 40) / Math.max(1, column.length);
      column.forEach((node, index) => {
        positions.set(node.id, { x: columnX[side], y: 20 + step * (index + 0.5) });
        labelSides.set(node.id, side);
      });
    }
    const radius = Math.min(boxWidth * 0.12, boxHeight * 0.32);
    inner.forEach((node, index) => {
      // Half a step off the vertical: none straight below the resource, where its own name is.
      const angle = (2 * Math.PI * (index + 0.5)) / inner.length - Math.PI / 2;
      positions.set(node.id, { x: boxWidth / 2 + radius * Math.cos(angle), y: boxHeight / 2 + radius * 0.9 * Math.sin(angle) });
    });
    return { name: "preset", positions: (node) => positions.get(node.id()), fit: false, zoom: 1, pan: { x: 0, y: 0 }, animate: false };
  }
  if (!self) {
    return { name: "cose", animate: false, padding: 24, randomize: true, nodeRepulsion: () => 400000, idealEdgeLength: () => 110, nodeOverlap: 20, componentSpacing: 60 };
  }
  // Two rings: what the resource links to close around it, what links to it outside; each
  // ring wide enough for a label's room per node (Cytoscape's concentric layout packs the
  // inner ring so tightly that its labels cover the resource's own).
  const inner = data.nodes.filter((node) => node.role === "out" || node.role === "both");
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
