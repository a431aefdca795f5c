//! Output formats: text for people, JSON for scripts, SARIF 2.1.0 for code
//! scanning dashboards (GitHub accepts it as uploaded).

use crate::finding::Finding;
use crate::rules::{Confidence, RuleSpec};
use crate::scan::ScanReport;
use rampart_core::Severity;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Human-readable listing; `colour` adds ANSI colours (terminals only).
pub fn text(report: &ScanReport, findings: &[Finding], colour: bool) -> String {
    let paint = |code: &str, s: &str| {
        if colour {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    };
    let mut out = String::new();
    for f in findings {
        let _ = writeln!(
            out,
            "{}  {}  {}",
            paint("1", &format!("{}:{}:{}", f.path, f.line, f.column)),
            paint("31;1", &f.rule_id),
            f.description,
        );
        let _ = writeln!(
            out,
            "    secret {}  confidence {}  entropy {:.2}  fingerprint {}",
            paint("33", &f.masked),
            f.confidence.as_str(),
            f.entropy,
            &f.fingerprint[..16.min(f.fingerprint.len())]
        );
        if let Some(v) = &f.validation {
            let status = match v.status {
                crate::validate::ValidationStatus::Valid => paint("31;1", "LIVE"),
                crate::validate::ValidationStatus::Invalid => paint("32", "not valid"),
                crate::validate::ValidationStatus::Unknown => "unknown".to_owned(),
            };
            let who = v
                .identity
                .as_deref()
                .map(|i| format!(" as {i}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    validated ({}): {status}{who}: {}",
                v.validator, v.detail
            );
        }
        if let Some(c) = &f.commit {
            let short = &c.commit[..12.min(c.commit.len())];
            let _ = writeln!(
                out,
                "    first committed in {short} by {} <{}> on {}",
                c.author, c.email, c.date
            );
        }
    }
    let s = &report.stats;
    let files: std::collections::BTreeSet<&str> =
        findings.iter().map(|f| f.path.as_str()).collect();
    let noun = if findings.len() == 1 {
        "secret"
    } else {
        "secrets"
    };
    let _ = write!(
        out,
        "{} {noun} in {} {}; scanned {} {} ({}) in {} ms",
        findings.len(),
        files.len(),
        if files.len() == 1 { "file" } else { "files" },
        s.files,
        if s.commits.is_some() {
            "blobs"
        } else {
            "files"
        },
        human_bytes(s.bytes),
        s.elapsed_ms
    );
    if let Some(c) = s.commits {
        let _ = write!(out, " across {c} commits");
    }
    if !report.skipped.is_empty() {
        let _ = write!(
            out,
            "; {} skipped (binary or over the size limit)",
            report.skipped.len()
        );
    }
    out.push('\n');
    if findings.is_empty() {
        out.push_str(&paint("32", "No new secrets."));
        out.push('\n');
    }
    out
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// One JSON document: findings, skipped files, warnings and statistics.
pub fn json(report: &ScanReport, findings: &[Finding]) -> Value {
    json!({
        "version": 1,
        "findings": findings,
        "skipped": report.skipped,
        "warnings": report.warnings,
        "stats": report.stats,
    })
}

fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` property: a CVSS-like score per level.
fn security_severity(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

fn precision(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "very-high",
        Confidence::Medium => "high",
        Confidence::Low => "medium",
    }
}

/// Percent-encodes a relative path for `artifactLocation.uri`.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A SARIF 2.1.0 log with one run; the rules listed are those with results.
pub fn sarif<'a>(
    findings: &[Finding],
    rules: impl Iterator<Item = &'a RuleSpec>,
    version: &str,
) -> Value {
    let by_id: BTreeMap<&str, &RuleSpec> = rules.map(|r| (r.id.as_str(), r)).collect();
    let mut used: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
    used.sort_unstable();
    used.dedup();
    let index: BTreeMap<&str, usize> = used.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let rules_json: Vec<Value> = used
        .iter()
        .map(|id| {
            let (desc, provider, sev, conf) = match by_id.get(id) {
                Some(r) => (r.description.as_str(), r.provider.as_str(), r.severity, r.confidence),
                None => (*id, "custom", Severity::High, Confidence::Medium),
            };
            json!({
                "id": id,
                "name": camel(id),
                "shortDescription": { "text": desc },
                "fullDescription": { "text": format!("{desc} ({provider}) committed to the repository.") },
                "help": {
                    "text": "Revoke the secret at its provider first (assume it has been copied), then remove it from the code and, if needed, from the history. Suppress a false positive with a `rampart:allow` comment on the line or a baseline entry.",
                },
                "defaultConfiguration": { "level": level(sev) },
                "properties": {
                    "tags": ["security", "secrets", "external/cwe/cwe-798"],
                    "precision": precision(conf),
                    "security-severity": security_severity(sev),
                },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut properties = json!({
                "provider": f.provider,
                "confidence": f.confidence,
                "entropy": f.entropy,
                "masked": f.masked,
            });
            if let Some(c) = &f.commit {
                properties["commit"] = json!(c);
            }
            if let Some(v) = &f.validation {
                properties["validation"] = json!(v);
            }
            json!({
                "ruleId": f.rule_id,
                "ruleIndex": index.get(f.rule_id.as_str()).copied().unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": format!("{} found: {}", f.description, f.masked) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&f.path) },
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column.max(1),
                        }
                    }
                }],
                "partialFingerprints": { "rampartSecret/v1": f.fingerprint },
                "properties": properties,
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "Rampart secrets",
                    "version": version,
                    "semanticVersion": version,
                    "rules": rules_json,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

fn camel(id: &str) -> String {
    id.split(['-', '_', '.'])
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_encoding() {
        assert_eq!(uri("src/a b/é.txt"), "src/a%20b/%C3%A9.txt");
    }

    #[test]
    fn names() {
        assert_eq!(camel("github-pat"), "GithubPat");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(2048), "2.0 KiB");
    }
}
