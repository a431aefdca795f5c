//! Baselines: accepted findings keyed by fingerprint (rule, path, secret;
//! no line number, so edits above a known secret do not resurrect it).
//! `--baseline FILE` reports only what is not in it. A detect-secrets
//! `.secrets.baseline` can be read directly: its entries match by path and
//! the SHA-1 of the secret, which is what detect-secrets stores.

use crate::Error;
use crate::finding::Finding;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

/// A person's verdict on a baseline entry (`baseline audit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    #[default]
    Unaudited,
    TrueSecret,
    FalsePositive,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Rampart's fingerprint; absent for entries imported from detect-secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    pub rule_id: String,
    pub path: String,
    /// Where it was last seen; informative only, never used to match.
    pub line: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masked: Option<String>,
    /// SHA-1 of the secret, hex (detect-secrets' `hashed_secret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_sha1: Option<String>,
    #[serde(default)]
    pub verdict: Verdict,
}

/// A Rampart baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub generated_by: String,
    pub entries: Vec<Entry>,
}

impl Default for Baseline {
    fn default() -> Self {
        Baseline {
            version: 1,
            generated_by: format!("rampart {}", env!("CARGO_PKG_VERSION")),
            entries: Vec::new(),
        }
    }
}

fn entry_of(f: &Finding) -> Entry {
    Entry {
        fingerprint: Some(f.fingerprint.clone()),
        rule_id: f.rule_id.clone(),
        path: f.path.clone(),
        line: f.line,
        masked: Some(f.masked.clone()),
        secret_sha1: Some(f.secret_sha1()),
        verdict: Verdict::Unaudited,
    }
}

impl Baseline {
    /// A baseline accepting every given finding.
    pub fn from_findings(findings: &[Finding]) -> Baseline {
        let mut b = Baseline::default();
        b.update(findings);
        b
    }

    /// Re-aligns with a fresh scan: entries still found keep their verdict
    /// (and move to the new line), new findings are added unaudited, and
    /// entries no longer found are dropped.
    pub fn update(&mut self, findings: &[Finding]) {
        let mut next = Vec::with_capacity(findings.len());
        let mut seen = HashSet::new();
        for f in findings {
            if !seen.insert(f.fingerprint.clone()) {
                continue;
            }
            let mut e = entry_of(f);
            if let Some(old) = self.entries.iter().find(|old| old.matches(f)) {
                e.verdict = old.verdict;
            }
            next.push(e);
        }
        next.sort_by(|a, b| (&a.path, a.line, &a.rule_id).cmp(&(&b.path, b.line, &b.rule_id)));
        self.entries = next;
        self.generated_by = Baseline::default().generated_by;
    }

    /// Whether a finding is already accepted.
    pub fn contains(&self, f: &Finding) -> bool {
        self.entries.iter().any(|e| e.matches(f))
    }

