// Builds the front-end bundles into server/web/static/vendor/ (committed, so the Python package
// needs no npm): `npm ci && npm run build`. Each bundle is one minified IIFE, with a Brotli
// copy beside it (<name>.js.br, quality 11) that the server sends to browsers that accept it
// (govkg.web.assets); the licences of the packages bundled into them are collected into
// server/web/static/vendor/LICENSES.txt.
import { build } from "esbuild";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants } from "node:zlib";

const bundles = { editor: "frontend/editor.js", charts: "frontend/charts.js", graph: "frontend/graph.js" };
const packages = new Set();
for (const [name, entry] of Object.entries(bundles)) {
  const result = await build({
    entryPoints: [entry],
    outfile: `server/web/static/vendor/${name}.js`,
    bundle: true,
    minify: true,
    format: "iife",
    target: ["chrome100", "firefox100", "safari15"],
    legalComments: "none", // collected below, for every bundled package
    metafile: true,
    logLevel: "info",
  });
  const outfile = `server/web/static/vendor/${name}.js`;
  const source = readFileSync(outfile);
  const compressed = brotliCompressSync(source, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: source.length,
    },
  });
  writeFileSync(outfile + ".br", compressed);
  console.log(`${outfile}.br: ${compressed.length} bytes (${source.length} uncompressed)`);
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = input.match(/^node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (match) packages.add(match[1]);
  }
}

const notices = [];
for (const name of [...packages].sort()) {
  const folder = join("node_modules", name);
  const { version, license } = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
  const file = readdirSync(folder).find((entry) => /^(licen[cs]e|copying)/i.test(entry));
  const text = file && existsSync(join(folder, file)) ? readFileSync(join(folder, file), "utf8").trim() : license;
  notices.push(`${name} ${version} (${license})\n\n${text}\n`);
}
writeFileSync(
  "server/web/static/vendor/LICENSES.txt",
  "The packages bundled into editor.js, charts.js and graph.js, with their licences.\n\n" + notices.join("\n" + "-".repeat(72) + "\n\n")
);
console.log(`LICENSES.txt: ${packages.size} packages`);
