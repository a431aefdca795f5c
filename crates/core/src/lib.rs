//! Rampart's domain vocabulary, shared by every other crate.
//!
//! Everything here is plain data and pure functions: no I/O, no async, no
//! database. Scanners, the store and the web layer all speak these types, so a
//! finding from the secrets scanner and one from a SARIF upload look the same
//! by the time they reach a triager.
//!
//! ```
//! use rampart_core::{NewFinding, Severity};
//! let finding = NewFinding::builder("sarif", "SQL injection in login", Severity::High)
//!     .asset("github.com/acme/shop")
//!     .location("src/login.rs:42")
//!     .build();
//! assert_eq!(finding.fingerprint.len(), 64);
//! ```

mod access;
mod finding;
mod programme;
mod report;
pub mod securitytxt;
mod severity;
pub mod whole;

pub use access::{Action, Role, Scope, ScopeSet, UnknownRole, UnknownScope, permits};
pub use finding::{
    FindingStatus, FindingValidationError, MAX_TEXT_LEN, MAX_TITLE_LEN, NewFinding,
    NewFindingBuilder, Source, UnknownStatus, fingerprint_of,
};
pub use programme::{
    AssetType, BountyTable, DEFAULT_SAFE_HARBOUR, ProgrammeError, ResponseTargets, ScopeItem,
    Visibility, add_business_days, business_millis_between, validate_slug,
};
pub use report::{Mover, ReportState, TransitionError, Turn, UnknownReportState};
pub use severity::{Severity, UnknownSeverity};

/// Milliseconds since the Unix epoch, UTC. Every timestamp Rampart stores uses
/// this unit, so SQLite and PostgreSQL hold the same integers and ordering is
/// trivially correct on both.
pub type UnixMillis = i64;
