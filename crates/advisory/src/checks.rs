//! Some of CSAF 2.0's mandatory tests (section 6.1), for any CSAF document: the ones about
//! product ids and CVSS that a schema cannot express. Rampart runs them on its own exports
//! in tests; the web layer can run them before publishing a document it did not write.
//!
//! Implemented: 6.1.1 (missing definition of product id), 6.1.2 (multiple definition of
//! product id), 6.1.6 (contradicting product status), 6.1.7 (multiple scores with the same version per product), 6.1.8 (invalid
//! CVSS), 6.1.9 (invalid CVSS computation), 6.1.10 (inconsistent CVSS), 6.1.11 (CWE, against
//! the CWE 4.14 list Rampart ships), 6.1.14 (sorted revision history), 6.1.16 (latest
//! document version), 6.1.21 (missing item in revision history), 6.1.22 (multiple definition
//! in revision history) and the profile tests 6.1.27.4, 6.1.27.5, 6.1.27.6 and 6.1.27.11
//! for `csaf_security_advisory`. The CVSS tests cover CVSS 3.x; CVSS 2.0 objects are not
//! checked, as Rampart does not score CVSS 2.

use crate::cvss_json::{V3_JSON_METRICS, severity_word};
use rampart_cvss::{Cvss, Version};
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// A failed mandatory test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The test's number in the standard, e.g. `6.1.1`.
    pub test: &'static str,
    /// A JSON pointer to the offending value, e.g. `/vulnerabilities/0/scores/0/products/1`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.test, self.path, self.message)
    }
}

/// Runs the implemented mandatory tests over a CSAF 2.0 document. An empty result means
/// they all pass; values of the wrong JSON type are skipped (the schema reports those).
pub fn check_csaf(doc: &Value) -> Vec<Violation> {
    let mut violations = Vec::new();
    let defined = defined_product_ids(doc, &mut violations);
    for (id, path) in referenced_product_ids(doc) {
        if !defined.contains(id) {
            violations.push(Violation {
                test: "6.1.1",
                path,
                message: format!("product id `{id}` is not defined in the product tree"),
            });
        }
    }
    for (v, vulnerability) in array(&doc["vulnerabilities"]).iter().enumerate() {
        check_product_status(v, vulnerability, &mut violations);
        check_scores(v, vulnerability, &mut violations);
        check_cwe(v, vulnerability, &mut violations);
    }
    check_revision_history(doc, &mut violations);
    check_profile(doc, &mut violations);
    violations
}

/// 6.1.6: a product is in at most one of the groups affected, not affected, fixed and
/// under investigation.
fn check_product_status(v: usize, vulnerability: &Value, violations: &mut Vec<Violation>) {
    const GROUPS: [(&str, &[&str]); 4] = [
        (
            "affected",
            &["first_affected", "known_affected", "last_affected"],
        ),
        ("not affected", &["known_not_affected"]),
        ("fixed", &["first_fixed", "fixed"]),
        ("under investigation", &["under_investigation"]),
    ];
    let status = &vulnerability["product_status"];
    let mut group_of: HashMap<&str, &str> = HashMap::new();
    for (group, keys) in GROUPS {
        for key in keys {
            for (i, product) in array(&status[*key]).iter().enumerate() {
                let Some(product) = product.as_str() else {
                    continue;
                };
                match group_of.get(product) {
                    Some(other) if *other != group => violations.push(Violation {
                        test: "6.1.6",
                        path: format!("/vulnerabilities/{v}/product_status/{key}/{i}"),
                        message: format!("product `{product}` is both {other} and {group}"),
                    }),
                    Some(_) => {}
                    None => {
                        group_of.insert(product, group);
                    }
                }
            }
        }
    }
}

