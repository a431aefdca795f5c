//! The CSAF 2.0 export: a `csaf_security_advisory` document, the format vendors and CERTs
//! exchange machine-readable advisories in.

use crate::cvss_json;
use crate::prepare::{Prepared, Product};
use crate::text;
use rampart_cvss::Version;
use serde_json::{Map, Value, json};

pub(crate) fn document(p: &Prepared<'_>) -> Value {
    let tree = ProductTree::build(p);

    let mut document = Map::new();
    document.insert("category".into(), json!("csaf_security_advisory"));
    document.insert("csaf_version".into(), json!("2.0"));
    document.insert("title".into(), json!(p.title));
    document.insert(
        "publisher".into(),
        json!({ "category": "vendor", "name": p.publisher, "namespace": p.namespace }),
    );
    // A disclosed report is public by definition.
    document.insert(
        "distribution".into(),
        json!({ "tlp": { "label": "WHITE", "url": "https://www.first.org/tlp/" } }),
    );
    if let Some(cvss) = &p.cvss {
        document.insert(
            "aggregate_severity".into(),
            json!({ "text": cvss.rating().label() }),
        );
    }
    document.insert(
        "notes".into(),
        json!([
            { "category": "summary", "title": "Summary", "text": p.summary },
            {
                "category": "general",
                "title": "Source",
                "text": format!(
                    "Reported through the {} vulnerability disclosure programme and disclosed \
                     by {}.",
                    p.programme_name, p.publisher
                ),
            },
        ]),
    );
    document.insert("tracking".into(), tracking(p));

    let mut doc = Map::new();
    doc.insert("document".into(), Value::Object(document));
    doc.insert("product_tree".into(), tree.json);
    doc.insert(
        "vulnerabilities".into(),
        json!([vulnerability(p, &tree.status)]),
    );
    Value::Object(doc)
}

fn tracking(p: &Prepared<'_>) -> Value {
    let mut history = vec![json!({
        "date": p.published,
        "number": "1",
        "summary": "Initial public release.",
    })];
    if p.revised {
        history.push(json!({
            "date": p.modified,
            "number": "2",
            "summary": "Advisory updated.",
        }));
    }
    json!({
        "current_release_date": p.modified,
        "generator": {
            "engine": { "name": "Rampart", "version": env!("CARGO_PKG_VERSION") },
        },
        "id": p.id,
        "initial_release_date": p.published,
        "revision_history": history,
        "status": "final",
        "version": if p.revised { "2" } else { "1" },
    })
}

/// The product ids of one input product, by status.
#[derive(Default)]
struct ProductStatus {
    affected: Vec<String>,
    fixed: Vec<String>,
    /// The first fixed version, for the remediation text.
    fixed_version: Option<String>,
    name: String,
}

struct ProductTree {
    json: Value,
    status: Vec<ProductStatus>,
}

impl ProductTree {
    /// vendor → product name → versions: one `product_version` branch per listed version,
    /// one `product_version_range` branch (a `vers:` range) for the affected range, and one
    /// `product_version` branch for the fixed version. A product without version
    /// information is a product of its own.
    fn build(p: &Prepared<'_>) -> Self {
        let mut next = 0usize;
        let mut new_id = || {
            next += 1;
            format!("CSAFPID-{next:04}")
        };
        let mut product_branches = Vec::new();
        let mut statuses = Vec::new();
        for product in &p.products {
            let mut status = ProductStatus {
                name: product.name.clone(),
                fixed_version: product.fixed.clone(),
                ..ProductStatus::default()
            };
            let mut children = Vec::new();
            for version in &product.versions {
                let id = new_id();
                children.push(json!({
                    "category": "product_version",
                    "name": version,
                    "product": { "name": format!("{} {version}", product.name), "product_id": id },
                }));
                status.affected.push(id);
            }
            if product.has_range() {
                let id = new_id();
                children.push(json!({
                    "category": "product_version_range",
                    "name": vers_range(product),
                    "product": { "name": range_name(product), "product_id": id },
                }));
                status.affected.push(id);
            }
            if let Some(fixed) = &product.fixed {
                let id = new_id();
                children.push(json!({
                    "category": "product_version",
                    "name": fixed,
                    "product": { "name": format!("{} {fixed}", product.name), "product_id": id },
                }));
                status.fixed.push(id);
            }
            let branch = if children.is_empty() {
                let id = new_id();
                let mut full_name = json!({ "name": product.name, "product_id": id });
                if let Some(purl) = product.package.as_ref().and_then(|pkg| pkg.purl.as_ref()) {
                    full_name["product_identification_helper"] = json!({ "purl": purl });
                }
                if product.resolved {
                    status.fixed.push(id);
                } else {
                    status.affected.push(id);
                }
                json!({ "category": "product_name", "name": product.name, "product": full_name })
            } else {
                json!({ "category": "product_name", "name": product.name, "branches": children })
            };
            product_branches.push(branch);
            statuses.push(status);
        }
        let json = json!({
            "branches": [{
                "category": "vendor",
                "name": p.publisher,
                "branches": product_branches,
            }],
        });
        Self {
            json,
            status: statuses,
        }
    }
}

