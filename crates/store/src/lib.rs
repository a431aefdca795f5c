//! Persistence for Rampart, on embedded SQLite or on PostgreSQL.
//!
//! One [`Store`] type serves both backends through sqlx's `Any` driver: the
//! application is compiled once and the database is chosen at run time from
//! the URL (`sqlite://…` or `postgres://…`). Each backend has its own
//! migrations (same version numbers, dialect-specific DDL); queries are
//! written in the SQL both understand (`$1` placeholders, `ON CONFLICT`,
//! `RETURNING`). Timestamps are Unix milliseconds in 64-bit integers.
//!
//! Callers pass the current time in (`now`) instead of the store reading a
//! clock, so expiry and ordering are testable without sleeping.

mod audit;
mod connect;
mod error;
pub mod files;
mod findings;
mod links;
mod mail;
mod mail_keys;
mod migrations;
mod outbox;
mod programmes;
mod reports;
mod sessions;
mod tokens;
mod users;

pub use audit::{AuditEntry, AuditPage, NewAuditEntry};
pub use connect::{Backend, Store, redact_url};
pub use error::StoreError;
pub use findings::{
    AssigneeFilter, COUNT_CAP, Finding, FindingFilter, FindingPage, FindingSort, IngestSummary,
    StatusCount,
};
pub use links::{LinkPurpose, OneTimeLink};
pub use mail::{MailIntake, MailOutcomeRecord, STALE_CLAIM_MS};
pub use mail_keys::UserPgpKey;
pub use migrations::MIGRATION_VERSIONS;
pub use outbox::{
    AttemptLog, CHANNEL_EMAIL, CHANNEL_SLACK, CHANNEL_WEBHOOK, DigestItem, EmailPreference,
    NewOutbox, OutboxAttempt, OutboxCount, OutboxRow,
};
pub use programmes::{
    Invitation, InvitationProblem, KnownIssue, NewKnownIssue, Programme, ProgrammeSettings,
    ResearcherProfile, Thanks,
};
pub use reports::{
    Attachment, Bounty, Disclosed, NewEvent, NewReport, Notification, ReplyTemplate, Report,
    ReportEvent, ReportFilter, StateChange, StateChangeError,
};
pub use sessions::{Session, SessionWithUser};
pub use tokens::{ApiToken, ApiTokenWithOwner};
pub use users::{LoginFailure, User};

/// Shorthand for results in this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(feature = "testkit")]
pub mod testkit;