/// 6.1.11: the CWE id exists and the name is the one MITRE gives it.
fn check_cwe(v: usize, vulnerability: &Value, violations: &mut Vec<Violation>) {
    let Some(cwe) = vulnerability.get("cwe") else {
        return;
    };
    let path = format!("/vulnerabilities/{v}/cwe");
    let id = cwe["id"].as_str().unwrap_or_default();
    let known = id
        .strip_prefix("CWE-")
        .and_then(|n| n.parse::<u32>().ok())
        .and_then(|n| rampart_cwe::catalog().get(n));
    match known {
        None => violations.push(Violation {
            test: "6.1.11",
            path: format!("{path}/id"),
            message: format!("`{id}` is not in the CWE list (CWE 4.14)"),
        }),
        Some(weakness) if cwe["name"].as_str() != Some(weakness.name) => {
            violations.push(Violation {
                test: "6.1.11",
                path: format!("{path}/name"),
                message: format!("the name of {id} is \"{}\"", weakness.name),
            });
        }
        Some(_) => {}
    }
}

/// A revision number as its numeric parts (`1`, `1.2.0`), ignoring pre-release and build
/// parts, which only semantic versions have.
fn version_parts(number: &str) -> Option<Vec<u64>> {
    let core = number.split(['-', '+']).next().unwrap_or_default();
    core.split('.').map(|part| part.parse().ok()).collect()
}

/// When an RFC 3339 time is, for ordering; unreadable times sort first.
fn instant(date: &str) -> i128 {
    time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp_nanos())
        .unwrap_or(i128::MIN)
}

/// 6.1.14, 6.1.16, 6.1.21 and 6.1.22 over `/document/tracking`.
fn check_revision_history(doc: &Value, violations: &mut Vec<Violation>) {
    let tracking = &doc["document"]["tracking"];
    let mut history: Vec<(usize, i128, &str, Vec<u64>)> = array(&tracking["revision_history"])
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let number = item["number"].as_str()?;
            let date = item["date"].as_str().unwrap_or_default();
            Some((i, instant(date), number, version_parts(number)?))
        })
        .collect();
    if history.is_empty() {
        return;
    }
    let base = "/document/tracking/revision_history";
    // Stable: items with the same date keep their order.
    history.sort_by_key(|(_, at, _, _)| *at);

    let mut seen: HashSet<&str> = HashSet::new();
    for (i, _, number, _) in &history {
        if !seen.insert(number) {
            violations.push(Violation {
                test: "6.1.22",
                path: format!("{base}/{i}/number"),
                message: format!("revision number {number} appears more than once"),
            });
        }
    }
    for pair in history.windows(2) {
        let (earlier, later) = (&pair[0], &pair[1]);
        if later.3 < earlier.3 {
            violations.push(Violation {
                test: "6.1.14",
                path: format!("{base}/{}/number", later.0),
                message: format!(
                    "revision {} is dated after revision {} but numbered before it",
                    later.2, earlier.2
                ),
            });
        }
        let (a, b) = (earlier.3[0], later.3[0]);
        if b > a + 1 {
            violations.push(Violation {
                test: "6.1.21",
                path: format!("{base}/{}/number", later.0),
                message: format!("the revision history skips from {a} to {b}"),
            });
        }
    }
    let first = &history[0];
    if first.3[0] > 1 {
        violations.push(Violation {
            test: "6.1.21",
            path: format!("{base}/{}/number", first.0),
            message: format!("the first revision is {}; it must be 0 or 1", first.2),
        });
    }
    let last = &history[history.len() - 1];
    let Some(version) = tracking["version"].as_str() else {
        return;
    };
    let draft = tracking["status"].as_str() == Some("draft");
    let strip = |v: &str| -> String {
        let without_build = v.split('+').next().unwrap_or_default();
        if draft {
            without_build
                .split('-')
                .next()
                .unwrap_or_default()
                .to_owned()
        } else {
            without_build.to_owned()
        }
    };
    if strip(version) != strip(last.2) {
        violations.push(Violation {
            test: "6.1.16",
            path: "/document/tracking/version".to_owned(),
            message: format!(
                "the version is {version} but the latest revision is {}",
                last.2
            ),
        });
    }
}