/// A `vers:` range for the affected versions: `vers:semver/>=1.0.0|<1.4.2`.
fn vers_range(product: &Product) -> String {
    let scheme = if product.semver { "semver" } else { "generic" };
    let mut constraints = Vec::new();
    if let Some(introduced) = product.introduced.as_deref().filter(|v| *v != "0") {
        constraints.push(format!(">={}", text::vers_escape(introduced)));
    }
    if let Some(fixed) = &product.fixed {
        constraints.push(format!("<{}", text::vers_escape(fixed)));
    } else if let Some(last) = &product.last_affected {
        constraints.push(format!("<={}", text::vers_escape(last)));
    }
    if constraints.is_empty() {
        // Only "introduced 0": every version.
        constraints.push("*".to_owned());
    }
    format!("vers:{scheme}/{}", constraints.join("|"))
}

/// The range in words, for the product's full name.
fn range_name(product: &Product) -> String {
    let name = &product.name;
    let from = product.introduced.as_deref().filter(|v| *v != "0");
    match (from, &product.fixed, &product.last_affected) {
        (Some(from), Some(fixed), _) => format!("{name} from {from} before {fixed}"),
        (None, Some(fixed), _) => format!("{name} before {fixed}"),
        (Some(from), None, Some(last)) => format!("{name} from {from} through {last}"),
        (None, None, Some(last)) => format!("{name} through {last}"),
        (Some(from), None, None) => format!("{name} from {from}"),
        (None, None, None) => format!("{name} (all versions)"),
    }
}

fn vulnerability(p: &Prepared<'_>, status: &[ProductStatus]) -> Value {
    let affected: Vec<&String> = status.iter().flat_map(|s| &s.affected).collect();
    let fixed: Vec<&String> = status.iter().flat_map(|s| &s.fixed).collect();

    let mut vulnerability = Map::new();
    vulnerability.insert("title".into(), json!(p.title));

    let mut ids = Vec::new();
    let mut cve = None;
    for alias in &p.aliases {
        if cve.is_none() && is_cve(alias) {
            cve = Some(alias);
        } else {
            ids.push(json!({ "system_name": alias_system(alias), "text": alias }));
        }
    }
    if let Some(cve) = cve {
        vulnerability.insert("cve".into(), json!(cve));
    }
    if !ids.is_empty() {
        vulnerability.insert("ids".into(), Value::Array(ids));
    }
    if let (Some(id), Some(name)) = (p.cwe, p.cwe_name) {
        vulnerability.insert(
            "cwe".into(),
            json!({ "id": format!("CWE-{id}"), "name": name }),
        );
    }

    let mut notes = vec![json!({ "category": "summary", "title": "Summary", "text": p.summary })];
    if let Some(details) = p.details {
        notes.push(json!({ "category": "description", "title": "Details", "text": details }));
    }
    if let Some(cvss) = p.cvss.as_ref().filter(|c| c.version() == Version::V4_0) {
        // CSAF 2.0 scores only CVSS 2 and 3; the 4.0 assessment travels as a note.
        notes.push(json!({
            "category": "other",
            "title": "CVSS v4.0",
            "text": format!(
                "CVSS v4.0 vector: {}. Score {} ({}). CSAF 2.0 has no field for CVSS v4.0 \
                 scores, so the vector is given in this note.",
                cvss.normalized(),
                cvss.score(),
                cvss.rating().label()
            ),
        }));
    }
    vulnerability.insert("notes".into(), Value::Array(notes));

    let mut product_status = Map::new();
    if !affected.is_empty() {
        product_status.insert("known_affected".into(), json!(affected));
    }
    if !fixed.is_empty() {
        product_status.insert("fixed".into(), json!(fixed));
    }
    vulnerability.insert("product_status".into(), Value::Object(product_status));

    vulnerability.insert("remediations".into(), remediations(p, status));

    if let Some(object) = p.cvss.as_ref().and_then(cvss_json::cvss_v3_object) {
        // The score describes the flaw itself, so it names the affected products (or the
        // fixed ones, when everything affected was fixed in place).
        let products = if affected.is_empty() {
            &fixed
        } else {
            &affected
        };
        vulnerability.insert(
            "scores".into(),
            json!([{ "products": products, "cvss_v3": object }]),
        );
    }

    if !p.credits.is_empty() {
        let acknowledgments: Vec<Value> = p
            .credits
            .iter()
            .map(|credit| {
                let mut entry = json!({
                    "names": [credit.name],
                    "summary": credit.kind.acknowledgment(),
                });
                if let Some(contact) = &credit.contact {
                    entry["urls"] = json!([contact]);
                }
                entry
            })
            .collect();
        vulnerability.insert("acknowledgments".into(), Value::Array(acknowledgments));
    }

    if !p.references.is_empty() {
        let references: Vec<Value> = p
            .references
            .iter()
            .map(|(kind, url)| json!({ "category": "external", "summary": kind.label(), "url": url }))
            .collect();
        vulnerability.insert("references".into(), Value::Array(references));
    }
    vulnerability.insert("release_date".into(), json!(p.published));
    Value::Object(vulnerability)
}

