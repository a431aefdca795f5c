// Checks crates/web/static/cvss.js against rampart-cvss: the shared reference files, FIRST's
// examples, and a file of Rust results that tests/js.rs writes (argument 1).
// Run by `cargo test -p rampart-cvss --test js`; by hand: node crates/cvss/tests/js/agree.js FILE
"use strict";
const fs = require("fs");
const path = require("path");
const cvss = require(path.join(__dirname, "../../../web/static/cvss.js"));

let failures = 0;
let checked = 0;
function fail(message) {
  failures += 1;
  if (failures <= 20) console.error(message);
}

function rows(file) {
  return fs.readFileSync(path.join(__dirname, "../data", file), "utf8")
    .split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t"));
}

for (const [vector, base, temporal, environmental] of rows("reference_v3.tsv")) {
  const r = cvss.evaluate(vector);
  checked += 1;
  if (r.base_score !== Number(base)) fail(`${vector}: base ${r.base_score}, reference ${base}`);
  if ((r.temporal_score ?? r.base_score) !== Number(temporal)) fail(`${vector}: temporal ${r.temporal_score}, reference ${temporal}`);
  if (r.environmental_score !== undefined && r.environmental_score !== Number(environmental)) {
    fail(`${vector}: environmental ${r.environmental_score}, reference ${environmental}`);
  }
}
for (const [vector, score] of rows("reference_v4.tsv")) {
  const r = cvss.evaluate(vector);
  checked += 1;
  if (r.score !== Number(score)) fail(`${vector}: ${r.score}, reference ${score}`);
}

// The optional full sweep of tests/reference.rs, when RAMPART_CVSS_SWEEP names its file.
if (process.env.RAMPART_CVSS_SWEEP) {
  for (const line of fs.readFileSync(process.env.RAMPART_CVSS_SWEEP, "utf8").split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const [vector, score] = line.split("\t");
    checked += 1;
    const r = cvss.evaluate(vector);
    if (r.score !== Number(score)) fail(`${vector}: ${r.score}, reference ${score}`);
  }
}

// Key order differs between serde_json and JavaScript objects; compare with sorted keys.
function canonical(value) {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
}

// Rust's results: one JSON object per line, {input, ok: summary} or {input, error}.
if (process.argv[2]) {
  for (const line of fs.readFileSync(process.argv[2], "utf8").split("\n")) {
    if (!line) continue;
    const expected = JSON.parse(line);
    checked += 1;
    let actual;
    try {
      actual = { ok: cvss.evaluate(expected.input) };
    } catch (e) {
      if (!(e instanceof cvss.CvssError)) throw e;
      actual = { error: e.message };
    }
    const want = canonical(expected.ok ?? { error: expected.error });
    const got = canonical(actual.ok ?? { error: actual.error });
    if (want !== got) fail(`${JSON.stringify(expected.input)}:\n  rust ${want}\n  js   ${got}`);
  }
}

console.log(`${checked - failures} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
