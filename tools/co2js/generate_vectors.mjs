// Generates tests/fixtures/co2js_vectors.json: test vectors computed by CO2.js (@tgwf/co2)
// with its Sustainable Web Design model v4, so that greenweb's pure-Python port
// (src/greenweb/carbon.py) can be checked against the reference implementation.
//
// Usage (from this folder):  npm ci && node generate_vectors.mjs
//
// The output is deterministic (no timestamps), so re-running it with the same CO2.js
// version gives a byte-identical file.

import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { co2, averageIntensity } from "@tgwf/co2";

const here = dirname(fileURLToPath(import.meta.url));
const outPath = join(here, "..", "..", "tests", "fixtures", "co2js_vectors.json");
const co2jsVersion = JSON.parse(
  readFileSync(join(here, "node_modules", "@tgwf", "co2", "package.json"), "utf8"),
).version;

// The *Trace methods warn on stderr whenever a visit option is left at its default;
// the warnings are expected here and would only drown the output.
console.warn = () => {};

// Countries whose average grid intensity greenweb's carbon.py keeps in its table.
// The values are read from CO2.js's own data (Ember yearly averages), never typed in.
const COUNTRIES = ["ITA", "FRA", "DEU", "ESP", "GBR", "USA", "EU", "WORLD"];
const countryIntensity = Object.fromEntries(
  COUNTRIES.map((code) => [code, averageIntensity.data[code]]),
);
const ITA = averageIntensity.data.ITA;
if (typeof ITA !== "number") {
  throw new Error("CO2.js average-intensities data has no ITA entry");
}

const BYTES = [
  0, 0.5, 1, 7, 333, 1000, 4321, 10240, 14600, 99999, 100000, 123457, 2412 * 1000, 7777777,
  123456789, 1e9,
];

function instance(segment, rating) {
  const opts = { model: "swd", version: 4, rating };
  if (segment) {
    opts.results = "segment";
  }
  return new co2(opts);
}

// The trace methods repeat English descriptions in every answer; they carry no numbers.
function stripDescriptions(value) {
  if (value === null || typeof value !== "object") {
    return value;
  }
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== "description")
      .map(([key, inner]) => [key, stripDescriptions(inner)]),
  );
}

const vectors = [];
let n = 0;
function add(method, bytes, green, segment, rating, options, result) {
  n += 1;
  const v = { id: `${method}-${n}`, method, bytes, green, segment, rating };
  if (options !== undefined) {
    v.options = options;
  }
  v.result = stripDescriptions(result);
  vectors.push(v);
}

// 1. Plain perByte / perVisit: global grid intensity, every output shape.
for (const bytes of BYTES) {
  for (const green of [false, true]) {
    for (const segment of [false, true]) {
      for (const rating of [false, true]) {
        const c = instance(segment, rating);
        add("perByte", bytes, green, segment, rating, undefined, c.perByte(bytes, green));
        add("perVisit", bytes, green, segment, rating, undefined, c.perVisit(bytes, green));
      }
    }
  }
}

// 2. Trace methods with custom grid intensities (numbers and CO2.js country objects).
// From here on results are segmented and rated: the other output shapes hold a subset of
// the same numbers, and section 1 already covers them.
const GRIDS = [
  { device: ITA, dataCenter: ITA, network: ITA },
  { device: { country: "ITA" }, dataCenter: { country: "ITA" }, network: { country: "ITA" } },
  { device: { country: "ita" }, dataCenter: 0, network: 1000 },
  { device: 100, dataCenter: 200, network: 300 },
  { device: 0, dataCenter: 0, network: 0 },
  { dataCenter: { country: "FRA" } },
  { device: { country: "DEU" }, network: { country: "GBR" } },
  { device: 494, dataCenter: 56.78, network: 1234.5 },
];
const TRACE_BYTES = [0, 1, 1000, 14600, 2412 * 1000, 1e9];
for (const gridIntensity of GRIDS) {
  for (const bytes of TRACE_BYTES) {
    for (const green of [false, true]) {
      const c = instance(true, true);
      const options = { gridIntensity };
      add("perByteTrace", bytes, green, true, true, options, c.perByteTrace(bytes, green, options));
      add("perVisitTrace", bytes, green, true, true, options,
        c.perVisitTrace(bytes, green, options));
    }
  }
}