/// One remediation per fixed version, one for the affected products without a fixed
/// version and one for products fixed in place.
fn remediations(p: &Prepared<'_>, status: &[ProductStatus]) -> Value {
    let mut out = Vec::new();
    let mut without_fix: Vec<&String> = Vec::new();
    let mut fixed_in_place: Vec<&String> = Vec::new();
    for product in status {
        match &product.fixed_version {
            Some(version) if !product.affected.is_empty() => out.push(json!({
                "category": "vendor_fix",
                "details": format!("Update {} to version {version} or later.", product.name),
                "product_ids": product.affected,
            })),
            Some(_) => {}
            None if product.affected.is_empty() => fixed_in_place.extend(&product.fixed),
            None => without_fix.extend(&product.affected),
        }
    }
    if !without_fix.is_empty() {
        out.push(match p.remediation {
            Some(text) => json!({
                "category": "vendor_fix",
                "details": text,
                "product_ids": without_fix,
            }),
            None => json!({
                "category": "none_available",
                "details": "This advisory names no fixed version for these products.",
                "product_ids": without_fix,
            }),
        });
    }
    if !fixed_in_place.is_empty() {
        out.push(json!({
            "category": "vendor_fix",
            "details": p.remediation.unwrap_or(
                "Fixed by the vendor in the running service; no action is required."
            ),
            "product_ids": fixed_in_place,
        }));
    }
    Value::Array(out)
}

fn is_cve(alias: &str) -> bool {
    let Some(rest) = alias.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && number.len() >= 4
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// The numbering system an alias belongs to, from its prefix.
fn alias_system(alias: &str) -> String {
    let prefix = alias.split('-').next().unwrap_or_default();
    match prefix {
        "CVE" => "CVE".to_owned(),
        "GHSA" => "GitHub Security Advisory".to_owned(),
        "OSV" => "OSV".to_owned(),
        _ => "Other identifier".to_owned(),
    }
}

/// The file name CSAF gives a document (section 5.1 of the standard): the tracking id in
/// lower case, with every character other than `+`, `-`, `a-z` and `0-9` replaced by `_`,
/// and `.json` appended.
pub fn csaf_filename(tracking_id: &str) -> String {
    let id = text::one_line_opt(tracking_id).unwrap_or_else(|| crate::prepare::FALLBACK_ID.into());
    let mut name: String = id
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '+' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    name.push_str(".json");
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_follow_section_5_1() {
        assert_eq!(
            csaf_filename("RAMPART-acme-2026-0001"),
            "rampart-acme-2026-0001.json"
        );
        assert_eq!(
            csaf_filename("Example Company - 2019-YH3234"),
            "example_company_-_2019-yh3234.json"
        );
        assert_eq!(csaf_filename("ü/.."), "____.json");
    }

    #[test]
    fn cve_ids_are_recognised() {
        assert!(is_cve("CVE-2026-12345"));
        assert!(is_cve("CVE-2026-0001"));
        assert!(!is_cve("CVE-26-0001"));
        assert!(!is_cve("CVE-2026-001"));
        assert!(!is_cve("GHSA-xxxx-yyyy-zzzz"));
    }
}
