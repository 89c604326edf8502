/* The query page's SPARQL editor: CodeMirror 6 with the SPARQL mode of @codemirror/legacy-modes.
 *
 * Built by `npm run build` into server/web/static/vendor/editor.js (an IIFE that sets
 * window.govkgEditor). It replaces the page's <textarea> (which stays in the form, kept in
 * step with the editor, so the form still submits) and adds line numbers, highlighting,
 * bracket matching, a search panel, completion of the known prefixes, SPARQL keywords, the
 * terms of every known prefix and resource labels in both languages, and error marks at the
 * user's own line and column.
 * Everything it needs comes from this server: no other network.
 */
import { autocompletion, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, HighlightStyle, StreamLanguage, syntaxHighlighting } from "@codemirror/language";
import { sparql } from "@codemirror/legacy-modes/mode/sparql";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { tags } from "@lezer/highlight";

const KEYWORDS = [
  "SELECT", "DISTINCT", "REDUCED", "WHERE", "FILTER", "OPTIONAL", "UNION", "MINUS", "GRAPH", "SERVICE",
  "BIND", "VALUES", "ORDER BY", "GROUP BY", "HAVING", "LIMIT", "OFFSET", "ASK", "CONSTRUCT", "DESCRIBE",
  "PREFIX", "BASE", "FROM", "FROM NAMED", "NOT EXISTS", "EXISTS", "COUNT", "SUM", "MIN", "MAX", "AVG",
  "SAMPLE", "GROUP_CONCAT", "LANG", "LANGMATCHES", "STR", "CONTAINS", "STRSTARTS", "REGEX", "ASC", "DESC",
];

// Colours chosen for at least 4.5:1 contrast on the editor's white background.
const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: "#7a1f8f", fontWeight: "600" },
  { tag: [tags.variableName, tags.special(tags.variableName)], color: "#0b5a7a" },
  { tag: tags.string, color: "#2f6b12" },
  { tag: tags.number, color: "#8a4600" },
  { tag: tags.comment, color: "#5b6475", fontStyle: "italic" },
  { tag: [tags.atom, tags.url, tags.link], color: "#1a4f9c" },
  { tag: tags.operator, color: "#3f4757" },
  { tag: tags.meta, color: "#8a4600" },
]);

const theme = EditorView.theme({
  // As tall as its box (.code-editor, the textarea's height), scrolled inside: it comes on after
  // the first paint, and a height of its own would move what follows.
  "&": { height: "100%", fontSize: "0.92rem", border: "1px solid #b9bec8", borderRadius: "4px", backgroundColor: "#fff" },
  "&.cm-focused": { outline: "2px solid #1a4f9c", outlineOffset: "1px" },
  ".cm-scroller": { fontFamily: 'ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace', lineHeight: "1.5" },
  ".cm-gutters": { backgroundColor: "#f5f6f8", color: "#525b6b", borderRight: "1px solid #dde1e7" },
  ".cm-activeLine": { backgroundColor: "#f3f6fb" },
  ".cm-activeLineGutter": { backgroundColor: "#e8edf5", color: "#1d2330" },
  ".cm-tooltip-autocomplete ul li[aria-selected]": { backgroundColor: "#1a4f9c", color: "#fff" },
  ".cm-completionDetail": { color: "inherit", opacity: "0.85", marginLeft: "0.6em", fontStyle: "normal" },
  // @codemirror/lint draws its marks as data: SVG images, which the site's CSP (img-src 'self')
  // refuses: the same marks in plain CSS instead.
  ".cm-lint-marker": { width: "0.75em", height: "0.75em", margin: "0.3em 0.15em", borderRadius: "50%" },
  ".cm-lint-marker-error": { content: "normal", backgroundColor: "#c5221f", boxShadow: "0 0 0 2px #f6c9c7" },
  ".cm-lint-marker-warning": { content: "normal", backgroundColor: "#b06000" },
  ".cm-lint-marker-info": { content: "normal", backgroundColor: "#5b6475" },
  ".cm-lintRange": { backgroundImage: "none", paddingBottom: "0" },
  ".cm-lintRange-error": { textDecoration: "underline wavy #c5221f", textDecorationSkipInk: "none", textUnderlineOffset: "3px" },
  ".cm-lintRange-warning": { textDecoration: "underline wavy #b06000", textDecorationSkipInk: "none", textUnderlineOffset: "3px" },
});

/** The word source: keywords, prefixes and the prefixed terms of every known namespace. */
function completionSource(getData) {
  return (context) => {
    const word = context.matchBefore(/[\p{L}\p{N}_:\-.]+/u);
    if (!word || (word.from === word.to && !context.explicit)) return null;
    const data = getData();
    const text = word.text;
    const options = [];
    for (const [prefix, namespace] of Object.entries(data.prefixes || {})) {
      options.push({ label: prefix + ":", type: "namespace", detail: namespace, boost: 2 });
    }
    for (const term of data.terms || []) {
      options.push({ label: term.name, type: "property", detail: term.label, boost: 1 });
    }
    if (!text.includes(":")) {
      for (const keyword of KEYWORDS) options.push({ label: keyword, type: "keyword" });
    }
    return { from: word.from, options: options, validFor: /^[\p{L}\p{N}_:\-.]*$/u };
  };
}

