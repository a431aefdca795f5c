// Drives the calculator of dom-check.html as a person would and writes PASS or FAIL lines
// into #report; tests/dom.rs loads the page in headless Chromium and reads the result.
"use strict";
window.addEventListener("load", function () {
  var failures = [];
  var passed = 0;
  function check(what, ok) {
    if (ok) passed += 1; else failures.push("FAIL: " + what);
  }
  var root = document.querySelector("[data-cvss-calculator]");
  var input = document.getElementById("cvss_vector");
  var result = root.querySelector("[data-cvss-result]");
  function radio(metric, value) {
    return root.querySelector('input[data-cvss-metric="' + metric + '"][value="' + value + '"]');
  }
  function type(text) {
    input.value = text;
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  check("the initial vector is scored", result && result.textContent.indexOf("6.1 Medium") === 0);
  check("severity is exposed for styling", result.getAttribute("data-severity") === "medium");
  check("the result is announced", result.getAttribute("aria-live") === "polite");
  check("the input is described by the result", input.getAttribute("aria-describedby") === result.id);
  check("controls reflect the vector", radio("AV", "N").checked && radio("S", "C").checked && radio("C", "L").checked);

  radio("C", "H").click();
  check("a click rebuilds the vector", input.value === "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:L/A:N");
  check("and rescores it", result.textContent.indexOf("8.2 High") === 0);

  root.querySelector('select[data-cvss-metric="E"]').value = "P";
  root.querySelector('select[data-cvss-metric="E"]').dispatchEvent(new Event("change", { bubbles: true }));
  check("optional metrics join the vector", input.value === "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:L/A:N/E:P");
  check("temporal score is shown", result.textContent.indexOf("temporal 7.8") > 0);

  type("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
  check("typing a 4.0 vector switches the controls", radio("AT", "N") !== null && radio("AT", "N").checked);
  check("and scores it", result.textContent.indexOf("9.3 Critical") === 0);
  check("the version switch follows", root.querySelector('input[value="4.0"][name$="-version"]').checked);

  type("CVSS:4.0/AV:Q");
  check("an invalid vector is flagged", input.getAttribute("aria-invalid") === "true");
  check("with the metric named", result.textContent.indexOf("AV (Attack Vector) cannot be `Q`") > 0);

  type("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U");
  check("a fixed vector clears the flag", !input.hasAttribute("aria-invalid"));
  check("threat metrics name the nomenclature", result.textContent.indexOf("(CVSS-BT)") > 0);

  var v31 = root.querySelector('input[value="3.1"][name$="-version"]');
  v31.click();
  check("switching version offers that version's metrics", radio("S", "U") !== null && radio("AT", "N") === null);
  check("and asks for the base metrics", result.textContent.indexOf("Pick a value for each base metric of CVSS 3.1") === 0);
  ["AV:N", "AC:L", "PR:N", "UI:N", "S:U", "C:H", "I:H"].forEach(function (mv) {
    var kv = mv.split(":");
    radio(kv[0], kv[1]).click();
  });
  check("an incomplete choice lists what is missing", result.textContent === "Still to pick: Availability.");
  check("and leaves the field alone", input.value.indexOf("CVSS:4.0/") === 0);
  radio("A", "H").click();
  check("the last base metric completes the vector", input.value === "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
  check("9.8 Critical", result.textContent.indexOf("9.8 Critical") === 0);

  var fields = [];
  new FormData(document.getElementById("report-form")).forEach(function (_, key) { fields.push(key); });
  check("only the vector is submitted, not the controls: " + fields.join(","), fields.join(",") === "title,cvss_vector");

  document.getElementById("report").textContent =
    failures.concat([passed + " passed, " + failures.length + " failed"]).join("\n");
});
