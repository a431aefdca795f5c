//! Rules as data: each rule is a TOML table with its keywords, regex,
//! checks and its own positive and negative examples. The built-in set is
//! embedded at compile time; `--config` files add to it in the same format,
//! and gitleaks configurations are translated into it (see `config`).

use crate::Error;
use crate::checks::Check;
use rampart_core::Severity;
use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The built-in rules, one `[[rule]]` table each.
pub const BUILTIN_RULES: &str = include_str!("../rules/builtin.toml");

/// How much a finding of this rule can be trusted before any adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    pub(crate) fn lower(self) -> Confidence {
        match self {
            Confidence::High => Confidence::Medium,
            _ => Confidence::Low,
        }
    }
}

impl std::str::FromStr for Confidence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Confidence::Low),
            "medium" => Ok(Confidence::Medium),
            "high" => Ok(Confidence::High),
            other => Err(format!(
                "unknown confidence {other:?}: use low, medium or high"
            )),
        }
    }
}

/// One rule as written in TOML.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable id, kebab-case (`github-pat`); baselines and fingerprints use it.
    pub id: String,
    /// Who issues the secret (`GitHub`, `AWS`, `Generic`).
    pub provider: String,
    pub description: String,
    #[serde(default = "default_severity")]
    pub severity: Severity,
    #[serde(default = "default_confidence")]
    pub confidence: Confidence,
    /// Literals (ASCII case-insensitive) of which at least one must occur
    /// for the regex to run. Empty means the regex runs on every file.
    #[serde(default)]
    pub keywords: Vec<String>,
    pub regex: String,
    /// Capture group holding the secret; default: the first group that
    /// took part in the match, or the whole match without groups.
    #[serde(default)]
    pub secret_group: Option<usize>,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    #[serde(default)]
    pub check: Option<Check>,
    /// Lines around a keyword hit that the regex sees (0: the hit's line).
    #[serde(default)]
    pub context_lines: usize,
    /// Regexes on the secret that make a match a non-finding.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Regexes on the path; matching files are not checked by this rule.
    #[serde(default)]
    pub allow_paths: Vec<String>,
    /// Texts that must produce a finding of this rule.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Texts that must not.
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

fn default_severity() -> Severity {
    Severity::High
}

fn default_confidence() -> Confidence {
    Confidence::High
}

/// A rules file: `[[rule]]` tables.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
}

impl RuleFile {
    pub fn parse(text: &str, origin: &str) -> Result<RuleFile, Error> {
        toml::from_str(text).map_err(|e| Error::Config {
            origin: origin.to_owned(),
            message: e.to_string(),
        })
    }
}

/// A rule ready to run. The regex is compiled on first use, so a hook that
/// scans three files pays only for the rules their keywords woke up.
#[derive(Debug)]
pub struct Rule {
    pub spec: RuleSpec,
    regex: OnceLock<Option<Regex>>,
    pub(crate) allow: Vec<Regex>,
    pub(crate) allow_paths: Vec<Regex>,
}

pub(crate) fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(16 * 1024 * 1024)
        .dfa_size_limit(8 * 1024 * 1024)
        .build()
}

impl Rule {
    /// Validates a spec. `eager` compiles the regex now, so a custom rule
    /// with a bad regex is reported when the configuration is loaded.
    pub fn new(spec: RuleSpec, origin: &str, eager: bool) -> Result<Rule, Error> {
        let err = |message: String| Error::Rule {
            origin: origin.to_owned(),
            rule: spec.id.clone(),
            message,
        };
        if spec.id.is_empty()
            || !spec
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(err("ids are letters, digits, '-', '_' or '.'".into()));
        }
        if spec.keywords.iter().any(|k| k.is_empty()) {
            return Err(err("keywords must not be empty strings".into()));
        }
        let compile_list = |list: &[String], what: &str| -> Result<Vec<Regex>, Error> {
            list.iter()
                .map(|p| build_regex(p).map_err(|e| err(format!("{what} regex {p:?}: {e}"))))
                .collect()
        };
        let allow = compile_list(&spec.allow, "allow")?;
        let allow_paths = compile_list(&spec.allow_paths, "allow_paths")?;
        let regex = OnceLock::new();
        if eager {
            let compiled = build_regex(&spec.regex).map_err(|e| err(format!("regex: {e}")))?;
            let _ = regex.set(Some(compiled));
        }
        Ok(Rule {
            spec,
            regex,
            allow,
            allow_paths,
        })
    }

    /// The compiled regex; `None` if it does not compile (only possible for
    /// lazily compiled built-in rules, which a test compiles one by one).
    pub fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| build_regex(&self.spec.regex).ok())
            .as_ref()
    }
}

/// Parses the built-in rules.
pub fn builtin_specs() -> Result<Vec<RuleSpec>, Error> {
    Ok(RuleFile::parse(BUILTIN_RULES, "built-in rules")?.rules)
}