/**
 * The label source: the resources whose label (in either language) holds the words before the
 * cursor, spaces included ("Duan Inkstone", "端砚石"), completed to their IRI. The longest run of
 * words that some label holds is replaced.
 */
function labelSource(getData) {
  return (context) => {
    const line = context.state.doc.lineAt(context.pos);
    const before = line.text.slice(0, context.pos - line.from);
    const run = /[\p{L}\p{N}][\p{L}\p{N}_\-.·'’ ]*$/u.exec(before);
    if (!run || (run[0].length < 2 && !context.explicit)) return null;
    const resources = getData().resources || [];
    // Not from inside a prefixed name, a variable or an IRI (the run's first word then is one).
    const starts = run.index > 0 && ":?$<_".includes(before[run.index - 1]) ? [] : [0];
    for (let index = 1; index < run[0].length; index++) {
      if (run[0][index - 1] === " " && run[0][index] !== " ") starts.push(index);
    }
    for (const start of starts) {
      const wanted = run[0].slice(start).toLowerCase();
      const found = resources.filter((resource) => resource.label && resource.label.toLowerCase().includes(wanted));
      if (!found.length) continue;
      const options = found.slice(0, 50).map((resource) => ({
        label: resource.label,
        type: "variable",
        detail: resource.short,
        apply: "<" + resource.iri + ">",
      }));
      return { from: line.from + run.index + start, options: options, filter: false };
    }
    return null;
  };
}

/**
 * Replace `textarea` with an editor. `options.onRun()` is called on Ctrl/Cmd+Enter;
 * `options.completions` is a URL answering {prefixes, terms, resources}; `options.prefixes`
 * are used until it answers.
 */
function create(textarea, options) {
  let data = { prefixes: options.prefixes || {}, terms: [], resources: [] };
  const shortName = (iri) => {
    let best = null;
    for (const [prefix, namespace] of Object.entries(data.prefixes)) {
      if (iri.startsWith(namespace) && (!best || namespace.length > best[1].length)) best = [prefix, namespace];
    }
    return best ? best[0] + ":" + iri.slice(best[1].length) : iri;
  };
  const state = EditorState.create({
    doc: textarea.value,
    extensions: [
      lineNumbers(),
      highlightActiveLineGutter(),
      history(),
      drawSelection(),
      bracketMatching(),
      highlightActiveLine(),
      StreamLanguage.define(sparql),
      syntaxHighlighting(highlight),
      autocompletion({ override: [completionSource(() => data), labelSource(() => data)], activateOnTyping: true }),
      lintGutter(),
      keymap.of([
        { key: "Mod-Enter", run: () => { options.onRun(); return true; } },
        ...completionKeymap,
        ...defaultKeymap,
        ...historyKeymap,
        indentWithTab,
      ]),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({
        // aria-labelledby cannot reach the page's <label> from inside the shadow root.
        "aria-label": options.label || "",
        // Tab indents here; Esc then Tab moves on (CodeMirror's tab focus mode), as the page says.
        "aria-description": options.keyboardHint || "",
        "aria-multiline": "true",
        spellcheck: "false",
        autocapitalize: "off",
        autocorrect: "off",
      }),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) {
          textarea.value = update.state.doc.toString();
          if (options.onChange) options.onChange();
        }
      }),
      theme,
    ],
  });
  // The editor lives in a shadow root: CodeMirror then styles it with constructed style sheets
  // (adoptedStyleSheets), which the site's Content-Security-Policy (no inline style) allows;
  // in the document itself it would add <style> elements, which that policy blocks.
  const host = document.createElement("div");
  host.className = "code-editor";
  textarea.parentNode.insertBefore(host, textarea);
  const shadow = host.attachShadow({ mode: "open" });
  const view = new EditorView({ state: state, parent: shadow, root: shadow });
  textarea.hidden = true;

  // The box says when the completions have answered (data-completions: loading, then loaded or
  // failed), for whoever waits to type: a test, say.
  if (options.completions) {
    host.dataset.completions = "loading";
    fetch(options.completions, { headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((answer) => {
        if (!answer) throw new Error(options.completions);
        data = answer;
        for (const resource of data.resources) resource.short = shortName(resource.iri);
        host.dataset.completions = "loaded";
      })
      .catch(() => {
        host.dataset.completions = "failed"; // completions are a help: the editor works without them
      });
  }

  return {
    view: view,
    getValue: () => view.state.doc.toString(),
    setValue(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
      view.dispatch(setDiagnostics(view.state, []));
    },
    focus: () => view.focus(),
    /** Mark an error at 1-based `line` and `column` of the user's text. */
    markError(line, column, message) {
      const doc = view.state.doc;
      const lineInfo = doc.line(Math.min(Math.max(line, 1), doc.lines));
      const from = Math.min(lineInfo.from + Math.max(column - 1, 0), lineInfo.to);
      const to = Math.min(from + 1, lineInfo.to);
      view.dispatch(setDiagnostics(view.state, [{ from: from, to: Math.max(to, from), severity: "error", message: message }]));
      view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
    },
    clearErrors: () => view.dispatch(setDiagnostics(view.state, [])),
  };
}

window.govkgEditor = { create: create };