/// The profile tests of a `csaf_security_advisory`: a product tree (6.1.27.4),
/// vulnerabilities (6.1.27.11), each with notes (6.1.27.5) and a product status (6.1.27.6).
fn check_profile(doc: &Value, violations: &mut Vec<Violation>) {
    if doc["document"]["category"].as_str() != Some("csaf_security_advisory") {
        return;
    }
    let mut violation = |test: &'static str, path: String, message: &str| {
        violations.push(Violation {
            test,
            path,
            message: message.to_owned(),
        });
    };
    if doc.get("product_tree").is_none() {
        violation(
            "6.1.27.4",
            "/product_tree".into(),
            "a security advisory must have a product tree",
        );
    }
    let vulnerabilities = array(&doc["vulnerabilities"]);
    if vulnerabilities.is_empty() {
        violation(
            "6.1.27.11",
            "/vulnerabilities".into(),
            "a security advisory must describe at least one vulnerability",
        );
    }
    for (v, vulnerability) in vulnerabilities.iter().enumerate() {
        if vulnerability.get("notes").is_none() {
            violation(
                "6.1.27.5",
                format!("/vulnerabilities/{v}/notes"),
                "each vulnerability of a security advisory must have notes",
            );
        }
        if vulnerability.get("product_status").is_none() {
            violation(
                "6.1.27.6",
                format!("/vulnerabilities/{v}/product_status"),
                "each vulnerability of a security advisory must have a product status",
            );
        }
    }
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// Every product id the product tree defines; a second definition is a 6.1.2 violation.
fn defined_product_ids(doc: &Value, violations: &mut Vec<Violation>) -> HashSet<String> {
    let mut found: Vec<(String, String)> = Vec::new();
    let tree = &doc["product_tree"];
    for (i, name) in array(&tree["full_product_names"]).iter().enumerate() {
        if let Some(id) = name["product_id"].as_str() {
            found.push((
                id.to_owned(),
                format!("/product_tree/full_product_names/{i}/product_id"),
            ));
        }
    }
    walk_branches(&tree["branches"], "/product_tree/branches", &mut found);
    for (i, relationship) in array(&tree["relationships"]).iter().enumerate() {
        if let Some(id) = relationship["full_product_name"]["product_id"].as_str() {
            found.push((
                id.to_owned(),
                format!("/product_tree/relationships/{i}/full_product_name/product_id"),
            ));
        }
    }
    let mut defined = HashSet::new();
    for (id, path) in found {
        if !defined.insert(id.clone()) {
            violations.push(Violation {
                test: "6.1.2",
                path,
                message: format!("product id `{id}` is defined more than once"),
            });
        }
    }
    defined
}

fn walk_branches(branches: &Value, path: &str, found: &mut Vec<(String, String)>) {
    for (i, branch) in array(branches).iter().enumerate() {
        let here = format!("{path}/{i}");
        if let Some(id) = branch["product"]["product_id"].as_str() {
            found.push((id.to_owned(), format!("{here}/product/product_id")));
        }
        walk_branches(&branch["branches"], &format!("{here}/branches"), found);
    }
}

/// Every place a product id is used, with its JSON pointer.
fn referenced_product_ids(doc: &Value) -> Vec<(&str, String)> {
    fn ids<'v>(value: &'v Value, path: &str, out: &mut Vec<(&'v str, String)>) {
        for (i, id) in array(value).iter().enumerate() {
            if let Some(id) = id.as_str() {
                out.push((id, format!("{path}/{i}")));
            }
        }
    }
    let mut out = Vec::new();
    let tree = &doc["product_tree"];
    for (g, group) in array(&tree["product_groups"]).iter().enumerate() {
        ids(
            &group["product_ids"],
            &format!("/product_tree/product_groups/{g}/product_ids"),
            &mut out,
        );
    }
    for (r, relationship) in array(&tree["relationships"]).iter().enumerate() {
        for key in ["product_reference", "relates_to_product_reference"] {
            if let Some(id) = relationship[key].as_str() {
                out.push((id, format!("/product_tree/relationships/{r}/{key}")));
            }
        }
    }
    for (v, vulnerability) in array(&doc["vulnerabilities"]).iter().enumerate() {
        let base = format!("/vulnerabilities/{v}");
        if let Some(status) = vulnerability["product_status"].as_object() {
            for (key, value) in status {
                ids(value, &format!("{base}/product_status/{key}"), &mut out);
            }
        }
        for (s, score) in array(&vulnerability["scores"]).iter().enumerate() {
            ids(
                &score["products"],
                &format!("{base}/scores/{s}/products"),
                &mut out,
            );
        }
        for key in ["remediations", "threats", "flags"] {
            for (r, entry) in array(&vulnerability[key]).iter().enumerate() {
                ids(
                    &entry["product_ids"],
                    &format!("{base}/{key}/{r}/product_ids"),
                    &mut out,
                );
            }
        }
    }
    out
}

