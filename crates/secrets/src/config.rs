//! `--config FILE`: custom rules, allowlists and disabled rules in
//! Rampart's TOML, or a gitleaks configuration (`[[rules]]`), which is
//! translated rule by rule so teams can bring what they have.
//!
//! ```toml
//! disable = ["generic-secret"]
//!
//! [allowlist]
//! paths = ['(^|/)docs/']
//! regexes = ['^AKIA.*TEST$']
//! stopwords = ["dummy"]
//!
//! [[rule]]
//! id = "acme-api-key"
//! provider = "Acme"
//! description = "Acme API key"
//! keywords = ["acme_"]
//! regex = '''\bacme_[a-z0-9]{32}\b'''
//! ```

use crate::Error;
use crate::rules::{Confidence, RuleSpec};
use rampart_core::Severity;
use serde::Deserialize;

/// Global allowlist entries.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSpec {
    /// Regexes on the path (forward slashes, relative to the scan root).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes on the secret.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Case-insensitive words; a secret containing one is ignored.
    #[serde(default)]
    pub stopwords: Vec<String>,
}

/// One loaded configuration file.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    /// Where it came from, for error messages.
    pub origin: String,
    pub allowlist: AllowlistSpec,
    /// Rule ids to switch off.
    pub disable: Vec<String>,
    pub rules: Vec<RuleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RampartConfig {
    #[serde(default)]
    allowlist: AllowlistSpec,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

impl ConfigFile {
    /// Parses Rampart's format, or gitleaks' when the file has `[[rules]]`.
    pub fn parse(text: &str, origin: &str) -> Result<ConfigFile, Error> {
        let err = |message: String| Error::Config {
            origin: origin.to_owned(),
            message,
        };
        let value: toml::Table = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if value.contains_key("rules") {
            return gitleaks::translate(text, origin);
        }
        let cfg: RampartConfig = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        Ok(ConfigFile {
            origin: origin.to_owned(),
            allowlist: cfg.allowlist,
            disable: cfg.disable,
            rules: cfg.rule,
        })
    }
}

/// gitleaks' configuration format (v8), as far as it maps onto Rampart's.
mod gitleaks {
    use super::*;

    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        rules: Vec<GlRule>,
        #[serde(default)]
        allowlist: Option<GlAllowlist>,
        #[serde(default)]
        allowlists: Vec<GlAllowlist>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct GlRule {
        id: String,
        #[serde(default)]
        description: Option<String>,
        #[serde(default)]
        regex: Option<String>,
        #[serde(default)]
        path: Option<String>,
        #[serde(default)]
        secret_group: Option<usize>,
        #[serde(default)]
        entropy: Option<f64>,
        #[serde(default)]
        keywords: Vec<String>,
        #[serde(default)]
        allowlist: Option<GlAllowlist>,
        #[serde(default)]
        allowlists: Vec<GlAllowlist>,
    }

    #[derive(Deserialize, Default)]
    struct GlAllowlist {
        #[serde(default)]
        paths: Vec<String>,
        #[serde(default)]
        regexes: Vec<String>,
        #[serde(default)]
        stopwords: Vec<String>,
    }

    pub(super) fn translate(text: &str, origin: &str) -> Result<ConfigFile, Error> {
        let file: File = toml::from_str(text).map_err(|e| Error::Config {
            origin: origin.to_owned(),
            message: format!("as a gitleaks configuration: {e}"),
        })?;
        let mut allowlist = AllowlistSpec::default();
        for a in file.allowlist.into_iter().chain(file.allowlists) {
            allowlist.paths.extend(a.paths);
            allowlist.regexes.extend(a.regexes);
            allowlist.stopwords.extend(a.stopwords);
        }
        let mut rules = Vec::new();
        for r in file.rules {
            let mut allow = Vec::new();
            let mut allow_paths = Vec::new();
            for a in r.allowlist.into_iter().chain(r.allowlists) {
                allow.extend(a.regexes);
                allow.extend(
                    a.stopwords
                        .iter()
                        .map(|w| format!("(?i){}", regex_escape(w))),
                );
                allow_paths.extend(a.paths);
            }
            // Path-only gitleaks rules flag a file by its name; Rampart
            // reports contents, so they are skipped. A `path` next to a
            // regex narrows gitleaks' rule; here the rule runs everywhere,
            // which can only add findings, never hide one.
            let Some(regex) = r.regex else { continue };
            let _ = r.path;
            rules.push(RuleSpec {
                description: r.description.unwrap_or_else(|| r.id.clone()),
                id: r.id,
                provider: "gitleaks".into(),
                severity: Severity::High,
                confidence: Confidence::Medium,
                keywords: r.keywords,
                regex: translate_regex(&regex),
                secret_group: r.secret_group.filter(|&g| g > 0),
                min_entropy: r.entropy,
                check: None,
                context_lines: 0,
                allow,
                allow_paths,
                examples: Vec::new(),
                negative_examples: Vec::new(),
            });
        }
        Ok(ConfigFile {
            origin: origin.to_owned(),
            allowlist,
            disable: Vec::new(),
            rules,
        })
    }

    /// Go's RE2 syntax is nearly Rust's; `\z` is Rust's `\z` too. The one
    /// difference that matters in gitleaks' rules is `(?-i:…)`, which both
    /// accept, so the text passes through unchanged.
    fn translate_regex(go: &str) -> String {
        go.to_owned()
    }

    fn regex_escape(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if "\\.+*?()|[]{}^$#&-~".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rampart_format() {
        let cfg = ConfigFile::parse(
            "disable = [\"jwt\"]\n[allowlist]\npaths = ['^docs/']\n[[rule]]\nid = \"acme\"\nprovider = \"Acme\"\ndescription = \"Acme key\"\nkeywords = [\"acme_\"]\nregex = 'acme_[a-z0-9]{8}'\n",
            "test.toml",
        )
        .unwrap();
        assert_eq!(cfg.disable, ["jwt"]);
        assert_eq!(cfg.rules[0].id, "acme");
        assert_eq!(cfg.allowlist.paths, ["^docs/"]);
    }

    #[test]
    fn reads_gitleaks_format() {
        let cfg = ConfigFile::parse(
            r#"
title = "custom"
[allowlist]
paths = ['''vendor/''']
[[rules]]
id = "acme-token"
description = "Acme token"
regex = '''acme_([a-z0-9]{8})'''
secretGroup = 1
entropy = 2.0
keywords = ["acme_"]
[rules.allowlist]
stopwords = ["test"]
"#,
            "gitleaks.toml",
        )
        .unwrap();
        assert_eq!(cfg.rules.len(), 1);
        assert_eq!(cfg.rules[0].secret_group, Some(1));
        assert_eq!(cfg.rules[0].allow, ["(?i)test"]);
        assert_eq!(cfg.allowlist.paths, ["vendor/"]);
    }

    #[test]
    fn bad_toml_names_the_file() {
        let e = ConfigFile::parse("[[rule]\n", "my.toml").unwrap_err();
        assert!(e.to_string().contains("my.toml"), "{e}");
    }
}