    /// The findings not in the baseline.
    pub fn filter_new(&self, findings: Vec<Finding>) -> Vec<Finding> {
        let fingerprints: HashSet<&str> = self
            .entries
            .iter()
            .filter_map(|e| e.fingerprint.as_deref())
            .collect();
        let imported: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.fingerprint.is_none())
            .collect();
        findings
            .into_iter()
            .filter(|f| {
                !fingerprints.contains(f.fingerprint.as_str())
                    && !imported.iter().any(|e| e.matches(f))
            })
            .collect()
    }

    /// Reads a Rampart baseline or a detect-secrets `.secrets.baseline`.
    pub fn load(path: &Path) -> Result<Baseline, Error> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Baseline {
            path: shown.clone(),
            message: format!("could not read: {e}"),
        })?;
        Baseline::parse(&text, &shown)
    }

    pub fn parse(text: &str, shown: &str) -> Result<Baseline, Error> {
        let err = |message: String| Error::Baseline {
            path: shown.to_owned(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| err(format!("not JSON: {e}")))?;
        if value.get("results").is_some() && value.get("entries").is_none() {
            return import_detect_secrets(&value).map_err(err);
        }
        serde_json::from_value(value).map_err(|e| {
            err(format!(
                "not a Rampart baseline ({e}); create one with `rampart secrets baseline create FILE`"
            ))
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let mut text = serde_json::to_string_pretty(self).map_err(|e| Error::Baseline {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        text.push('\n');
        std::fs::write(path, text).map_err(|e| Error::Baseline {
            path: path.display().to_string(),
            message: format!("could not write: {e}"),
        })
    }
}

impl Entry {
    fn matches(&self, f: &Finding) -> bool {
        match &self.fingerprint {
            Some(fp) => *fp == f.fingerprint,
            None => {
                self.path == f.path && self.secret_sha1.as_deref() == Some(f.secret_sha1().as_str())
            }
        }
    }
}

/// detect-secrets ≥ 1.0: `{"results": {"path": [{"type", "hashed_secret",
/// "line_number", "is_secret"?}]}}`.
fn import_detect_secrets(value: &serde_json::Value) -> Result<Baseline, String> {
    let results = value
        .get("results")
        .and_then(|r| r.as_object())
        .ok_or("detect-secrets baseline: \"results\" is not an object")?;
    let mut b = Baseline::default();
    for (path, list) in results {
        let list = list
            .as_array()
            .ok_or_else(|| format!("detect-secrets baseline: results[{path:?}] is not a list"))?;
        for (i, item) in list.iter().enumerate() {
            let hashed = item
                .get("hashed_secret")
                .and_then(|h| h.as_str())
                .ok_or_else(|| {
                    format!("detect-secrets baseline: results[{path:?}][{i}] has no hashed_secret")
                })?;
            let kind = item
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("unknown");
            let verdict = match item.get("is_secret").and_then(|s| s.as_bool()) {
                Some(true) => Verdict::TrueSecret,
                Some(false) => Verdict::FalsePositive,
                None => Verdict::Unaudited,
            };
            b.entries.push(Entry {
                fingerprint: None,
                rule_id: format!("detect-secrets:{kind}"),
                path: path.clone(),
                line: item
                    .get("line_number")
                    .and_then(|l| l.as_u64())
                    .unwrap_or(0) as usize,
                masked: None,
                secret_sha1: Some(hashed.to_ascii_lowercase()),
                verdict,
            });
        }
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scanner;

    fn findings(text: &str) -> Vec<Finding> {
        Scanner::builtin().unwrap().scan("app.env", text.as_bytes())
    }

    const KEY: &str = "AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\n";

    #[test]
    fn moved_lines_stay_known() {
        let before = findings(KEY);
        assert_eq!(before.len(), 1);
        let b = Baseline::from_findings(&before);
        let after = findings(&format!("# a new comment\n\n{KEY}"));
        assert_eq!(after[0].line, 3);
        assert!(b.filter_new(after).is_empty());
    }

    #[test]
    fn update_keeps_verdicts_and_drops_gone() {
        let mut b = Baseline::from_findings(&findings(KEY));
        b.entries[0].verdict = Verdict::FalsePositive;
        b.update(&findings(&format!("\n{KEY}")));
        assert_eq!(b.entries[0].verdict, Verdict::FalsePositive);
        assert_eq!(b.entries[0].line, 2);
        b.update(&[]);
        assert!(b.entries.is_empty());
    }

    #[test]
    fn detect_secrets_import_matches_by_hash() {
        let f = findings(KEY);
        let ds = serde_json::json!({
            "version": "1.5.0",
            "plugins_used": [],
            "results": { "app.env": [{
                "type": "AWS Access Key", "filename": "app.env",
                "hashed_secret": f[0].secret_sha1(), "is_verified": false, "line_number": 1
            }]}
        });
        let b = Baseline::parse(&ds.to_string(), ".secrets.baseline").unwrap();
        assert_eq!(b.entries[0].rule_id, "detect-secrets:AWS Access Key");
        assert!(b.filter_new(f).is_empty());
        let other = Scanner::builtin()
            .unwrap()
            .scan("other.env", KEY.as_bytes());
        assert_eq!(b.filter_new(other).len(), 1);
    }

    #[test]
    fn bad_files_say_what_to_do() {
        let e = Baseline::parse("{\"x\": 1}", "b.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("baseline create"), "{e}");
        assert!(Baseline::parse("nope", "b.json").is_err());
    }
}