fn check_scores(v: usize, vulnerability: &Value, violations: &mut Vec<Violation>) {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for (s, score) in array(&vulnerability["scores"]).iter().enumerate() {
        let path = format!("/vulnerabilities/{v}/scores/{s}");
        let mut versions = Vec::new();
        if score.get("cvss_v2").is_some() {
            versions.push("2.0".to_owned());
        }
        if let Some(object) = score.get("cvss_v3") {
            if let Some(version) = object["version"].as_str() {
                versions.push(version.to_owned());
            }
            check_cvss_v3(object, &format!("{path}/cvss_v3"), violations);
        }
        for (p, product) in array(&score["products"]).iter().enumerate() {
            let Some(product) = product.as_str() else {
                continue;
            };
            for version in &versions {
                let count = seen
                    .entry((product.to_owned(), version.clone()))
                    .or_default();
                *count += 1;
                if *count == 2 {
                    violations.push(Violation {
                        test: "6.1.7",
                        path: format!("{path}/products/{p}"),
                        message: format!(
                            "product `{product}` has more than one CVSS {version} score in this \
                             vulnerability"
                        ),
                    });
                }
            }
        }
    }
}

fn check_cvss_v3(object: &Value, path: &str, violations: &mut Vec<Violation>) {
    let mut violation = |test: &'static str, at: &str, message: String| {
        violations.push(Violation {
            test,
            path: format!("{path}{at}"),
            message,
        });
    };
    let Some(vector) = object["vectorString"].as_str() else {
        violation(
            "6.1.8",
            "/vectorString",
            "the CVSS object has no vector string".into(),
        );
        return;
    };
    let cvss = match Cvss::parse(vector) {
        Ok(cvss) if cvss.version() != Version::V4_0 => cvss,
        Ok(_) => {
            violation(
                "6.1.8",
                "/vectorString",
                "a cvss_v3 object holds a CVSS 4.0 vector".into(),
            );
            return;
        }
        Err(e) => {
            violation(
                "6.1.8",
                "/vectorString",
                format!("invalid CVSS vector: {e}"),
            );
            return;
        }
    };
    let expected_version = cvss.version().as_str();
    if object["version"].as_str() != Some(expected_version) {
        violation(
            "6.1.8",
            "/version",
            format!("the version must be {expected_version}, as the vector says"),
        );
    }
    for (key, severity_key, computed) in [
        ("baseScore", "baseSeverity", Some(cvss.base_score())),
        ("temporalScore", "temporalSeverity", cvss.temporal_score()),
        (
            "environmentalScore",
            "environmentalSeverity",
            cvss.environmental_score(),
        ),
    ] {
        let given = object.get(key);
        if key == "baseScore" && given.is_none() {
            violation(
                "6.1.8",
                "/baseScore",
                "the CVSS object has no base score".into(),
            );
        }
        if let (Some(given), Some(computed)) = (given, computed) {
            match given.as_f64() {
                Some(score) if (score - computed).abs() < 1e-9 => {}
                _ => violation(
                    "6.1.9",
                    &format!("/{key}"),
                    format!("{key} is {given}, but the vector computes to {computed}"),
                ),
            }
        }
        if let (Some(given), Some(computed)) = (object.get(severity_key), computed) {
            let expected = severity_word(computed);
            if given.as_str() != Some(expected) {
                violation(
                    "6.1.9",
                    &format!("/{severity_key}"),
                    format!("{severity_key} is {given}, but the score {computed} rates {expected}"),
                );
            }
        }
    }
    for metric in V3_JSON_METRICS {
        let Some(given) = object.get(metric.property) else {
            continue;
        };
        let expected = metric.json_value(cvss.value(metric.abbrev));
        if given.as_str() != expected {
            violation(
                "6.1.10",
                &format!("/{}", metric.property),
                format!(
                    "{} is {given}, but the vector says {}",
                    metric.property,
                    expected.unwrap_or("nothing")
                ),
            );
        }
    }
}
