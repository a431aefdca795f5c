//! Validation against the official schemas in `testdata/` (origins in testdata/README.md),
//! offline: the CVSS schemas the CSAF schema refers to by URL are registered locally.

use jsonschema::{Registry, Validator};
use serde_json::Value;
use std::sync::LazyLock;

fn load(path: &str) -> Value {
    let full = format!("{}/testdata/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("read {full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {full}: {e}"))
}

static OSV: LazyLock<Validator> = LazyLock::new(|| {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&load("osv/schema.json"))
        .expect("the OSV schema compiles")
});

static CSAF_REGISTRY: LazyLock<Registry<'static>> = LazyLock::new(|| {
    Registry::new()
        .add(
            "https://www.first.org/cvss/cvss-v2.0.json",
            load("csaf/referenced/cvss-v2.0.json"),
        )
        .and_then(|r| {
            r.add(
                "https://www.first.org/cvss/cvss-v3.0.json",
                load("csaf/referenced/cvss-v3.0.json"),
            )
        })
        .and_then(|r| {
            r.add(
                "https://www.first.org/cvss/cvss-v3.1.json",
                load("csaf/referenced/cvss-v3.1.json"),
            )
        })
        .and_then(|r| r.prepare())
        .expect("the CVSS schemas register")
});

static CSAF: LazyLock<Validator> = LazyLock::new(|| {
    jsonschema::options()
        .with_registry(&CSAF_REGISTRY)
        .should_validate_formats(true)
        .build(&load("csaf/csaf_json_schema.json"))
        .expect("the CSAF schema compiles with the CVSS schemas resolved locally")
});

fn errors(validator: &Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Every error the OSV schema reports, including the id prefix one.
pub fn osv_errors_all(doc: &Value) -> Vec<String> {
    errors(&OSV, doc)
}

/// The OSV schema's errors other than the one it always reports for Rampart ids: OSV
/// accepts only ids with the prefix of a registered home database (GHSA-, PYSEC-, ...),
/// and `RAMPART-` is not one (docs/advisories.md explains).
pub fn osv_errors(doc: &Value) -> Vec<String> {
    osv_errors_all(doc)
        .into_iter()
        .filter(|e| !e.starts_with("/id: "))
        .collect()
}

pub fn csaf_errors(doc: &Value) -> Vec<String> {
    errors(&CSAF, doc)
}
