//! The security@ mailbox, mail in: one RFC 5322 message becomes a new
//! report, a comment on an existing one, or nothing (auto-replies, bounces,
//! loops, duplicates), decided by rules that are pure functions.
//!
//! - [`message`]: parsing (mail-parser) into an [`IntakeMessage`].
//! - [`rules`]: junk and loop detection, size limit, threading, programme.
//! - [`reply`]: per-report reply addresses (HMAC tokens) and Message-IDs.
//! - [`auth`]: SPF, DKIM and DMARC (mail-auth), with DNS that can be offline.
//! - [`intake`]: applying a decision through the programme service.
//! - [`files`]: attachment bytes in the data directory, as the web layer keeps them.

pub mod auth;
pub mod files;
pub mod intake;
pub mod message;
pub mod reply;
pub mod rules;

pub use auth::{AuthResults, DnsRecords, Envelope, SenderChecks, Verdict};
pub use intake::{Intake, IntakeConfig, IntakeError, IntakeReport, Outcome};
pub use message::{IntakeMessage, MailAttachment, Mailbox, ParseError, parse};