// 3. perVisitTrace with visit options (with and without custom grids).
const VISITS = [
  { firstVisitPercentage: 0.75, returnVisitPercentage: 0.25, dataReloadRatio: 0.02 },
  { firstVisitPercentage: 0.5, returnVisitPercentage: 0.5, dataReloadRatio: 0.1 },
  { firstVisitPercentage: 0, returnVisitPercentage: 1, dataReloadRatio: 1 },
  { firstVisitPercentage: 1, returnVisitPercentage: 0, dataReloadRatio: 0 },
  { firstVisitPercentage: 0.9 },
  { returnVisitPercentage: 0.3 },
  { dataReloadRatio: 0.4, returnVisitPercentage: 0.6 },
  {
    firstVisitPercentage: 0.75, returnVisitPercentage: 0.25, dataReloadRatio: 0.02,
    gridIntensity: { device: { country: "ITA" }, dataCenter: { country: "ITA" }, network: 300 },
  },
  {
    firstVisitPercentage: 0.6, returnVisitPercentage: 0.4, dataReloadRatio: 0.05,
    gridIntensity: { device: 50, dataCenter: 0, network: 123.4 },
  },
];
const VISIT_BYTES = [0, 1, 14600, 100000, 2412 * 1000, 123456789];
for (const options of VISITS) {
  for (const bytes of VISIT_BYTES) {
    for (const green of [false, true]) {
      const c = instance(true, true);
      add("perVisitTrace", bytes, green, true, true, options,
        c.perVisitTrace(bytes, green, options));
    }
  }
}

// 4. Partial green hosting (v4's greenHostingFactor option).
for (const greenHostingFactor of [0, 0.25, 0.5, 1]) {
  for (const bytes of [14600, 100000, 2412 * 1000]) {
    for (const green of [false, true]) {
      const c = instance(true, true);
      const byteOpts = { greenHostingFactor, gridIntensity: { dataCenter: { country: "ITA" } } };
      add("perByteTrace", bytes, green, true, true, byteOpts,
        c.perByteTrace(bytes, green, byteOpts));
      const visitOpts = { ...byteOpts, firstVisitPercentage: 0.75, returnVisitPercentage: 0.25,
        dataReloadRatio: 0.02 };
      add("perVisitTrace", bytes, green, true, true, visitOpts,
        c.perVisitTrace(bytes, green, visitOpts));
    }
  }
}

// 5. The rating letter for a spread of grams per visit, including every threshold exactly.
const model = instance(false, true).model;
const GRAMS = [
  0, 0.001, 0.0399, 0.04, 0.0400001, 0.05, 0.079, 0.0790001, 0.1, 0.145, 0.1450001, 0.2,
  0.209, 0.2090001, 0.25, 0.278, 0.2780001, 0.3, 0.359, 0.3590001, 0.5, 1, 10, 1e6,
];
const ratings = GRAMS.map((grams) => ({ grams, rating: model.ratingScale(grams) }));

const output = {
  description:
    "Test vectors computed by CO2.js with the Sustainable Web Design model v4; generated by "
    + "tools/co2js/generate_vectors.mjs. Do not edit by hand.",
  co2js_version: co2jsVersion,
  model: { name: "swd", version: model.version },
  average_intensity: countryIntensity,
  vectors,
  ratings,
};

mkdirSync(dirname(outPath), { recursive: true });
// One vector or rating per line: readable diffs without a megabyte of indentation.
const { vectors: vs, ratings: rs, ...head } = output;
const lines = JSON.stringify(head, null, 1).replace(/\n}$/, "").split("\n");
const list = (items) => items.map((item) => "  " + JSON.stringify(item)).join(",\n");
const text = lines.join("\n")
  + ',\n "vectors": [\n' + list(vs) + "\n ]"
  + ',\n "ratings": [\n' + list(rs) + "\n ]\n}\n";
JSON.parse(text);
writeFileSync(outPath, text);
process.stdout.write(
  `CO2.js ${co2jsVersion}: wrote ${vectors.length} vectors and ${ratings.length} ratings `
  + `to ${outPath}\n`,
);
