//! The OSV export (schema 1.7.x): the format vulnerability databases and scanners read.

use crate::prepare::{Prepared, Product};
use rampart_cvss::Version;
use serde_json::{Map, Value, json};

/// The OSV schema version the output follows.
pub const OSV_SCHEMA_VERSION: &str = "1.7.0";

pub(crate) fn document(p: &Prepared<'_>) -> Value {
    let mut doc = Map::new();
    doc.insert("schema_version".into(), json!(OSV_SCHEMA_VERSION));
    doc.insert("id".into(), json!(p.id));
    doc.insert("modified".into(), json!(p.modified));
    doc.insert("published".into(), json!(p.published));
    if !p.aliases.is_empty() {
        doc.insert("aliases".into(), json!(p.aliases));
    }
    // OSV's summary is one line; the markdown summary opens the details instead.
    doc.insert("summary".into(), json!(p.title));
    let details = match p.details {
        Some(details) => format!("{}\n\n{details}", p.summary),
        None => p.summary.clone(),
    };
    doc.insert("details".into(), json!(details));

    if let Some(cvss) = &p.cvss {
        let kind = match cvss.version() {
            Version::V3_0 | Version::V3_1 => "CVSS_V3",
            Version::V4_0 => "CVSS_V4",
        };
        doc.insert(
            "severity".into(),
            json!([{ "type": kind, "score": cvss.normalized() }]),
        );
    }

    let packaged: Vec<Value> = p
        .products
        .iter()
        .filter(|product| {
            product
                .package
                .as_ref()
                .is_some_and(|pkg| pkg.osv_ecosystem)
        })
        .map(affected_package)
        .collect();
    if !packaged.is_empty() {
        doc.insert("affected".into(), Value::Array(packaged));
    }

    if !p.references.is_empty() {
        let references: Vec<Value> = p
            .references
            .iter()
            .map(|(kind, url)| json!({ "type": kind.osv_type(), "url": url }))
            .collect();
        doc.insert("references".into(), Value::Array(references));
    }

    if !p.credits.is_empty() {
        let credits: Vec<Value> = p
            .credits
            .iter()
            .map(|credit| {
                let mut entry = json!({ "name": credit.name, "type": credit.kind.osv_type() });
                if let Some(contact) = &credit.contact {
                    entry["contact"] = json!([contact]);
                }
                entry
            })
            .collect();
        doc.insert("credits".into(), Value::Array(credits));
    }

    doc.insert("database_specific".into(), database_specific(p));
    Value::Object(doc)
}

/// One `affected[]` entry for a product in an OSV ecosystem.
fn affected_package(product: &Product) -> Value {
    let mut entry = Map::new();
    if let Some(package) = &product.package {
        let mut pkg = json!({ "ecosystem": package.ecosystem, "name": package.name });
        if let Some(purl) = &package.purl {
            pkg["purl"] = json!(purl);
        }
        entry.insert("package".into(), pkg);
    }
    if product.has_range() {
        let mut events = vec![json!({
            "introduced": product.introduced.as_deref().unwrap_or("0")
        })];
        // OSV allows `fixed` or `last_affected` in one range, not both.
        if let Some(fixed) = &product.fixed {
            events.push(json!({ "fixed": fixed }));
        } else if let Some(last) = &product.last_affected {
            events.push(json!({ "last_affected": last }));
        }
        let kind = if product.semver {
            "SEMVER"
        } else {
            "ECOSYSTEM"
        };
        entry.insert("ranges".into(), json!([{ "type": kind, "events": events }]));
    }
    if !product.versions.is_empty() {
        entry.insert("versions".into(), json!(product.versions));
    }
    entry.insert(
        "database_specific".into(),
        json!({ "product": product.name }),
    );
    Value::Object(entry)
}

/// What OSV has no field for: the CWE (as GitHub's advisories write it), the rating, the
/// programme, and products that are not packages in an OSV ecosystem.
fn database_specific(p: &Prepared<'_>) -> Value {
    let mut specific = Map::new();
    if let Some(cwe) = p.cwe {
        specific.insert("cwe_ids".into(), json!([format!("CWE-{cwe}")]));
    }
    if let Some(cvss) = &p.cvss {
        specific.insert(
            "severity".into(),
            json!(cvss.rating().label().to_ascii_uppercase()),
        );
        specific.insert("cvss_score".into(), json!(cvss.score()));
    }
    specific.insert(
        "programme".into(),
        json!({ "name": p.programme_name, "slug": p.programme_slug }),
    );
    let other: Vec<Value> = p
        .products
        .iter()
        .filter(|product| {
            !product
                .package
                .as_ref()
                .is_some_and(|pkg| pkg.osv_ecosystem)
        })
        .map(|product| {
            let mut entry = Map::new();
            entry.insert("product".into(), json!(product.name));
            if let Some(package) = &product.package {
                let mut pkg = json!({ "ecosystem": package.ecosystem, "name": package.name });
                if let Some(purl) = &package.purl {
                    pkg["purl"] = json!(purl);
                }
                entry.insert("package".into(), pkg);
            }
            if !product.versions.is_empty() {
                entry.insert("versions".into(), json!(product.versions));
            }
            for (key, value) in [
                ("introduced", &product.introduced),
                ("fixed", &product.fixed),
                ("last_affected", &product.last_affected),
            ] {
                if let Some(value) = value {
                    entry.insert(key.into(), json!(value));
                }
            }
            // `resolved` only describes products without version information.
            if product.resolved && product.versions.is_empty() && !product.has_range() {
                entry.insert("resolved".into(), json!(true));
            }
            Value::Object(entry)
        })
        .collect();
    if !other.is_empty() {
        specific.insert("affected_products".into(), Value::Array(other));
    }
    Value::Object(specific)
}
