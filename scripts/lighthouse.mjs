// Lighthouse on some pages of a running govkg server, mobile and desktop, in one Chromium.
//
//   node scripts/lighthouse.mjs --chrome /usr/bin/chromium [--out DIR] URL...
//
// Prints one JSON object: {"<form> <url>": {"performance": 97, ...}, ...}; with --out, each
// full report is written there as <form>-<n>.json (for reading why a score is low).
// Lighthouse's defaults are kept: simulated throttling (a mid-range phone on slow 4G for
// "mobile"; the desktop preset for "desktop"), so a score does not depend on this network.
// Left out, as no category score reads them (and they took a fifth of each audit's time): the
// full-page screenshot, which only illustrates a report, and the back/forward-cache check, which
// navigates away and back and weighs 0 in Performance.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";

const CATEGORIES = ["performance", "accessibility", "best-practices", "seo"];
// No network but the server's own: Chromium's background services are turned off.
const CHROME_FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const args = process.argv.slice(2);
let chromePath;
let outDir;
const urls = [];
while (args.length) {
  const arg = args.shift();
  if (arg === "--chrome") chromePath = args.shift();
  else if (arg === "--out") outDir = args.shift();
  else urls.push(arg);
}
if (!chromePath || !urls.length) {
  console.error("usage: node scripts/lighthouse.mjs --chrome PATH [--out DIR] URL...");
  process.exit(2);
}

const chrome = await chromeLauncher.launch({ chromePath, chromeFlags: CHROME_FLAGS });
const scores = {};
try {
  let n = 0;
  for (const form of ["mobile", "desktop"]) {
    for (const url of urls) {
      const flags = {
        port: chrome.port,
        output: "json",
        logLevel: "error",
        onlyCategories: CATEGORIES,
        disableFullPageScreenshot: true,
        skipAudits: ["bf-cache"],
      };
      const result = await lighthouse(url, flags, form === "desktop" ? desktopConfig : undefined);
      const lhr = result.lhr;
      if (lhr.runtimeError) throw new Error(`${form} ${url}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
      const entry = {};
      for (const category of CATEGORIES) entry[category] = Math.round(lhr.categories[category].score * 100);
      for (const audit of ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift"]) {
        entry[audit] = lhr.audits[audit].displayValue;
      }
      entry.benchmarkIndex = lhr.environment.benchmarkIndex;
      scores[`${form} ${url}`] = entry;
      if (outDir) writeFileSync(join(outDir, `${form}-${n}.json`), result.report);
      n += 1;
    }
  }
} finally {
  await chrome.kill();
}
// Exit once the scores are written: Lighthouse's image gatherer leaves a 5-second timer of its
// gathering budget running (core/gather/gatherers/image-elements.js), which would keep Node
// waiting that long after the last audit.
process.stdout.write(JSON.stringify(scores, null, 1) + "\n", () => process.exit(0));
