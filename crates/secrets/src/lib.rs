//! Rampart's secrets scanner.
//!
//! Rules are data (`rules/builtin.toml`, embedded): keywords, a regex, and
//! the checks that separate a leak from a look-alike: checksums where the
//! provider has them, entropy where the format is generic, placeholders,
//! hashes and UUIDs refused. A keyword pass (Aho-Corasick) reads each byte
//! once and wakes only the rules whose keywords occur; their regexes then run
//! on the surrounding lines only.
//!
//! ```
//! use rampart_secrets::Scanner;
//! let scanner = Scanner::builtin().expect("built-in rules are valid");
//! let findings = scanner.scan("deploy.sh", b"export AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\n");
//! assert_eq!(findings[0].rule_id, "aws-access-key-id");
//! assert_eq!(findings[0].line, 1);
//! ```
//!
//! Inputs (trees, stdin, staged changes, git history) live in [`scan`],
//! output formats in [`report`], baselines in [`baseline`].

pub mod archive;
pub mod baseline;
pub mod checks;
pub mod config;
mod engine;
pub mod finding;
pub mod report;
pub mod rules;
pub mod scan;
pub mod validate;

pub use config::{AllowlistSpec, ConfigFile};
pub use engine::{Scanner, looks_binary};
pub use finding::{CommitInfo, Finding};
pub use rules::{Confidence, RuleSpec};
pub use scan::{ScanOptions, ScanReport};

/// Everything that can go wrong, each with enough context to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{origin}: {message}")]
    Config { origin: String, message: String },
    #[error("{origin}: rule {rule:?}: {message}")]
    Rule {
        origin: String,
        rule: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Input { path: String, message: String },
    #[error("git: {message}")]
    Git { message: String },
    #[error("baseline {path}: {message}")]
    Baseline { path: String, message: String },
}
