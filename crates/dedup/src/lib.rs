//! Duplicate suggestions for a programme's vulnerability reports and known issues.
//!
//! A [`DedupIndex`] holds every report and known issue of every programme. Given a new (or
//! existing) report, [`DedupIndex::suggest`] ranks the documents of the same programme that are
//! most likely about the same bug. The score combines a BM25 full-text match over title and
//! description (tantivy, title boosted) with structured signals: the same asset, the same or a
//! related weakness (CWE), and the same endpoints and parameters found in the text. Every
//! candidate carries the reasons behind its score, for the triager who confirms or rejects it.
//! `docs/duplicates.md` explains the scoring and its weights.
//!
//! ```
//! use rampart_dedup::{DedupIndex, DocKind, ReportDoc};
//!
//! let index = DedupIndex::in_memory()?;
//! index.upsert(&ReportDoc {
//!     id: 1,
//!     programme: 7,
//!     kind: DocKind::Report,
//!     title: "Reflected XSS in search".into(),
//!     description: "GET https://shop.example/search?q=<svg/onload=alert(1)>".into(),
//!     asset: Some("shop.example".into()),
//!     cwe: Some(79),
//!     duplicate_of: None,
//! })?;
//! let new_report = ReportDoc {
//!     id: 2,
//!     programme: 7,
//!     kind: DocKind::Report,
//!     title: "Cross-site scripting via q on /search".into(),
//!     description: "`/search?q=\"><img src=x onerror=alert(document.domain)>`".into(),
//!     asset: Some("shop.example".into()),
//!     cwe: Some(79),
//!     duplicate_of: None,
//! };
//! let candidates = index.suggest(&new_report, 5)?;
//! assert_eq!(candidates[0].report_id, 1);
//! # Ok::<(), rampart_dedup::DedupError>(())
//! ```

pub mod evaluation;
pub mod extract;
mod index;
mod score;
pub mod weakness;

pub use index::DedupIndex;
pub use score::{Candidate, Reason, Weights};

use serde::{Deserialize, Serialize};

/// What kind of document a candidate is: a researcher's report or a known issue the team
/// registered for the programme. Ids are unique per kind, not across kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Report,
    KnownIssue,
}

impl DocKind {
    fn code(self) -> u64 {
        match self {
            DocKind::Report => 0,
            DocKind::KnownIssue => 1,
        }
    }

    fn from_code(code: u64) -> DocKind {
        if code == 1 {
            DocKind::KnownIssue
        } else {
            DocKind::Report
        }
    }
}

/// A report or known issue as the duplicate index sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDoc {
    /// The report's (or known issue's) id in the store.
    pub id: i64,
    /// The programme's id; suggestions never cross programmes.
    pub programme: i64,
    #[serde(default = "default_kind")]
    pub kind: DocKind,
    pub title: String,
    /// Markdown: description, steps to reproduce and impact, concatenated by the caller.
    pub description: String,
    /// The asset identifier picked from the scope (`shop.example`, `com.example.app`), if any.
    #[serde(default)]
    pub asset: Option<String>,
    /// The CWE id the reporter chose, if any.
    #[serde(default)]
    pub cwe: Option<u32>,
    /// Set once a triager confirmed this document duplicates another. Suggestions then point at
    /// that original instead of at this copy.
    #[serde(default)]
    pub duplicate_of: Option<DocRef>,
}

/// A reference to an indexed document: its kind and its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DocRef {
    pub kind: DocKind,
    pub id: i64,
}

fn default_kind() -> DocKind {
    DocKind::Report
}

/// Why the index could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum DedupError {
    #[error("duplicate index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("cannot open the duplicate index directory {path}: {source}")]
    Directory {
        path: std::path::PathBuf,
        #[source]
        source: tantivy::directory::error::OpenDirectoryError,
    },
    #[error(
        "the duplicate index in {path} was written by another version of Rampart; delete the \
         directory and rebuild the index from the store"
    )]
    SchemaMismatch { path: std::path::PathBuf },
    #[error("the stored copy of document {key} in the duplicate index is unreadable: {source}")]
    StoredDocument {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("the duplicate index lock was poisoned by a panic in another thread")]
    Poisoned,
}
