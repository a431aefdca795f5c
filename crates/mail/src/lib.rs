//! The security@ mailbox. Mail in: one RFC 5322 message becomes a new
//! report, a comment on an existing one, or nothing (auto-replies, bounces,
//! loops, duplicates), decided by rules that are pure functions. Mail out,
//! Slack and webhooks: notices become rows of the durable outbox, sent by a
//! worker with retries.
//!
//! - [`message`]: parsing (mail-parser) into an [`IntakeMessage`].
//! - [`rules`]: junk and loop detection, size limit, threading, programme.
//! - [`refusal`]: refusals mailed back for IMAP and HTTP intake (never to robots).
//! - [`reply`]: per-report reply addresses (HMAC tokens) and Message-IDs.
//! - [`auth`]: SPF, DKIM and DMARC (mail-auth), with DNS that can be offline.
//! - [`intake`]: applying a decision through the programme service.
//! - [`imap`]: taking mail from an IMAP mailbox (one pass, or IDLE/polling).
//! - [`pgp`]: programme keys; PGP/MIME and inline-PGP mail decrypted on arrival.
//! - [`files`]: attachment bytes in the data directory, as the web layer keeps them.
//! - [`outbound`]: the email notifier (threading, reply addresses, digests).
//! - [`smtp`]: sending by SMTP (lettre, rustls).
//! - [`webhooks`]: Slack and signed generic webhooks.
//! - [`worker`]: the delivery worker (claims, retries with backoff, breaches).

pub mod auth;
pub mod files;
pub mod imap;
pub mod intake;
pub mod message;
pub mod outbound;
pub mod pgp;
pub mod refusal;
pub mod reply;
pub mod rules;
pub mod smtp;
pub mod webhooks;
pub mod worker;

pub use auth::{AuthResults, DnsRecords, Envelope, SenderChecks, Verdict};
pub use intake::{Intake, IntakeConfig, IntakeError, IntakeReport, Outcome};
pub use message::{IntakeMessage, MailAttachment, Mailbox, ParseError, parse};
