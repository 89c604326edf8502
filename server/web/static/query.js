/* govkg query page: runs the editor's SPARQL in place and shows the answer as a table or a chart.
 *
 * The editor is CodeMirror (vendor/editor.js, window.govkgEditor, fetched once the page has
 * painted) and charts are ECharts (vendor/charts.js, window.govkgCharts, fetched the first time
 * a chart is asked for); without them the page keeps its textarea and table.
 *
 * Progressive enhancement of a plain form (which works without this script). All data
 * the page needs comes from the JSON in #govkg-page-data. Every piece of text from a
 * query or its results reaches the page through textContent or an attribute, never
 * through innerHTML; links are made only for http(s) IRIs.
 */
(function () {
  "use strict";

  const dataElement = document.getElementById("govkg-page-data");
  if (!dataElement) return;
  const page = JSON.parse(dataElement.textContent);
  const t = page.messages;

  const MAX_SHOWN_ROWS = 1000;
  const MAX_LABELLED_IRIS = 400;
  // Gunicorn refuses request lines over 4094 bytes; keep links well under that.
  const MAX_LINK_LENGTH = 4000;
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";
  const ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9, text/plain;q=0.1";

  // ---- SPARQL text: the same lexical rules as server/sparql_text.py ---------------------

  const TOKEN = new RegExp(
    [
      "(#[^\\n\\r]*)",
      '("""(?:[^"\\\\]|\\\\[\\s\\S]|"(?!""))*(?:"""|$)' +
        "|'''(?:[^'\\\\]|\\\\[\\s\\S]|'(?!''))*(?:'''|$)" +
        '|"(?:[^"\\\\\\n\\r]|\\\\[\\s\\S])*"?' +
        "|'(?:[^'\\\\\\n\\r]|\\\\[\\s\\S])*'?)",
      '(<[^<>"{}|^`\\\\\\u0000-\\u0020]*>)',
      "([^#\"'<]+|<)",
    ].join("|"),
    "g"
  );
  const PN_PREFIX = "[\\p{L}](?:[\\p{L}\\p{N}_.\\-]*[\\p{L}\\p{N}_\\-])?";
  const DECLARED = new RegExp("\\bPREFIX\\s+(" + PN_PREFIX + ")?:", "giu");
  const USED = new RegExp("(?<![\\p{L}\\p{N}_.\\-?$:])(" + PN_PREFIX + ")?:", "gu");

  /** The text with comments, strings and IRIs blanked out (line breaks kept). */
  function codeOnly(text) {
    return text.replace(TOKEN, (match, comment, string, iri) =>
      comment !== undefined || string !== undefined || iri !== undefined
        ? match.replace(/[^\n]/g, " ")
        : match
    );
  }

  /** Prepend a PREFIX line for each known prefix the query uses but does not declare. */
  function completePrefixes(text, known) {
    const code = codeOnly(text);
    const declared = new Set(Array.from(code.matchAll(DECLARED), (m) => m[1] || ""));
    const added = [];
    for (const match of code.matchAll(USED)) {
      const prefix = match[1] || "";
      if (Object.hasOwn(known, prefix) && !declared.has(prefix) && !added.includes(prefix)) {
        added.push(prefix);
      }
    }
    const lines = added.map((prefix) => "PREFIX " + prefix + ": <" + known[prefix] + ">\n").join("");
    return { text: lines + text, added: added };
  }

  // ---- small DOM helpers ------------------------------------------------------------------

  function el(tag, options, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(options || {})) {
      if (value === undefined || value === null) continue;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) {
      node.append(child);
    }
    return node;
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
  }

  function seconds(milliseconds) {
    return (milliseconds / 1000).toFixed(milliseconds < 10000 ? 2 : 1);
  }

  const namespaces = Object.entries(page.prefixes).sort((a, b) => b[1].length - a[1].length);

  /** A prefixed name for an IRI, for display only; null when no known namespace fits. */
  function compact(iri) {
    for (const [prefix, namespace] of namespaces) {
      if (iri.startsWith(namespace) && iri.length > namespace.length) {
        return prefix + ":" + iri.slice(namespace.length);
      }
    }
    return null;
  }

  /** A number as the page's reader writes it: 220,000 in English, 22万 in Chinese. */
  function formatNumber(value) {
    const number = Number(value);
    if (!Number.isFinite(number)) return String(value);
    if (page.language === "zh") {
      for (const [unit, size] of [["亿", 1e8], ["万", 1e4]]) {
        if (Math.abs(number) >= size) return String(Number((number / size).toFixed(2))) + unit;
      }
      return String(number);
    }
    return number.toLocaleString("en-US", { maximumFractionDigits: 10 });
  }

  /** A link to a resource under the base keeps the reader's chosen language. */
  function localHref(iri) {
    if (!page.chosen_language || !iri.startsWith(page.base_iri)) return iri;
    const url = new URL(iri);
    url.searchParams.set("lang", page.chosen_language);
    return url.href;
  }

  function isWebIri(iri) {
    return /^https?:\/\/[^\s]+$/i.test(iri);
  }

  // ---- elements ---------------------------------------------------------------------------

  const form = document.getElementById("query-form");
  const textarea = document.getElementById("query");
  const runButton = document.getElementById("run-query");
  const stopButton = document.getElementById("stop-query");
  const results = document.getElementById("results");
  const statusLine = document.getElementById("result-status");
  const announcer = document.getElementById("result-announce");
  const errorBox = document.getElementById("result-error");
  const truncatedBox = document.getElementById("result-truncated");
  const tools = document.getElementById("result-tools");
  const shareInput = document.getElementById("share-url");
  const copyButton = document.getElementById("copy-share");
  const downloadLinks = document.getElementById("download-links");
  const linkTooLong = document.getElementById("link-too-long");
  const prefixesAdded = document.getElementById("prefixes-added");
  const body = document.getElementById("result-body");

  const questionBox = document.getElementById("stored-question");
  const questionSummary = document.getElementById("stored-question-summary");
  const questionDescription = document.getElementById("stored-question-description");

  // The editor: the textarea until CodeMirror (vendor/editor.js) is on, then CodeMirror. Its
  // bundle is fetched once the page has painted (see mountEditor below); `data-pending` says it
  // is on its way (tests wait for it to go), and the editor marks its box
  // data-completions="loaded" once its completions have answered.
  let codeEditor = null;
  let pendingError = null; // an error of a run made before the editor was on
  textarea.dataset.pending = "editor";
  const editor = {
    get value() {
      return codeEditor ? codeEditor.getValue() : textarea.value;
    },
    set value(text) {
      if (codeEditor) codeEditor.setValue(text);
      textarea.value = text;
    },
    focus: () => (codeEditor ? codeEditor.focus() : textarea.focus()),
    markError: (line, column, message) => {
      if (codeEditor) codeEditor.markError(line, column, message);
      else pendingError = [line, column, message];
    },
    clearErrors: () => {
      pendingError = null;
      if (codeEditor) codeEditor.clearErrors();
    },
  };

  function mountEditor() {
    const focused = document.activeElement === textarea;
    codeEditor = window.govkgEditor.create(textarea, {
      prefixes: page.prefixes,
      completions: page.completions_path + (page.chosen_language ? "?lang=" + page.chosen_language : ""),
      label: t.query_label,
      keyboardHint: t.editor_keys,
      onRun: () => run({ updateUrl: true }),
      onChange: () => showQuestion(currentExample(textarea.value)),
    });
    if (pendingError) codeEditor.markError(...pendingError);
    if (focused) codeEditor.focus();
  }

  // Tab indents in CodeMirror: the page says how to leave it (the plain textarea keeps Tab for
  // focus). Said from the first paint (#editor-keys is .js-only), so that the line does not push
  // the editor down when it comes; taken back if the editor cannot come.
  const editorKeys = document.getElementById("editor-keys");
  // Fetched once the page has painted its first content, so that it shows at once on a slow
  // phone (where a browser does not report paints: after the next two frames). Without the bundle
  // the textarea stays, and Tab leaves it as usual.
  function loadEditor() {
    loadBundle("editor_script", "govkgEditor")
      .then(mountEditor)
      .catch(() => (editorKeys.hidden = true))
      .finally(() => delete textarea.dataset.pending);
  }
  if ((window.PerformanceObserver && PerformanceObserver.supportedEntryTypes || []).includes("paint")) {
    const painted = new PerformanceObserver((list) => {
      if (!list.getEntriesByName("first-contentful-paint").length) return;
      painted.disconnect();
      loadEditor();
    });
    painted.observe({ type: "paint", buffered: true });
  } else {
    requestAnimationFrame(() => requestAnimationFrame(loadEditor));
  }

  document.documentElement.classList.add("js");
  for (const node of document.querySelectorAll(".js-only")) node.hidden = false;

  // ---- rendering terms --------------------------------------------------------------------

  // Elements showing an IRI, by IRI, so that labels can be filled in when they arrive.
  let iriElements = new Map();
  // Labels already fetched for the current answer, by IRI.
  let knownLabels = new Map();

  function applyLabel(iri, label) {
    for (const entry of iriElements.get(iri) || []) {
      if (entry.labelled) continue;
      entry.labelled = true;
      entry.node.textContent = label.value;
      if (label["xml:lang"]) entry.node.lang = label["xml:lang"];
      entry.holder.append(el("span", { className: "term-note", title: iri, text: entry.short }));
    }
  }

  function reapplyLabels() {
    for (const [iri, label] of knownLabels) applyLabel(iri, label);
  }

  function iriNode(iri) {
    const short = compact(iri);
    const link = isWebIri(iri);
    const node = el(link ? "a" : "span", { className: "term-iri", title: iri, text: short || iri });
    if (link) {
      node.href = localHref(iri);
      if (!iri.startsWith(page.base_iri)) {
        node.className += " external";
        node.rel = "noopener noreferrer";
      }
    }
    const holder = el("span", { className: "term" }, [node]);
    if (!iriElements.has(iri)) iriElements.set(iri, []);
    iriElements.get(iri).push({ node: node, holder: holder, short: short || iri });
    return holder;
  }

  // Datatypes whose values speak for themselves: their name is only shown on hover.
  const PLAIN_DATATYPES = new Set(
    ["string", "integer", "decimal", "double", "boolean", "nonNegativeInteger"].map((name) => XSD + name)
  );

  const NUMERIC = /#(integer|decimal|double|float|int|long|short|nonNegativeInteger|positiveInteger|unsignedInt)$/;

  function literalNode(value, language, datatype) {
    const numeric = datatype && NUMERIC.test(datatype) && Number.isFinite(Number(value));
    const literal = el("span", { className: "literal", lang: language || undefined, text: numeric ? formatNumber(value) : value });
    if (numeric) literal.dataset.value = value;
    const parts = [literal];
    if (language) {
      parts.push(el("span", { className: "term-note", text: "@" + language }));
    } else if (datatype && PLAIN_DATATYPES.has(datatype)) {
      literal.title = compact(datatype) || datatype;
    } else if (datatype && datatype !== RDF_LANG_STRING) {
      parts.push(el("span", { className: "term-note", title: datatype, text: compact(datatype) || datatype }));
    }
    return el("span", { className: numeric ? "term term-number" : "term" }, parts);
  }

  function termNode(term) {
    if (!term) return el("span", { className: "term-unbound" });
    switch (term.type) {
      case "uri":
        return iriNode(term.value);
      case "literal":
      case "typed-literal":
        return literalNode(term.value, term["xml:lang"], term.datatype);
      case "bnode":
        return el("span", { className: "term term-bnode", text: "_:" + term.value });
      case "triple": {
        const v = term.value;
        return el("span", { className: "term term-triple" }, [
          "<< ", termNode(v.subject), " ", termNode(v.predicate), " ", termNode(v.object), " >>",
        ]);
      }
      default:
        return el("span", { text: String(term.value) });
    }
  }

  function isNumericTerm(term) {
    return !!term && term.type !== "uri" && term.type !== "bnode" && !!term.datatype && NUMERIC.test(term.datatype) && Number.isFinite(Number(term.value));
  }

  /** Columns whose bound values are all numbers (at least one bound). */
  function numericColumns(rows, width) {
    const columns = [];
    for (let index = 0; index < width; index++) {
      const bound = rows.map((row) => row[index]).filter(Boolean);
      if (bound.length && bound.every(isNumericTerm)) columns.push(index);
    }
    return columns;
  }

  function sortKey(term) {
    if (!term) return [2, ""];
    if (isNumericTerm(term)) return [0, Number(term.value)];
    return [1, String(term.value)];
  }

  function compareTerms(a, b) {
    const [ka, va] = sortKey(a);
    const [kb, vb] = sortKey(b);
    if (ka !== kb) return ka - kb;
    if (typeof va === "number") return va - vb;
    return va.localeCompare(vb, page.language === "zh" ? "zh-Hans-CN" : "en");
  }

  function tableNode(headings, rows) {
    const numeric = new Set(numericColumns(rows, headings.length));
    let order = rows.slice();
    const tbody = el("tbody");
    const fill = () => {
      const shown = order.slice(0, MAX_SHOWN_ROWS);
      tbody.replaceChildren(
        ...shown.map((cells) =>
          el("tr", {}, cells.map((cell, index) => el("td", { className: numeric.has(index) ? "number" : undefined }, [termNode(cell)])))
        )
      );
    };
    const headCells = headings.map((heading, index) => {
      const button = el("button", { type: "button", className: "sort", text: heading, title: format(t.sort_by, { column: heading }) });
      const cell = el("th", { scope: "col", className: numeric.has(index) ? "number" : undefined, "aria-sort": "none" }, [button]);
      button.addEventListener("click", () => {
        const ascending = cell.getAttribute("aria-sort") !== "ascending";
        for (const other of cell.parentNode.children) other.setAttribute("aria-sort", "none");
        cell.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        order = rows.slice().sort((a, b) => (ascending ? 1 : -1) * compareTerms(a[index], b[index]));
        iriElements = new Map();
        fill();
        reapplyLabels();
      });
      return cell;
    });
    fill();
    // The table's accessible name: what it holds, read before its rows (shown to screen readers only).
    const caption = el("caption", { className: "visually-hidden", text: format(t.results_table, { count: rows.length }) });
    return el("table", { className: "results-table" }, [caption, el("thead", {}, [el("tr", {}, headCells)]), tbody]);
  }

  // ---- N-Triples (graph answers) ------------------------------------------------------------

  const NT_TERM =
    /\s*(<[^>]*>|_:[^\s]+|"(?:[^"\\]|\\.)*"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^<[^>]*>)?)/y;

  function unescapeNt(text) {
    const simple = { t: "\t", b: "\b", n: "\n", r: "\r", f: "\f", '"': '"', "'": "'", "\\": "\\" };
    return text.replace(/\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))/g, (whole, u4, u8, c) =>
      u4 || u8 ? String.fromCodePoint(parseInt(u4 || u8, 16)) : c in simple ? simple[c] : whole
    );
  }

  function ntTerm(token) {
    if (token.startsWith("<")) return { type: "uri", value: unescapeNt(token.slice(1, -1)) };
    if (token.startsWith("_:")) return { type: "bnode", value: token.slice(2) };
    const end = token.lastIndexOf('"');
    const term = { type: "literal", value: unescapeNt(token.slice(1, end)) };
    const rest = token.slice(end + 1);
    if (rest.startsWith("@")) term["xml:lang"] = rest.slice(1);
    else if (rest.startsWith("^^")) term.datatype = unescapeNt(rest.slice(3, -1));
    return term;
  }

  /** Triples as rows of three terms, or null if the text is not N-Triples this parser reads. */
  function parseNTriples(text) {
    const rows = [];
    for (const line of text.split("\n")) {
      if (!line.trim() || line.trim().startsWith("#")) continue;
      NT_TERM.lastIndex = 0;
      const terms = [];
      for (let i = 0; i < 3; i++) {
        const match = NT_TERM.exec(line);
        if (!match) return null;
        terms.push(ntTerm(match[1]));
      }
      if (!/^\s*\.\s*$/.test(line.slice(NT_TERM.lastIndex))) return null;
      rows.push(terms);
    }
    return rows;
  }

  // ---- labels -------------------------------------------------------------------------------

  function labelScore(binding) {
    const language = (binding["xml:lang"] || "").toLowerCase();
    if (!language) return 1;
    if (language === page.language || language.startsWith(page.language + "-")) return 3;
    return language.startsWith("en") || language.startsWith("zh") ? 2 : 0;
  }

  /** Fetch labels for the IRIs in the table with one query, then show them. */
  async function showLabels(signal) {
    const iris = Array.from(iriElements.keys())
      .filter((iri) => /^[^<>"{}|^`\\\u0000-\u0020]+$/.test(iri))
      .slice(0, MAX_LABELLED_IRIS);
    if (!iris.length) return;
    const p = page.prefixes;
    const query =
      "PREFIX rdfs: <" + p.rdfs + ">\nPREFIX skos: <" + p.skos + ">\nPREFIX schema: <" + p.schema + ">\n" +
      "PREFIX dcterms: <" + p.dcterms + ">\nPREFIX foaf: <" + p.foaf + ">\n" +
      "SELECT ?iri ?label WHERE {\n  VALUES ?iri { " + iris.map((iri) => "<" + iri + ">").join(" ") + " }\n" +
      "  ?iri rdfs:label|skos:prefLabel|schema:name|dcterms:title|foaf:name ?label .\n" +
      "  FILTER(isLiteral(?label))\n}";
    let answer;
    try {
      const response = await fetch(page.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/sparql-results+json" },
        body: new URLSearchParams({ query: query }),
        signal: signal,
      });
      if (!response.ok) return;
      answer = await response.json();
    } catch (error) {
      return; // labels are a nicety: the table is complete without them
    }
    const best = new Map();
    for (const row of answer.results.bindings) {
      const iri = row.iri.value;
      const score = labelScore(row.label);
      const current = best.get(iri);
      if (!current || score > current.score || (score === current.score && row.label.value < current.label.value)) {
        best.set(iri, { score: score, label: row.label });
      }
    }
    for (const [iri, { label }] of best) {
      knownLabels.set(iri, label);
      applyLabel(iri, label);
    }
  }

  // ---- the share link and downloads -----------------------------------------------------------

  function pageUrl(text) {
    const url = new URL(page.page_path, window.location.href);
    url.searchParams.set("query", text);
    if (page.chosen_language) url.searchParams.set("lang", page.chosen_language);
    return url;
  }

  function currentExample(text) {
    return page.examples.find((example) => example.text === text) || null;
  }

  /** Show the stored question beside the editor (its text has no header lines). */
  function showQuestion(example) {
    if (!questionBox) return;
    questionBox.hidden = !example;
    if (!example) return;
    questionSummary.textContent = example.summary;
    questionSummary.lang = example.summary_lang;
    questionDescription.textContent = example.description;
    questionDescription.lang = example.description_lang || "en";
  }

  // ---- short share links that keep the view ---------------------------------------------------
  //
  // A stored question is shared by its name (?example=NAME); any other query as its raw DEFLATE
  // bytes in base64url (?z=…, which the server inflates: the server keeps no state), when that
  // is shorter than the text. The view (a chart, which columns, a graph drawing) goes along.

  let sharedText = null;
  let pendingView = page.view && page.view.kind !== "table" ? page.view : null;

  async function packQuery(text) {
    if (!window.CompressionStream) return null;
    const stream = new Blob([new TextEncoder().encode(text)]).stream().pipeThrough(new CompressionStream("deflate-raw"));
    const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  /** The answer's current view, read from its switch: {kind, value, category}. */
  function currentView() {
    const view = { kind: "table", value: null, category: null };
    const pressed = body.querySelector(".view-switch button[aria-pressed='true']");
    if (pressed) view.kind = pressed.dataset.view;
    if (view.kind === "bar" || view.kind === "line") {
      for (const select of body.querySelectorAll(".view-switch select[data-choice]")) {
        view[select.dataset.choice] = select.selectedOptions[0].textContent.replace(/^\?/, "");
      }
    }
    return view;
  }

  async function shareUrl(text, view) {
    const url = new URL(page.page_path, window.location.href);
    const example = currentExample(text);
    if (example) url.searchParams.set("example", example.name);
    else {
      const packed = await packQuery(text).catch(() => null);
      if (packed && packed.length < encodeURIComponent(text).length) url.searchParams.set("z", packed);
      else url.searchParams.set("query", text);
    }
    if (view.kind !== "table") {
      url.searchParams.set("view", view.kind);
      if (view.value) url.searchParams.set("value", view.value);
      if (view.category) url.searchParams.set("category", view.category);
    }
    if (page.chosen_language) url.searchParams.set("lang", page.chosen_language);
    return url;
  }

  function updateShare() {
    const text = sharedText;
    if (text === null) return;
    shareUrl(text, currentView()).then((url) => {
      if (text === sharedText) shareInput.value = url.href;
    });
  }

  /** Show the view a share link asked for, once, when its answer is first drawn. */
  function applyPendingView() {
    const view = pendingView;
    pendingView = null;
    if (!view) return;
    for (const select of body.querySelectorAll(".view-switch select[data-choice]")) {
      const wanted = view[select.dataset.choice];
      const option = wanted && Array.from(select.options).find((item) => item.textContent.replace(/^\?/, "") === wanted);
      if (option) {
        select.value = option.value;
        select.dispatchEvent(new Event("change"));
      }
    }
    const button = body.querySelector(`.view-switch button[data-view="${view.kind}"]`);
    if (button && !button.disabled) button.click();
  }

  // The view switch is redrawn with every answer: follow it from here.
  body.addEventListener("click", (event) => {
    if (event.target.closest(".view-switch button[data-view]")) updateShare();
  });
  body.addEventListener("change", (event) => {
    if (event.target.closest(".view-switch select")) updateShare();
  });

  /** The share link, and the downloads of the answer's forms (none when the query failed). */
  function showLinks(userText, completedText, isGraph, failed) {
    const share = pageUrl(userText);
    shareInput.value = share.href;
    sharedText = userText;
    updateShare();
    downloadLinks.replaceChildren();
    downloadLinks.parentElement.hidden = failed;
    let tooLong = share.pathname.length + share.search.length > MAX_LINK_LENGTH;
    const formats = failed ? [] : isGraph ? page.formats.rdf : page.formats.results;
    formats.forEach((fmt, index) => {
      const url = new URL(page.endpoint, window.location.href);
      url.searchParams.set("query", completedText);
      url.searchParams.set("format", fmt.name);
      tooLong = tooLong || url.pathname.length + url.search.length > MAX_LINK_LENGTH;
      if (index) downloadLinks.append(" · ");
      downloadLinks.append(
        el("a", { href: url.href, download: "results." + fmt.extension, type: fmt.media_type, text: fmt.label })
      );
      if (fmt.name === "csv") {
        // The same CSV with a byte-order mark, so that Excel reads its Chinese as UTF-8.
        const excel = new URL(url.href);
        excel.searchParams.set("bom", "1");
        downloadLinks.append(" · ", el("a", { href: excel.href, download: "results-excel.csv", type: fmt.media_type, text: t.csv_excel }));
      }
    });
    linkTooLong.hidden = !tooLong;
    for (const link of document.querySelectorAll("[data-lang-link]")) {
      const url = new URL(link.href);
      url.searchParams.set("query", userText);
      link.href = url.href;
    }
    tools.hidden = false;
  }

  copyButton.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(shareInput.value);
    } catch (error) {
      shareInput.select();
      document.execCommand("copy");
    }
    copyButton.textContent = t.copied;
    setTimeout(() => (copyButton.textContent = t.copy_link), 1500);
  });

  // ---- running a query ------------------------------------------------------------------------

  let running = null; // { controller, timer }

  function setRunning(active) {
    runButton.disabled = active;
    stopButton.hidden = !active;
    results.setAttribute("aria-busy", active ? "true" : "false");
  }

  /**
   * Say the outcome of a run once (the live region), and bring the results into view when they
   * start below or above the screen: on a phone they are far below the editor and the questions.
   */
  function reveal(outcome) {
    announcer.textContent = outcome;
    const top = results.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight * 0.75) {
      const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      results.scrollIntoView({ block: "start", behavior: still ? "auto" : "smooth" });
    }
  }

  function showError(heading, detail) {
    errorBox.replaceChildren(el("strong", { text: heading }));
    if (detail && detail.trim()) {
      errorBox.append(el("p", { className: "error-detail-label", text: t.error_detail }));
      errorBox.append(el("pre", { lang: "en", text: detail.trim() }));
    }
    errorBox.hidden = false;
  }

  /**
   * A syntax error, placed at the user's own line and column: the query sent to the endpoint
   * had `addedLines` PREFIX lines before the user's text, so the engine's line numbers are
   * shifted by that many. The engine's excerpt (which shows the shifted text) is replaced by
   * the user's own line with a caret.
   */
  function showSyntaxError(detail, userText, addedLines) {
    const found = /error at (\d+):(\d+)/.exec(detail) || /line (\d+), column (\d+)/.exec(detail);
    if (!found) {
      showError(t.bad_query, detail);
      return;
    }
    const line = Number(found[1]) - addedLines;
    const column = Number(found[2]);
    const message = detail
      .split("\n")[0]
      .replace(/error at \d+:\d+/, "error at " + line + ":" + column)
      .replace(/\(line \d+, column \d+\)/, "(line " + line + ", column " + column + ")");
    const lines = userText.split("\n");
    const excerpt = line >= 1 && line <= lines.length ? lines[line - 1] + "\n" + " ".repeat(Math.max(column - 1, 0)) + "^" : "";
    showError(t.bad_query + " " + format(t.error_at, { line: line, column: column }), message + (excerpt ? "\n\n" + excerpt : ""));
    editor.markError(line, column, message);
  }

  function errorDetail(text) {
    try {
      const parsed = JSON.parse(text);
      if (parsed && typeof parsed.error === "string") return parsed.error;
    } catch (error) {
      // not JSON: the plain-text message itself
    }
    return text;
  }

  async function run(options) {
    const userText = editor.value;
    if (!userText.trim()) {
      editor.focus();
      return;
    }
    if (running) running.controller.abort();
    const completed = completePrefixes(userText, page.prefixes);
    if (options.updateUrl) {
      const url = pageUrl(userText);
      if (url.href !== window.location.href) window.history.pushState({ query: userText }, "", url.href);
    }
    highlightExample(userText);

    const controller = new AbortController();
    const started = performance.now();
    const timer = setInterval(() => {
      const elapsed = Math.floor((performance.now() - started) / 1000);
      statusLine.textContent = format(t.running_for, { seconds: elapsed, limit: page.query_timeout });
    }, 1000);
    running = { controller: controller, timer: timer };
    const mine = running;
    results.hidden = false;
    errorBox.hidden = true;
    truncatedBox.hidden = true;
    body.replaceChildren();
    iriElements = new Map();
    knownLabels = new Map();
    editor.clearErrors();
    statusLine.textContent = t.running;
    announcer.textContent = "";
    prefixesAdded.hidden = !completed.added.length;
    prefixesAdded.textContent = format(t.prefixes_added, {
      prefixes: completed.added.map((prefix) => prefix + ":").join(" "),
    });
    setRunning(true);

    try {
      const response = await fetch(page.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: ACCEPT },
        body: new URLSearchParams({ query: completed.text }),
        signal: controller.signal,
      });
      const text = await response.text();
      const elapsed = seconds(performance.now() - started);
      if (running !== mine) return;
      const contentType = (response.headers.get("Content-Type") || "").split(";")[0].trim();
      const isGraph = contentType !== "application/sparql-results+json";
      showLinks(userText, completed.text, isGraph, !response.ok);
      if (!response.ok) {
        statusLine.textContent = "";
        // Every 503 says when to come back (Retry-After); X-Govkg-Error says why.
        const kind = response.headers.get("X-Govkg-Error");
        if (response.status === 503 && kind === "timed-out") showError(format(t.timeout, { seconds: page.query_timeout }), errorDetail(text));
        else if (response.status === 503 && kind === "out-of-memory") showError(t.out_of_memory, errorDetail(text));
        else if (response.status === 503) showError(t.busy, errorDetail(text));
        else if (response.status === 403) showError(t.read_only, errorDetail(text));
        else if (response.status === 400) showSyntaxError(errorDetail(text), userText, completed.added.length);
        else if (response.status === 413) showError(t.too_large, errorDetail(text));
        else showError(format(t.failed, { status: response.status }), errorDetail(text));
        return;
      }
      if ((response.headers.get("X-Govkg-Truncated") || "").trim().toLowerCase() === "true") {
        const limit = response.headers.get("X-Govkg-Max-Rows") || page.max_result_rows;
        truncatedBox.textContent = format(t.truncated, { limit: limit });
        truncatedBox.hidden = false;
      }
      renderAnswer(contentType, text, elapsed);
      applyPendingView();
      reveal(statusLine.textContent || body.textContent);
      showLabels(controller.signal);
    } catch (error) {
      if (running !== mine) return;
      statusLine.textContent = "";
      if (error.name === "AbortError") statusLine.textContent = t.stopped;
      else showError(t.unreachable, "");
    } finally {
      clearInterval(timer);
      if (running === mine) {
        running = null;
        setRunning(false);
      }
    }
  }

  function renderAnswer(contentType, text, elapsed) {
    if (contentType === "application/sparql-results+json") {
      const answer = JSON.parse(text);
      if (typeof answer.boolean === "boolean") {
        statusLine.textContent = "";
        body.replaceChildren(
          el("p", { className: "answer-boolean", text: answer.boolean ? t.answer_yes : t.answer_no })
        );
        return;
      }
      const variables = answer.head.vars || [];
      const bindings = answer.results.bindings;
      const rows = bindings.map((binding) => variables.map((name) => binding[name]));
      statusLine.textContent =
        rows.length === 1 ? format(t.one_row, { seconds: elapsed }) : format(t.rows, { count: rows.length, seconds: elapsed });
      showRows(variables.map((name) => "?" + name), rows);
      return;
    }
    const triples = contentType === "application/n-triples" ? parseNTriples(text) : null;
    if (triples) {
      statusLine.textContent = format(t.triples, { count: triples.length, seconds: elapsed });
      showRows([t.col_subject, t.col_predicate, t.col_object], triples, { graph: true });
      return;
    }
    statusLine.textContent = "";
    body.replaceChildren(el("pre", { className: "answer-text", text: text }));
  }

  /** The table / bars / line switch for an answer with a numeric column; `.chart` is its chart. */
  function chartSwitch(headings, rows, chartable, tableWrap) {
    // The values: the last numeric column (ordering keys such as a position tend to come first);
    // the bars' names: the other column with the most distinct values. Both can be changed.
    let valueIndex = chartable[chartable.length - 1];
    const others = headings.map((_, index) => index).filter((index) => !chartable.includes(index));
    const distinct = (index) => new Set(rows.map((row) => (row[index] ? row[index].value : ""))).size;
    let categoryIndex = others.reduce((best, index) => (best < 0 || distinct(index) > distinct(best) ? index : best), -1);
    // One axis holds one unit: with a unit column (unit, unit_en, unit_zh …) whose rows differ,
    // one unit is drawn at a time, chosen here (ranks, percentages and counts never share an axis).
    const bare = (index) => headings[index].replace(/^\?/, "").toLowerCase();
    const unitColumns = headings.map((heading, index) => index).filter((index) => /^unit(_|$)/.test(bare(index)));
    const unitIndex = unitColumns.find((index) => bare(index) === "unit_" + page.language) ?? unitColumns[0] ?? -1;
    const unitOf = (row) => (unitIndex >= 0 && row[unitIndex] ? row[unitIndex].value : "");
    const units = [...new Set(rows.filter((row) => isNumericTerm(row[valueIndex])).map(unitOf))];
    let chosenUnit = units[0];
    const unitNote = el("p", { className: "hint", text: format(t.chart_units, { count: units.length }) });
    unitNote.hidden = units.length < 2;
    const chart = el("div", {
      className: "chart result-chart",
      role: "img",
      "aria-label": format(t.chart_of, { value: headings[valueIndex], category: headings[categoryIndex] || "#" }),
    });
    chart.hidden = true;
    const views = el("div", { className: "view-switch", role: "group", "aria-label": t.views });
    const shownText = (term, index) => {
      if (!term) return String(index + 1);
      if (term.type !== "uri") return term.value;
      return knownLabels.has(term.value) ? knownLabels.get(term.value).value : compact(term.value) || term.value;
    };
    const buttons = [["table", t.view_table], ["bar", t.view_bar], ["line", t.view_line]].map(([kind, text]) => {
      const button = el("button", { type: "button", className: "button-secondary", "aria-pressed": String(kind === "table"), "data-view": kind, text: text });
      button.addEventListener("click", () => {
        for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
        tableWrap.hidden = kind !== "table";
        chart.hidden = kind === "table";
        if (kind === "table") return;
        const points = rows
          .filter((row) => isNumericTerm(row[valueIndex]) && (units.length < 2 || unitOf(row) === chosenUnit))
          .map((row, index) => {
            const category = categoryIndex >= 0 ? row[categoryIndex] : null;
            const shown = shownText(category, index);
            const href = category && category.type === "uri" && isWebIri(category.value) ? localHref(category.value) : null;
            return { category: shown, value: Number(row[valueIndex].value), label: shown, unit: "", href: href, current: false };
          });
        const unit = units.length < 2 ? units[0] : chosenUnit;
        const axis = unit ? headings[valueIndex] + (page.language === "zh" ? "（" + unit + "）" : " (" + unit + ")") : headings[valueIndex];
        const data = { title: headings[valueIndex], measure: headings[valueIndex], axis: axis, language: page.language, points: points };
        chart.setAttribute("aria-label", format(t.chart_of, { value: headings[valueIndex], category: headings[categoryIndex] || "#" }));
        loadBundle("charts_script", "govkgCharts").then(
          () => window.govkgCharts.draw(chart, data, { kind: kind }),
          () => {
            chart.hidden = true;
            tableWrap.hidden = false;
          }
        );
      });
      return button;
    });
    const selector = (label, indexes, current, choose, choice) => {
      const select = el("select", { "aria-label": label, "data-choice": choice }, indexes.map((index) => el("option", { value: String(index), text: headings[index] })));
      select.value = String(current);
      select.addEventListener("change", () => {
        choose(Number(select.value));
        const pressed = buttons.find((button) => button.getAttribute("aria-pressed") === "true");
        if (pressed && pressed.dataset.view !== "table") pressed.click();
      });
      return el("label", { className: "chart-choice" }, [label + " ", select]);
    };
    views.append(...buttons);
    if (chartable.length > 1) views.append(selector(t.chart_value, chartable, valueIndex, (index) => (valueIndex = index), "value"));
    if (others.length > 1) views.append(selector(t.chart_category, others, categoryIndex, (index) => (categoryIndex = index), "category"));
    if (units.length > 1) {
      const select = el("select", { "aria-label": t.chart_unit, "data-choice": "unit" }, units.map((unit) => el("option", { value: unit, text: unit || t.chart_no_unit })));
      select.addEventListener("change", () => {
        chosenUnit = select.value;
        const pressed = buttons.find((button) => button.getAttribute("aria-pressed") === "true");
        if (pressed && pressed.dataset.view !== "table") pressed.click();
      });
      views.append(el("label", { className: "chart-choice" }, [t.chart_unit + " ", select]), unitNote);
    }
    views.chart = chart;
    return views;
  }

  // ---- the graph view of CONSTRUCT / DESCRIBE answers --------------------------------------

  const MAX_GRAPH_TRIPLES = 300;
  const bundles = {};

  /** A bundle the page does not load up front (page[key] is its URL; it sets window[name]),
   * fetched the first time it is needed: vendor/editor.js (CodeMirror, after the first paint),
   * vendor/charts.js (ECharts), vendor/graph.js (Cytoscape). */
  function loadBundle(key, name) {
    if (window[name]) return Promise.resolve();
    if (!bundles[key]) {
      bundles[key] = new Promise((resolve, reject) => {
        const script = el("script", { src: page[key] });
        script.addEventListener("load", () => resolve());
        script.addEventListener("error", () => {
          bundles[key] = null;
          reject(new Error(key));
        });
        document.head.append(script);
      });
    }
    return bundles[key];
  }

  function loadGraphBundle() {
    return loadBundle("graph_script", "govkgGraph");
  }

  /** Nodes (subjects and objects) and edges (predicates) of triples, named as the table names them. */
  function graphData(triples) {
    const nodes = new Map();
    const name = (term) => {
      if (term.type === "uri") return knownLabels.has(term.value) ? knownLabels.get(term.value).value : compact(term.value) || term.value;
      if (term.type === "bnode") return "_:" + term.value;
      return term.value;
    };
    const node = (term, index) => {
      // Each literal is its own node: two equal numbers are not one thing.
      const id = term.type === "literal" || term.type === "typed-literal" ? "literal " + index : term.type + " " + term.value;
      if (!nodes.has(id)) {
        const literal = id.startsWith("literal ");
        const href = term.type === "uri" && isWebIri(term.value) ? localHref(term.value) : null;
        nodes.set(id, { id: id, label: name(term), href: href, role: literal ? "literal" : "out" });
      }
      return id;
    };
    const edges = triples.map((triple, index) => ({ source: node(triple[0], index), target: node(triple[2], index), label: name(triple[1]) }));
    return { nodes: Array.from(nodes.values()), edges: edges, language: page.language };
  }

  /** The table / graph switch of a graph answer; `.chart` is the graph's element. */
  function graphSwitch(triples, tableWrap) {
    const graph = el("div", { className: "graph result-graph", role: "img", "aria-label": format(t.graph_of, { count: triples.length }), "aria-description": t.graph_keys });
    graph.hidden = true;
    const views = el("div", { className: "view-switch", role: "group", "aria-label": t.views });
    const tooBig = triples.length > MAX_GRAPH_TRIPLES;
    const buttons = [["table", t.view_table], ["graph", t.view_graph]].map(([kind, text]) => {
      const button = el("button", { type: "button", className: "button-secondary", "aria-pressed": String(kind === "table"), "data-view": kind, text: text });
      if (kind === "graph" && tooBig) {
        button.disabled = true;
        button.title = format(t.graph_too_big, { limit: MAX_GRAPH_TRIPLES, count: triples.length });
      }
      button.addEventListener("click", async () => {
        for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
        tableWrap.hidden = kind !== "table";
        graph.hidden = kind === "table";
        if (kind === "table") return;
        try {
          await loadGraphBundle();
        } catch (error) {
          buttons[0].click(); // without the drawing library the table is the answer
          return;
        }
        window.govkgGraph.draw(graph, graphData(triples));
      });
      return button;
    });
    views.append(...buttons);
    if (tooBig) views.append(el("span", { className: "hint", text: format(t.graph_too_big, { limit: MAX_GRAPH_TRIPLES, count: triples.length }) }));
    views.chart = graph;
    return views;
  }

  function showRows(headings, rows, options) {
    if (!rows.length) {
      body.replaceChildren(el("p", { className: "no-results", text: t.no_results }));
      return;
    }
    const tableWrap = el("div", { className: "table-wrap" }, [tableNode(headings, rows)]);
    const parts = [];
    if (rows.length > MAX_SHOWN_ROWS) {
      parts.push(el("p", { className: "hint", text: format(t.shown_rows, { shown: MAX_SHOWN_ROWS, count: rows.length }) }));
    }
    const chartable = headings.length > 1 ? numericColumns(rows, headings.length) : [];
    if (options && options.graph) {
      parts.push(graphSwitch(rows, tableWrap));
    } else if (chartable.length && rows.length <= 200) {
      parts.push(chartSwitch(headings, rows, chartable, tableWrap));
    }
    parts.push(tableWrap);
    if (parts.length > 1 && parts[parts.length - 2].chart) parts.push(parts[parts.length - 2].chart);
    body.replaceChildren(...parts);
  }

  // ---- examples, form, history --------------------------------------------------------------

  const exampleLinks = Array.from(document.querySelectorAll("a[data-example]"));
  const exampleTexts = new Map(page.examples.map((example) => [example.name, example.text]));

  function highlightExample(text) {
    for (const link of exampleLinks) {
      const active = exampleTexts.get(link.dataset.example) === text;
      link.classList.toggle("active", active);
      if (active) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    }
  }

  const filter = document.getElementById("example-filter");
  filter.addEventListener("input", () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const link of exampleLinks) {
      const text = (link.textContent + " " + link.dataset.example).toLowerCase();
      link.parentElement.hidden = !words.every((word) => text.includes(word));
    }
  });

  for (const link of exampleLinks) {
    link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      editor.value = exampleTexts.get(link.dataset.example);
      showQuestion(currentExample(editor.value));
      run({ updateUrl: true });
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run({ updateUrl: true });
  });

  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run({ updateUrl: true });
    }
  });

  stopButton.addEventListener("click", () => {
    if (running) running.controller.abort();
  });

  window.addEventListener("popstate", () => {
    const query = new URL(window.location.href).searchParams.get("query");
    if (query !== null) {
      editor.value = query;
      showQuestion(currentExample(query));
      run({ updateUrl: false });
    }
  });

  // For tests and the curious: the prefix completion the page applies.
  window.govkgQueryPage = {
    completePrefixes: (text) => completePrefixes(text, page.prefixes),
    setQuery: (text) => {
      editor.value = text;
      showQuestion(currentExample(text));
    },
    getQuery: () => editor.value,
  };

  highlightExample(editor.value);
  if (page.run_on_load) run({ updateUrl: false });
})();
