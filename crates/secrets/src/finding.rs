//! What the scanner reports, and how it becomes a platform finding.

use crate::rules::Confidence;
use rampart_core::{NewFinding, Severity};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Where in history a secret first appeared (`--git-history`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitInfo {
    pub commit: String,
    pub author: String,
    pub email: String,
    /// ISO 8601, as git prints it.
    pub date: String,
}

/// One secret found at one place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule_id: String,
    pub provider: String,
    pub description: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub path: String,
    /// 1-based line and column (columns count characters).
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The secret with all but a short prefix hidden.
    pub masked: String,
    /// Shannon entropy of the secret, bits per byte, two decimals.
    pub entropy: f64,
    /// Stable across line moves: rule id, path and the secret itself.
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitInfo>,
    /// The git blob the secret is in (`--git-history`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// What the provider said, with `--validate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<crate::validate::Validation>,
    /// The secret in clear: kept in memory for baselines (which store only
    /// its SHA-1, as detect-secrets does) and never serialised.
    #[serde(skip)]
    pub secret: String,
}

impl Finding {
    /// SHA-1 of the secret in hex: the key detect-secrets baselines use.
    pub fn secret_sha1(&self) -> String {
        use sha1::Digest as _;
        hex::encode(sha1::Sha1::digest(self.secret.as_bytes()))
    }

    /// The platform finding (source `secrets`), idempotent by fingerprint.
    /// `asset` names the repository or host that was scanned.
    pub fn to_new_finding(&self, asset: Option<&str>) -> NewFinding {
        let title = format!("{} in {}", self.description, self.path);
        let mut location = format!("{}:{}:{}", self.path, self.line, self.column);
        if let Some(c) = &self.commit {
            location = format!("{location}@{}", c.commit);
        }
        let mut description = format!(
            "Rule {} ({}) matched {} with {} confidence, entropy {:.2}.",
            self.rule_id,
            self.provider,
            self.masked,
            self.confidence.as_str(),
            self.entropy
        );
        if let Some(c) = &self.commit {
            description.push_str(&format!(
                " First committed in {} by {} <{}> on {}.",
                c.commit, c.author, c.email, c.date
            ));
        }
        if let Some(v) = &self.validation {
            description.push_str(&format!(
                " Live check ({}): {:?}, {}.",
                v.validator, v.status, v.detail
            ));
        }
        description.push_str(
            " Revoke the secret at its provider, then remove it from the code and its history.",
        );
        let title: String = title.chars().take(rampart_core::MAX_TITLE_LEN).collect();
        // A credential its provider accepted is an incident, whatever the rule says.
        let live = self
            .validation
            .as_ref()
            .is_some_and(|v| v.status == crate::validate::ValidationStatus::Valid);
        let severity = if live {
            Severity::Critical
        } else {
            self.severity
        };
        let mut builder = NewFinding::builder("secrets", &title, severity)
            .rule_id(&self.rule_id)
            .location(&location)
            .description(&description)
            .cwe(798)
            .fingerprint(&self.fingerprint);
        if let Some(a) = asset {
            builder = builder.asset(a);
        }
        builder.build()
    }
}

/// Hides a secret but keeps enough to recognise it: up to four leading
/// characters (most providers' prefixes are longer, so this never reveals
/// random material of short secrets) and the length as stars, capped.
pub fn mask(secret: &str) -> String {
    let first_line = secret.lines().next().unwrap_or("");
    if first_line.starts_with("-----BEGIN") {
        return format!("{first_line}…");
    }
    let chars: Vec<char> = secret.chars().collect();
    let keep = if chars.len() >= 16 {
        4
    } else {
        chars.len() / 4
    };
    let shown: String = chars[..keep].iter().collect();
    let stars = (chars.len() - keep).clamp(3, 12);
    format!("{shown}{}", "*".repeat(stars))
}

/// The fingerprint: SHA-256 over rule id, path and secret, length-prefixed.
/// No line number, so adding lines above a known secret keeps its identity.
pub fn fingerprint(rule_id: &str, path: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    for part in [rule_id, path, secret] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_little() {
        assert_eq!(mask("AKIAQYLPMN5HHHFPZAM2"), "AKIA************");
        assert_eq!(mask("hunter22"), "hu******");
        assert_eq!(mask("ab"), "***");
        assert_eq!(
            mask("-----BEGIN RSA PRIVATE KEY-----\nMIIE"),
            "-----BEGIN RSA PRIVATE KEY-----…"
        );
    }

    #[test]
    fn fingerprint_ignores_position_but_not_path() {
        let a = fingerprint("r", "a.txt", "s");
        assert_eq!(a, fingerprint("r", "a.txt", "s"));
        assert_ne!(a, fingerprint("r", "b.txt", "s"));
        assert_ne!(fingerprint("ra", "b", "s"), fingerprint("r", "ab", "s"));
    }
}
