/* govkg query page: runs the editor's SPARQL in place and shows the answer as a table.
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

  function isWebIri(iri) {
    return /^https?:\/\/[^\s]+$/i.test(iri);
  }

  // ---- elements ---------------------------------------------------------------------------

  const form = document.getElementById("query-form");
  const editor = document.getElementById("query");
  const runButton = document.getElementById("run-query");
  const stopButton = document.getElementById("stop-query");
  const results = document.getElementById("results");
  const statusLine = document.getElementById("result-status");
  const errorBox = document.getElementById("result-error");
  const truncatedBox = document.getElementById("result-truncated");
  const tools = document.getElementById("result-tools");
  const shareInput = document.getElementById("share-url");
  const copyButton = document.getElementById("copy-share");
  const downloadLinks = document.getElementById("download-links");
  const linkTooLong = document.getElementById("link-too-long");
  const prefixesAdded = document.getElementById("prefixes-added");
  const body = document.getElementById("result-body");

  document.documentElement.classList.add("js");
  for (const node of document.querySelectorAll(".js-only")) node.hidden = false;

  // ---- rendering terms --------------------------------------------------------------------

  // Elements showing an IRI, by IRI, so that labels can be filled in when they arrive.
  let iriElements = new Map();

  function iriNode(iri) {
    const short = compact(iri);
    const link = isWebIri(iri);
    const node = el(link ? "a" : "span", { className: "term-iri", title: iri, text: short || iri });
    if (link) {
      node.href = iri;
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

  function literalNode(value, language, datatype) {
    const literal = el("span", { className: "literal", lang: language || undefined, text: value });
    const parts = [literal];
    if (language) {
      parts.push(el("span", { className: "term-note", text: "@" + language }));
    } else if (datatype && PLAIN_DATATYPES.has(datatype)) {
      literal.title = compact(datatype) || datatype;
    } else if (datatype && datatype !== RDF_LANG_STRING) {
      parts.push(el("span", { className: "term-note", title: datatype, text: compact(datatype) || datatype }));
    }
    const numeric = datatype && /#(integer|decimal|double|float|int|long|nonNegativeInteger)$/.test(datatype);
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

  function tableNode(headings, rows) {
    const headRow = el("tr", {}, headings.map((heading) => el("th", { scope: "col", text: heading })));
    const shown = rows.slice(0, MAX_SHOWN_ROWS);
    const bodyRows = shown.map((cells) => el("tr", {}, cells.map((cell) => el("td", {}, [termNode(cell)]))));
    return el("table", { className: "results-table" }, [el("thead", {}, [headRow]), el("tbody", {}, bodyRows)]);
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
      for (const { node, holder, short } of iriElements.get(iri) || []) {
        node.textContent = label.value;
        if (label["xml:lang"]) node.lang = label["xml:lang"];
        holder.append(el("span", { className: "term-note", title: iri, text: short }));
      }
    }
  }

  // ---- the share link and downloads -----------------------------------------------------------

  function pageUrl(text) {
    const url = new URL(page.page_path, window.location.href);
    url.searchParams.set("query", text);
    return url;
  }

  function showLinks(userText, completedText, isGraph) {
    const share = pageUrl(userText);
    shareInput.value = share.href;
    downloadLinks.replaceChildren();
    let tooLong = share.pathname.length + share.search.length > MAX_LINK_LENGTH;
    const formats = isGraph ? page.formats.rdf : page.formats.results;
    formats.forEach((fmt, index) => {
      const url = new URL(page.endpoint, window.location.href);
      url.searchParams.set("query", completedText);
      url.searchParams.set("format", fmt.name);
      tooLong = tooLong || url.pathname.length + url.search.length > MAX_LINK_LENGTH;
      if (index) downloadLinks.append(" · ");
      downloadLinks.append(
        el("a", { href: url.href, download: "results." + fmt.extension, type: fmt.media_type, text: fmt.label })
      );
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

  function showError(heading, detail) {
    errorBox.replaceChildren(el("strong", { text: heading }));
    if (detail && detail.trim()) errorBox.append(el("pre", { text: detail.trim() }));
    errorBox.hidden = false;
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
    statusLine.textContent = t.running;
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
      showLinks(userText, completed.text, isGraph);
      if (!response.ok) {
        statusLine.textContent = "";
        if (response.status === 503 && response.headers.has("Retry-After")) showError(t.busy, errorDetail(text));
        else if (response.status === 503) showError(format(t.timeout, { seconds: page.query_timeout }), errorDetail(text));
        else if (response.status === 403) showError(t.read_only, errorDetail(text));
        else if (response.status === 400) showError(t.bad_query, errorDetail(text));
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
      showRows(["subject", "predicate", "object"], triples);
      return;
    }
    statusLine.textContent = "";
    body.replaceChildren(el("pre", { className: "answer-text", text: text }));
  }

  function showRows(headings, rows) {
    if (!rows.length) {
      body.replaceChildren(el("p", { className: "no-results", text: t.no_results }));
      return;
    }
    const parts = [tableNode(headings, rows)];
    if (rows.length > MAX_SHOWN_ROWS) {
      parts.unshift(el("p", { className: "hint", text: format(t.shown_rows, { shown: MAX_SHOWN_ROWS, count: rows.length }) }));
    }
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
      run({ updateUrl: true });
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run({ updateUrl: true });
  });

  editor.addEventListener("keydown", (event) => {
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
      run({ updateUrl: false });
    }
  });

  // For tests and the curious: the prefix completion the page applies.
  window.govkgQueryPage = { completePrefixes: (text) => completePrefixes(text, page.prefixes) };

  highlightExample(editor.value);
  if (page.run_on_load) run({ updateUrl: false });
})();
