// Rampart's CVSS calculator for the report form: CVSS 3.0, 3.1 and 4.0 scored in the
// browser with the same rules as the rampart-cvss crate (which the server uses, so the
// server's answer is the one stored). No framework, no inline script: the page includes
// this file and marks the calculator with data attributes:
//
//   <fieldset data-cvss-calculator>
//     <legend>Severity (CVSS)</legend>
//     <label for="cvss_vector">CVSS vector</label>
//     <input id="cvss_vector" name="cvss_vector" value="…">
//   </fieldset>
//
// The script adds a version switch and a radio group per base metric (threat,
// environmental and supplemental metrics under a <details>), keeps them and the vector
// field in step both ways, and shows the score and rating in a live region. Its controls
// are not submitted: only cvss_vector is. Optional hooks: an element with
// data-cvss-result receives the result instead of a generated one; data-cvss-default
// ("3.1" or "4.0", default 4.0) picks the version offered for an empty field.
//
// In Node (for the tests) the file exports { evaluate, rating, METRICS } instead.
(function () {
  "use strict";

  // ---- Metric tables (CVSS 3.1 Table 15, CVSS 4.0 Table 23) ----------------------------

  function metric(abbrev, name, group, values) {
    return { abbrev: abbrev, name: name, group: group, mandatory: group === "base", values: values };
  }
  function vals(spec) {
    // "N=Network,A=Adjacent" -> [["N","Network"],["A","Adjacent"]]
    return spec.split(",").map(function (pair) { return pair.split("="); });
  }
  var X = "X=Not Defined,";
  var CIA = "H=High,L=Low,N=None";
  var REQ = X + "H=High,M=Medium,L=Low";
  var AV = "N=Network,A=Adjacent,L=Local,P=Physical";

  var V3 = [
    metric("AV", "Attack Vector", "base", vals(AV)),
    metric("AC", "Attack Complexity", "base", vals("L=Low,H=High")),
    metric("PR", "Privileges Required", "base", vals("N=None,L=Low,H=High")),
    metric("UI", "User Interaction", "base", vals("N=None,R=Required")),
    metric("S", "Scope", "base", vals("U=Unchanged,C=Changed")),
    metric("C", "Confidentiality", "base", vals(CIA)),
    metric("I", "Integrity", "base", vals(CIA)),
    metric("A", "Availability", "base", vals(CIA)),
    metric("E", "Exploit Code Maturity", "temporal", vals(X + "H=High,F=Functional,P=Proof-of-Concept,U=Unproven")),
    metric("RL", "Remediation Level", "temporal", vals(X + "U=Unavailable,W=Workaround,T=Temporary Fix,O=Official Fix")),
    metric("RC", "Report Confidence", "temporal", vals(X + "C=Confirmed,R=Reasonable,U=Unknown")),
    metric("CR", "Confidentiality Requirement", "environmental", vals(REQ)),
    metric("IR", "Integrity Requirement", "environmental", vals(REQ)),
    metric("AR", "Availability Requirement", "environmental", vals(REQ)),
    metric("MAV", "Modified Attack Vector", "environmental", vals(X + AV)),
    metric("MAC", "Modified Attack Complexity", "environmental", vals(X + "L=Low,H=High")),
    metric("MPR", "Modified Privileges Required", "environmental", vals(X + "N=None,L=Low,H=High")),
    metric("MUI", "Modified User Interaction", "environmental", vals(X + "N=None,R=Required")),
    metric("MS", "Modified Scope", "environmental", vals(X + "U=Unchanged,C=Changed")),
    metric("MC", "Modified Confidentiality", "environmental", vals(X + CIA)),
    metric("MI", "Modified Integrity", "environmental", vals(X + CIA)),
    metric("MA", "Modified Availability", "environmental", vals(X + CIA)),
  ];

  var SUB = X + "S=Safety,H=High,L=Low,N=Negligible";
  var V4 = [
    metric("AV", "Attack Vector", "base", vals(AV)),
    metric("AC", "Attack Complexity", "base", vals("L=Low,H=High")),
    metric("AT", "Attack Requirements", "base", vals("N=None,P=Present")),
    metric("PR", "Privileges Required", "base", vals("N=None,L=Low,H=High")),
    metric("UI", "User Interaction", "base", vals("N=None,P=Passive,A=Active")),
    metric("VC", "Vulnerable System Confidentiality", "base", vals(CIA)),
    metric("VI", "Vulnerable System Integrity", "base", vals(CIA)),
    metric("VA", "Vulnerable System Availability", "base", vals(CIA)),
    metric("SC", "Subsequent System Confidentiality", "base", vals(CIA)),
    metric("SI", "Subsequent System Integrity", "base", vals(CIA)),
    metric("SA", "Subsequent System Availability", "base", vals(CIA)),
    metric("E", "Exploit Maturity", "threat", vals(X + "A=Attacked,P=POC,U=Unreported")),
    metric("CR", "Confidentiality Requirement", "environmental", vals(REQ)),
    metric("IR", "Integrity Requirement", "environmental", vals(REQ)),
    metric("AR", "Availability Requirement", "environmental", vals(REQ)),
    metric("MAV", "Modified Attack Vector", "environmental", vals(X + AV)),
    metric("MAC", "Modified Attack Complexity", "environmental", vals(X + "L=Low,H=High")),
    metric("MAT", "Modified Attack Requirements", "environmental", vals(X + "N=None,P=Present")),
    metric("MPR", "Modified Privileges Required", "environmental", vals(X + "N=None,L=Low,H=High")),
    metric("MUI", "Modified User Interaction", "environmental", vals(X + "N=None,P=Passive,A=Active")),
    metric("MVC", "Modified Vulnerable System Confidentiality", "environmental", vals(X + CIA)),
    metric("MVI", "Modified Vulnerable System Integrity", "environmental", vals(X + CIA)),
    metric("MVA", "Modified Vulnerable System Availability", "environmental", vals(X + CIA)),
    metric("MSC", "Modified Subsequent System Confidentiality", "environmental", vals(X + CIA)),
    metric("MSI", "Modified Subsequent System Integrity", "environmental", vals(SUB)),
    metric("MSA", "Modified Subsequent System Availability", "environmental", vals(SUB)),
    metric("S", "Safety", "supplemental", vals(X + "N=Negligible,P=Present")),
    metric("AU", "Automatable", "supplemental", vals(X + "N=No,Y=Yes")),
    metric("R", "Recovery", "supplemental", vals(X + "A=Automatic,U=User,I=Irrecoverable")),
    metric("V", "Value Density", "supplemental", vals(X + "D=Diffuse,C=Concentrated")),
    metric("RE", "Vulnerability Response Effort", "supplemental", vals(X + "L=Low,M=Moderate,H=High")),
    metric("U", "Provider Urgency", "supplemental", vals(X + "Clear=Clear,Green=Green,Amber=Amber,Red=Red")),
  ];

  var METRICS = { "3.0": V3, "3.1": V3, "4.0": V4 };

  // ---- Parsing, with the same messages as rampart-cvss ---------------------------------

  function CvssError(message, metricName) {
    this.message = message;
    this.metric = metricName || null;
  }

  function quote(s) {
    var chars = Array.from(s);
    return chars.length > 40 ? chars.slice(0, 40).join("") + "\u2026" : s;
  }

  function findDef(table, abbrev, ignoreCase) {
    for (var i = 0; i < table.length; i++) {
      var a = table[i].abbrev;
      if (ignoreCase ? a.toUpperCase() === abbrev.toUpperCase() : a === abbrev) return i;
    }
    return -1;
  }

  function findValue(def, value, ignoreCase) {
    for (var i = 0; i < def.values.length; i++) {
      var a = def.values[i][0];
      if (ignoreCase ? a.toUpperCase() === value.toUpperCase() : a === value) return a;
    }
    return null;
  }

  function parsePrefix(prefix, input) {
    if (prefix === "CVSS:3.0" || prefix === "CVSS:3.1" || prefix === "CVSS:4.0") return prefix.slice(5);
    var upper = prefix.toUpperCase();
    if (upper === "CVSS:3.0" || upper === "CVSS:3.1" || upper === "CVSS:4.0") {
      throw new CvssError("`" + quote(prefix) + "` must be written in upper case as the specification defines it: `" + upper + "`");
    }
    if (upper.indexOf("CVSS:") === 0) {
      throw new CvssError("CVSS version " + quote(upper.slice(5)) + " is not supported: use a CVSS 3.1 or 4.0 vector (3.0 is accepted too)");
    }
    if (input.split("/").some(function (c) { return c.indexOf("Au:") === 0; })) {
      throw new CvssError("CVSS version 2 is not supported: use a CVSS 3.1 or 4.0 vector (3.0 is accepted too)");
    }
    throw new CvssError("a CVSS vector must start with `CVSS:3.1/`, `CVSS:3.0/` or `CVSS:4.0/`, but this one starts with `" + quote(prefix) + "`");
  }

  // Returns { version, values } where values maps abbreviation -> value for the metrics given.
  function parse(text) {
    var input = String(text).trim();
    if (input === "") {
      throw new CvssError("the CVSS vector is empty: paste a vector such as CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
    }
    var components = input.split("/");
    var version = parsePrefix(components[0], input);
    var table = METRICS[version];
    var values = {};
    for (var c = 1; c < components.length; c++) {
      var component = components[c];
      var colon = component.indexOf(":");
      var name = colon < 0 ? "" : component.slice(0, colon);
      var value = colon < 0 ? "" : component.slice(colon + 1);
      if (colon < 0 || name === "" || value === "" || value.indexOf(":") >= 0) {
        throw new CvssError("`" + quote(component) + "` is not a metric: each part after the prefix must look like `AV:N`");
      }
      var index = findDef(table, name, false);
      if (index < 0) {
        var loose = findDef(table, name, true);
        if (loose >= 0) {
          var ldef = table[loose];
          var lval = findValue(ldef, value, true) || value.toUpperCase();
          throw new CvssError("`" + quote(component) + "` must be written in upper case as the specification defines it: `" + quote(ldef.abbrev + ":" + lval) + "`");
        }
        throw new CvssError("CVSS " + version + " has no metric named `" + quote(name) + "`", name);
      }
      var def = table[index];
      var exact = findValue(def, value, false);
      if (exact === null) {
        var near = findValue(def, value, true);
        if (near !== null) {
          throw new CvssError("`" + quote(component) + "` must be written in upper case as the specification defines it: `" + def.abbrev + ":" + near + "`");
        }
        throw new CvssError(def.abbrev + " (" + def.name + ") cannot be `" + quote(value) + "`: CVSS " + version + " allows " +
          def.values.map(function (v) { return v[0]; }).join(", "), def.abbrev);
      }
      if (Object.prototype.hasOwnProperty.call(values, def.abbrev)) {
        throw new CvssError(def.abbrev + " (" + def.name + ") appears more than once: give each metric once", def.abbrev);
      }
      values[def.abbrev] = exact;
    }
    var missing = table.filter(function (d) { return d.mandatory && !(d.abbrev in values); });
    if (missing.length) {
      throw new CvssError("the vector lacks the mandatory base metric" + (missing.length === 1 ? "" : "s") + ": " +
        missing.map(function (d) { return d.abbrev + " (" + d.name + ")"; }).join(", "), missing[0].abbrev);
    }
    return { version: version, values: values };
  }

  function normalized(version, values) {
    var out = "CVSS:" + version;
    METRICS[version].forEach(function (d) {
      var v = values[d.abbrev];
      if (v !== undefined && v !== "X") out += "/" + d.abbrev + ":" + v;
    });
    return out;
  }

  function groupDefined(version, values, group) {
    return METRICS[version].some(function (d) {
      return d.group === group && values[d.abbrev] !== undefined && values[d.abbrev] !== "X";
    });
  }

  // ---- CVSS 3.x: the 3.1 specification's equations, Roundup of its Appendix A ----------

  function roundup31(value) {
    var intInput = Math.round(value * 100000);
    if (intInput % 10000 === 0) return intInput / 100000;
    return (Math.floor(intInput / 10000) + 1) / 10;
  }
  function roundup30(value) {
    return Math.ceil(value * 10) / 10;
  }

  var W3 = {
    AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
    AC: { L: 0.77, H: 0.44 },
    UI: { N: 0.85, R: 0.62 },
    C: { H: 0.56, L: 0.22, N: 0 },
    E: { U: 0.91, P: 0.94, F: 0.97 },
    RL: { O: 0.95, T: 0.96, W: 0.97 },
    RC: { U: 0.92, R: 0.96 },
    CR: { H: 1.5, L: 0.5 },
  };
  W3.I = W3.C; W3.A = W3.C; W3.IR = W3.CR; W3.AR = W3.CR;

  function weight3(name, value, scopeChanged) {
    if (name === "PR") {
      if (value === "N") return 0.85;
      if (value === "L") return scopeChanged ? 0.68 : 0.62;
      return scopeChanged ? 0.5 : 0.27;
    }
    var table = W3[name];
    return table && value in table ? table[value] : 1;
  }

  function score3(version, values) {
    var roundup = version === "3.0" ? roundup30 : roundup31;
    function get(n) { return values[n] === undefined ? "X" : values[n]; }
    function w(n, changed) { return weight3(n, get(n), changed); }

    var scopeChanged = get("S") === "C";
    var iss = 1 - (1 - w("C", false)) * (1 - w("I", false)) * (1 - w("A", false));
    var impact = scopeChanged ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss;
    var exploitability = 8.22 * w("AV", false) * w("AC", false) * w("PR", scopeChanged) * w("UI", false);
    var base;
    if (impact <= 0) base = 0;
    else if (scopeChanged) base = roundup(Math.min(1.08 * (impact + exploitability), 10));
    else base = roundup(Math.min(impact + exploitability, 10));

    var temporalFactor = w("E", false) * w("RL", false) * w("RC", false);
    var temporal = roundup(base * temporalFactor);

    function modified(n, b) { var v = get(n); return v === "X" ? get(b) : v; }
    var mChanged = modified("MS", "S") === "C";
    function mw(n, b, changed) { return weight3(b, modified(n, b), changed); }
    var miss = Math.min(1 -
      (1 - w("CR", false) * mw("MC", "C", false)) *
      (1 - w("IR", false) * mw("MI", "I", false)) *
      (1 - w("AR", false) * mw("MA", "A", false)), 0.915);
    var mImpact;
    if (!mChanged) mImpact = 6.42 * miss;
    else if (version === "3.0") mImpact = 7.52 * (miss - 0.029) - 3.25 * Math.pow(miss - 0.02, 15);
    else mImpact = 7.52 * (miss - 0.029) - 3.25 * Math.pow(miss * 0.9731 - 0.02, 13);
    var mExploitability = 8.22 * mw("MAV", "AV", false) * mw("MAC", "AC", false) *
      mw("MPR", "PR", mChanged) * mw("MUI", "UI", false);
    var environmental;
    if (mImpact <= 0) environmental = 0;
    else if (mChanged) environmental = roundup(roundup(Math.min(1.08 * (mImpact + mExploitability), 10)) * temporalFactor);
    else environmental = roundup(roundup(Math.min(mImpact + mExploitability, 10)) * temporalFactor);
    return { base: base, temporal: temporal, environmental: environmental };
  }

  // ---- CVSS 4.0: MacroVectors (EQ1-EQ6), their scores, severity-distance interpolation --

  // Scores of the 270 MacroVectors, keyed "eq1 eq2 eq3 eq4 eq5 eq6" (CVSS 4.0 specification,
  // section 8; FIRST's reference calculator carries the same table).
  var LOOKUP = {};
  ("000000:10 000001:9.9 000010:9.8 000011:9.5 000020:9.5 000021:9.2 000100:10 000101:9.6 " +
   "000110:9.3 000111:8.7 000120:9.1 000121:8.1 000200:9.3 000201:9 000210:8.9 000211:8 " +
   "000220:8.1 000221:6.8 001000:9.8 001001:9.5 001010:9.5 001011:9.2 001020:9 001021:8.4 " +
   "001100:9.3 001101:9.2 001110:8.9 001111:8.1 001120:8.1 001121:6.5 001200:8.8 001201:8 " +
   "001210:7.8 001211:7 001220:6.9 001221:4.8 002001:9.2 002011:8.2 002021:7.2 002101:7.9 " +
   "002111:6.9 002121:5 002201:6.9 002211:5.5 002221:2.7 010000:9.9 010001:9.7 010010:9.5 " +
   "010011:9.2 010020:9.2 010021:8.5 010100:9.5 010101:9.1 010110:9 010111:8.3 010120:8.4 " +
   "010121:7.1 010200:9.2 010201:8.1 010210:8.2 010211:7.1 010220:7.2 010221:5.3 011000:9.5 " +
   "011001:9.3 011010:9.2 011011:8.5 011020:8.5 011021:7.3 011100:9.2 011101:8.2 011110:8 " +
   "011111:7.2 011120:7 011121:5.9 011200:8.4 011201:7 011210:7.1 011211:5.2 011220:5 " +
   "011221:3 012001:8.6 012011:7.5 012021:5.2 012101:7.1 012111:5.2 012121:2.9 012201:6.3 " +
   "012211:2.9 012221:1.7 100000:9.8 100001:9.5 100010:9.4 100011:8.7 100020:9.1 100021:8.1 " +
   "100100:9.4 100101:8.9 100110:8.6 100111:7.4 100120:7.7 100121:6.4 100200:8.7 100201:7.5 " +
   "100210:7.4 100211:6.3 100220:6.3 100221:4.9 101000:9.4 101001:8.9 101010:8.8 101011:7.7 " +
   "101020:7.6 101021:6.7 101100:8.6 101101:7.6 101110:7.4 101111:5.8 101120:5.9 101121:5 " +
   "101200:7.2 101201:5.7 101210:5.7 101211:5.2 101220:5.2 101221:2.5 102001:8.3 102011:7 " +
   "102021:5.4 102101:6.5 102111:5.8 102121:2.6 102201:5.3 102211:2.1 102221:1.3 110000:9.5 " +
   "110001:9 110010:8.8 110011:7.6 110020:7.6 110021:7 110100:9 110101:7.7 110110:7.5 " +
   "110111:6.2 110120:6.1 110121:5.3 110200:7.7 110201:6.6 110210:6.8 110211:5.9 110220:5.2 " +
   "110221:3 111000:8.9 111001:7.8 111010:7.6 111011:6.7 111020:6.2 111021:5.8 111100:7.4 " +
   "111101:5.9 111110:5.7 111111:5.7 111120:4.7 111121:2.3 111200:6.1 111201:5.2 111210:5.7 " +
   "111211:2.9 111220:2.4 111221:1.6 112001:7.1 112011:5.9 112021:3 112101:5.8 112111:2.6 " +
   "112121:1.5 112201:2.3 112211:1.3 112221:0.6 200000:9.3 200001:8.7 200010:8.6 200011:7.2 " +
   "200020:7.5 200021:5.8 200100:8.6 200101:7.4 200110:7.4 200111:6.1 200120:5.6 200121:3.4 " +
   "200200:7 200201:5.4 200210:5.2 200211:4 200220:4 200221:2.2 201000:8.5 201001:7.5 " +
   "201010:7.4 201011:5.5 201020:6.2 201021:5.1 201100:7.2 201101:5.7 201110:5.5 201111:4.1 " +
   "201120:4.6 201121:1.9 201200:5.3 201201:3.6 201210:3.4 201211:1.9 201220:1.9 201221:0.8 " +
   "202001:6.4 202011:5.1 202021:2 202101:4.7 202111:2.1 202121:1.1 202201:2.4 202211:0.9 " +
   "202221:0.4 210000:8.8 210001:7.5 210010:7.3 210011:5.3 210020:6 210021:5 210100:7.3 " +
   "210101:5.5 210110:5.9 210111:4 210120:4.1 210121:2 210200:5.4 210201:4.3 210210:4.5 " +
   "210211:2.2 210220:2 210221:1.1 211000:7.5 211001:5.5 211010:5.8 211011:4.5 211020:4 " +
   "211021:2.1 211100:6.1 211101:5.1 211110:4.8 211111:1.8 211120:2 211121:0.9 211200:4.6 " +
   "211201:1.8 211210:1.7 211211:0.7 211220:0.8 211221:0.2 212001:5.3 212011:2.4 212021:1.4 " +
   "212101:2.4 212111:1.2 212121:0.5 212201:1 212211:0.3 212221:0.1")
    .split(" ").forEach(function (entry) {
      var kv = entry.split(":");
      LOOKUP[kv[0]] = Number(kv[1]);
    });

  // The highest-severity vectors of each EQ level, and each level's depth in steps of 0.1.
  var MAX_COMPOSED = {
    eq1: [["AV:N/PR:N/UI:N"], ["AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"], ["AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"]],
    eq2: [["AC:L/AT:N"], ["AC:H/AT:N", "AC:L/AT:P"]],
    eq3eq6: {
      "00": ["VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"],
      "01": ["VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M"],
      "10": ["VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H"],
      "11": ["VC:L/VI:H/VA:L/CR:H/IR:M/AR:H", "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M", "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M",
             "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H", "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M"],
      "21": ["VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"],
    },
    eq4: [["SC:H/SI:S/SA:S"], ["SC:H/SI:H/SA:H"], ["SC:L/SI:L/SA:L"]],
    eq5: [["E:A"], ["E:P"], ["E:U"]],
  };
  var MAX_SEVERITY = {
    eq1: [1, 4, 5],
    eq2: [1, 2],
    eq3eq6: { "00": 7, "01": 6, "10": 8, "11": 8, "21": 10 },
    eq4: [6, 5, 4],
  };
  var LEVELS = {
    AV: { N: 0, A: 0.1, L: 0.2, P: 0.3 },
    PR: { N: 0, L: 0.1, H: 0.2 },
    UI: { N: 0, P: 0.1, A: 0.2 },
    AC: { L: 0, H: 0.1 },
    AT: { N: 0, P: 0.1 },
    VC: { H: 0, L: 0.1, N: 0.2 },
    SC: { H: 0.1, L: 0.2, N: 0.3 },
    SI: { S: 0, H: 0.1, L: 0.2, N: 0.3 },
    CR: { H: 0, M: 0.1, L: 0.2 },
  };
  LEVELS.VI = LEVELS.VC; LEVELS.VA = LEVELS.VC; LEVELS.SA = LEVELS.SI;
  LEVELS.IR = LEVELS.CR; LEVELS.AR = LEVELS.CR;

  var BASE4 = ["AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"];

  // The value a metric takes for scoring: a modified metric overrides its base metric;
  // Not Defined means Attacked for E and High for the requirements.
  function effective4(values, name) {
    if (BASE4.indexOf(name) >= 0) {
      var mod = values["M" + name];
      return mod !== undefined && mod !== "X" ? mod : values[name];
    }
    var v = values[name];
    if (v === undefined || v === "X") {
      if (name === "E") return "A";
      if (name === "CR" || name === "IR" || name === "AR") return "H";
    }
    return v;
  }

  function score4(values) {
    var m = {};
    BASE4.concat(["E", "CR", "IR", "AR"]).forEach(function (n) { m[n] = effective4(values, n); });
    if (["VC", "VI", "VA", "SC", "SI", "SA"].every(function (n) { return m[n] === "N"; })) return 0;

    var eq1 = m.AV === "N" && m.PR === "N" && m.UI === "N" ? 0
      : (m.AV === "N" || m.PR === "N" || m.UI === "N") && m.AV !== "P" ? 1 : 2;
    var eq2 = m.AC === "L" && m.AT === "N" ? 0 : 1;
    var eq3 = m.VC === "H" && m.VI === "H" ? 0 : m.VC === "H" || m.VI === "H" || m.VA === "H" ? 1 : 2;
    var eq4 = m.SI === "S" || m.SA === "S" ? 0 : m.SC === "H" || m.SI === "H" || m.SA === "H" ? 1 : 2;
    var eq5 = m.E === "A" ? 0 : m.E === "P" ? 1 : 2;
    var eq6 = (m.CR === "H" && m.VC === "H") || (m.IR === "H" && m.VI === "H") || (m.AR === "H" && m.VA === "H") ? 0 : 1;

    function look(a, b, c, d, e, f) {
      var key = "" + a + b + c + d + e + f;
      return key in LOOKUP ? LOOKUP[key] : NaN;
    }
    var value = look(eq1, eq2, eq3, eq4, eq5, eq6);

    // Scores of the next lower MacroVector in each EQ (NaN where there is none).
    var lowerEq1 = look(eq1 + 1, eq2, eq3, eq4, eq5, eq6);
    var lowerEq2 = look(eq1, eq2 + 1, eq3, eq4, eq5, eq6);
    var lowerEq3Eq6;
    if (eq3 === 0 && eq6 === 0) {
      var left = look(eq1, eq2, eq3, eq4, eq5, eq6 + 1);
      var right = look(eq1, eq2, eq3 + 1, eq4, eq5, eq6);
      lowerEq3Eq6 = left > right ? left : right;
    } else if (eq3 === 1 && eq6 === 0) {
      lowerEq3Eq6 = look(eq1, eq2, eq3, eq4, eq5, eq6 + 1);
    } else {
      lowerEq3Eq6 = look(eq1, eq2, eq3 + 1, eq4, eq5, eq6);
    }
    var lowerEq4 = look(eq1, eq2, eq3, eq4 + 1, eq5, eq6);
    var lowerEq5 = look(eq1, eq2, eq3, eq4, eq5 + 1, eq6);

    // The first highest-severity vector of this MacroVector that the vector does not exceed.
    var eq36 = "" + eq3 + eq6;
    var distance = {};
    var names = ["AV", "PR", "UI", "AC", "AT", "VC", "VI", "VA", "SC", "SI", "SA", "CR", "IR", "AR"];
    outer:
    for (var i1 = 0; i1 < MAX_COMPOSED.eq1[eq1].length; i1++) {
      for (var i2 = 0; i2 < MAX_COMPOSED.eq2[eq2].length; i2++) {
        for (var i3 = 0; i3 < MAX_COMPOSED.eq3eq6[eq36].length; i3++) {
          for (var i4 = 0; i4 < MAX_COMPOSED.eq4[eq4].length; i4++) {
            var max = {};
            [MAX_COMPOSED.eq1[eq1][i1], MAX_COMPOSED.eq2[eq2][i2], MAX_COMPOSED.eq3eq6[eq36][i3],
             MAX_COMPOSED.eq4[eq4][i4]].join("/").split("/").forEach(function (part) {
              var kv = part.split(":");
              max[kv[0]] = kv[1];
            });
            var fits = true;
            for (var k = 0; k < names.length; k++) {
              var n = names[k];
              distance[n] = LEVELS[n][m[n]] - LEVELS[n][max[n]];
              if (distance[n] < 0) fits = false;
            }
            if (fits) break outer;
          }
        }
      }
    }

    var current = {
      eq1: distance.AV + distance.PR + distance.UI,
      eq2: distance.AC + distance.AT,
      eq3eq6: distance.VC + distance.VI + distance.VA + distance.CR + distance.IR + distance.AR,
      eq4: distance.SC + distance.SI + distance.SA,
    };
    var step = 0.1;
    var depth = {
      eq1: MAX_SEVERITY.eq1[eq1] * step,
      eq2: MAX_SEVERITY.eq2[eq2] * step,
      eq3eq6: MAX_SEVERITY.eq3eq6[eq36] * step,
      eq4: MAX_SEVERITY.eq4[eq4] * step,
    };
    var existing = 0;
    var total = 0;
    function add(lower, key) {
      if (isNaN(lower)) return 0;
      existing += 1;
      // EQ5 has no depth: its proportion is always 0.
      return key === null ? (value - lower) * 0 : (value - lower) * (current[key] / depth[key]);
    }
    var n1 = add(lowerEq1, "eq1");
    var n2 = add(lowerEq2, "eq2");
    var n3 = add(lowerEq3Eq6, "eq3eq6");
    var n4 = add(lowerEq4, "eq4");
    var n5 = add(lowerEq5, null);
    total = n1 + n2 + n3 + n4 + n5;
    var mean = existing === 0 ? 0 : total / existing;
    return value - mean;
  }

  function round4(value) {
    var v = Math.min(Math.max(value, 0), 10);
    return Math.round((v + 1e-6) * 10) / 10;
  }

  // ---- Results -------------------------------------------------------------------------

  function rating(score) {
    if (score < 0.05) return "none";
    if (score < 3.95) return "low";
    if (score < 6.95) return "medium";
    if (score < 8.95) return "high";
    return "critical";
  }

  var LABEL = { none: "None", low: "Low", medium: "Medium", high: "High", critical: "Critical" };

  // The same figures as `rampart cvss --format json`; throws CvssError on a bad vector.
  function evaluate(text) {
    var parsed = parse(text);
    var version = parsed.version;
    var values = parsed.values;
    var result = { version: version, vector: normalized(version, values) };
    if (version === "4.0") {
      var threat = groupDefined(version, values, "threat");
      var env = groupDefined(version, values, "environmental");
      result.score = round4(score4(values));
      result.severity = rating(result.score);
      result.nomenclature = "CVSS-B" + (threat ? "T" : "") + (env ? "E" : "");
      if (threat || env) {
        var baseOnly = {};
        BASE4.forEach(function (n) { baseOnly[n] = values[n]; });
        result.base_score = round4(score4(baseOnly));
      } else {
        result.base_score = result.score;
      }
    } else {
      var s = score3(version, values);
      result.score = s.base;
      result.severity = rating(s.base);
      result.base_score = s.base;
      if (groupDefined(version, values, "temporal")) result.temporal_score = s.temporal;
      if (groupDefined(version, values, "environmental")) result.environmental_score = s.environmental;
    }
    return result;
  }

  var api = { evaluate: evaluate, rating: rating, METRICS: METRICS, CvssError: CvssError };
  if (typeof module === "object" && module.exports) {
    module.exports = api;
    return;
  }

  // ---- The form ------------------------------------------------------------------------

  var counter = 0;
  // Controls point their `form` attribute at no form, so that only cvss_vector is posted.
  var DETACHED = "cvss-calculator-controls";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function attach(root) {
    var input = root.querySelector('input[name="cvss_vector"]');
    if (!input || root.hasAttribute("data-cvss-ready")) return;
    root.setAttribute("data-cvss-ready", "");
    var id = "cvss" + (++counter);
    var result = root.querySelector("[data-cvss-result]");
    if (!result) {
      result = el("p", { "data-cvss-result": "", "class": "cvss-result" });
      input.insertAdjacentElement("afterend", result);
    }
    result.setAttribute("aria-live", "polite");
    result.id = result.id || id + "-result";
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (described.indexOf(result.id) < 0) described.push(result.id);
    input.setAttribute("aria-describedby", described.join(" "));

    var controls = el("div", { "class": "cvss-controls" });
    result.insertAdjacentElement("afterend", controls);

    var version = root.getAttribute("data-cvss-default") === "3.1" ? "3.1" : "4.0";

    function show(text) {
      result.textContent = "";
      result.removeAttribute("data-severity");
      input.removeAttribute("aria-invalid");
      if (String(text).trim() === "") {
        result.textContent = "Pick a value for each base metric, or paste a vector.";
        return null;
      }
      try {
        var r = evaluate(text);
        var strong = el("strong", {}, r.score.toFixed(1) + " " + LABEL[r.severity]);
        result.appendChild(strong);
        var detail = " CVSS " + r.version + (r.nomenclature ? " (" + r.nomenclature + ")" : " base score");
        if (r.nomenclature && r.nomenclature !== "CVSS-B") detail += "; base metrics alone " + r.base_score.toFixed(1);
        if (r.temporal_score !== undefined) detail += "; temporal " + r.temporal_score.toFixed(1);
        if (r.environmental_score !== undefined) detail += "; environmental " + r.environmental_score.toFixed(1);
        result.appendChild(document.createTextNode(detail));
        result.setAttribute("data-severity", r.severity);
        return r;
      } catch (e) {
        if (!(e instanceof CvssError)) throw e;
        input.setAttribute("aria-invalid", "true");
        result.textContent = "Not a valid vector: " + e.message;
        return null;
      }
    }

    function build() {
      controls.textContent = "";
      var switcher = el("fieldset", { "class": "cvss-version" });
      switcher.appendChild(el("legend", {}, "CVSS version"));
      ["4.0", "3.1"].forEach(function (v) {
        var label = el("label");
        var radio = el("input", { type: "radio", name: id + "-version", value: v, form: DETACHED });
        radio.checked = v === version || (version === "3.0" && v === "3.1");
        label.appendChild(radio);
        label.appendChild(document.createTextNode(" CVSS " + v));
        switcher.appendChild(label);
      });
      controls.appendChild(switcher);

      var optional = el("details", { "class": "cvss-optional" });
      optional.appendChild(el("summary", {}, version === "4.0"
        ? "Threat, environmental and supplemental metrics"
        : "Temporal and environmental metrics"));
      METRICS[version].forEach(function (def) {
        if (def.mandatory) {
          var group = el("fieldset", { "class": "cvss-metric", "data-cvss-metric": def.abbrev });
          group.appendChild(el("legend", {}, def.name + " (" + def.abbrev + ")"));
          def.values.forEach(function (v) {
            var label = el("label");
            var radio = el("input", { type: "radio", name: id + "-" + def.abbrev, value: v[0], form: DETACHED,
              "data-cvss-metric": def.abbrev });
            label.appendChild(radio);
            label.appendChild(document.createTextNode(" " + v[1]));
            group.appendChild(label);
          });
          controls.appendChild(group);
        } else {
          var label = el("label", { "class": "cvss-metric" });
          label.appendChild(document.createTextNode(def.name + " (" + def.abbrev + ") "));
          var select = el("select", { form: DETACHED, "data-cvss-metric": def.abbrev });
          def.values.forEach(function (v) { select.appendChild(el("option", { value: v[0] }, v[1])); });
          label.appendChild(select);
          optional.appendChild(label);
        }
      });
      controls.appendChild(optional);
    }

    // Vector field -> controls.
    function sync(values) {
      controls.querySelectorAll("[data-cvss-metric]").forEach(function (control) {
        var name = control.getAttribute("data-cvss-metric");
        if (control.tagName === "SELECT") control.value = values[name] || "X";
        else if (control.tagName === "INPUT") control.checked = values[name] === control.value;
      });
    }

    // Controls -> vector field.
    function compose() {
      var parts = ["CVSS:" + version];
      var missing = [];
      METRICS[version].forEach(function (def) {
        var value = null;
        if (def.mandatory) {
          var checked = controls.querySelector('input[data-cvss-metric="' + def.abbrev + '"]:checked');
          if (checked) value = checked.value; else missing.push(def.name);
        } else {
          var select = controls.querySelector('select[data-cvss-metric="' + def.abbrev + '"]');
          if (select && select.value !== "X") value = select.value;
        }
        if (value) parts.push(def.abbrev + ":" + value);
      });
      if (missing.length) {
        result.textContent = "Still to pick: " + missing.join(", ") + ".";
        result.removeAttribute("data-severity");
        return;
      }
      input.value = parts.join("/");
      show(input.value);
    }

    controls.addEventListener("change", function (event) {
      var target = event.target;
      if (target.name === id + "-version") {
        version = target.value;
        var keep = null;
        try { keep = evaluate(input.value); } catch (e) { keep = null; }
        build();
        if (keep && keep.version.charAt(0) === version.charAt(0)) sync(parse(input.value).values);
        else result.textContent = "Pick a value for each base metric of CVSS " + version + ".";
        return;
      }
      compose();
    });

    input.addEventListener("input", function () {
      var r = show(input.value);
      if (!r) return;
      if (r.version !== version) {
        version = r.version;
        build();
      }
      sync(parse(input.value).values);
    });

    var initial = null;
    try { initial = parse(input.value); } catch (e) { initial = null; }
    if (initial) version = initial.version;
    build();
    if (initial) sync(initial.values);
    show(input.value);
  }

  function start() {
    document.querySelectorAll("[data-cvss-calculator]").forEach(attach);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
