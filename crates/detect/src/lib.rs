//! Threat detection over AWS logs.
//!
//! CloudTrail, VPC Flow Logs and Route 53 Resolver query logs go in (files,
//! gzipped or not, formats detected per file); findings named as GuardDuty
//! names them come out, aggregated so that repeats raise one finding with a
//! count and first/last seen. Built-in rules, threat and trusted lists, Sigma
//! rules and suppression rules all run in one pass over the events.
//!
//! The crate knows nothing of the store or the web layer; the `rampart
//! detect` command feeds it bytes and prints or pushes what it reports.
//! Without the `s3` feature it does no network I/O and needs no async
//! runtime; with it, [`s3`] lists and fetches objects from S3.

pub mod baseline;
pub mod catalog;
pub mod cloudtrail;
pub mod dns;
pub mod engine;
pub mod finding;
pub mod flow;
pub mod follow;
pub mod geoip;
pub mod input;
pub mod intel;
mod rules;
#[cfg(feature = "s3")]
pub mod s3;
pub mod sigma;
pub mod suppress;
mod timefmt;

pub use engine::{Engine, EngineConfig, Input, Report, Stats, run_files, run_inputs, shard_key};
pub use finding::{Evidence, Finding, Resource};
pub use input::Format;

use std::fmt;

/// What went wrong with a piece of input. The run goes on; the diagnostic is
/// reported at the end.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// The file (or list, rule file, object key) the problem is in.
    pub source: String,
    /// `line 12`, `byte offset 5120`, `record 3`, when known.
    pub location: Option<String>,
    pub kind: DiagnosticKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticKind {
    /// A record or line that could not be read; it was skipped.
    Malformed,
    /// A compressed file that ended early; what was readable was kept.
    Truncated,
    /// A file whose format Rampart does not recognise.
    UnknownFormat,
    /// A file that could not be read at all.
    Io,
    /// A rule (Sigma or suppression) that uses something Rampart does not support.
    Unsupported,
}

impl Diagnostic {
    pub fn malformed(source: &str, location: Option<String>, message: String) -> Self {
        Diagnostic {
            source: source.to_owned(),
            location,
            kind: DiagnosticKind::Malformed,
            message,
        }
    }
    pub fn new(
        kind: DiagnosticKind,
        source: &str,
        location: Option<String>,
        message: String,
    ) -> Self {
        Diagnostic {
            source: source.to_owned(),
            location,
            kind,
            message,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)?;
        if let Some(l) = &self.location {
            write!(f, " {l}")?;
        }
        write!(f, ": {}", self.message)
    }
}
