//! Advisories from disclosed reports: an [`Advisory`] in, an OSV document
//! ([`to_osv`], schema 1.7.x) and a CSAF 2.0 security advisory ([`to_csaf`]) out.
//!
//! ```
//! use rampart_advisory::{Advisory, Affected, Programme, to_csaf, to_osv};
//!
//! let advisory = Advisory {
//!     id: "RAMPART-acme-2026-0001".into(),
//!     programme: Programme {
//!         name: "Acme".into(),
//!         slug: "acme".into(),
//!         publisher: "Acme Ltd".into(),
//!         namespace: "https://acme.example".into(),
//!     },
//!     title: "Stored XSS in order notes".into(),
//!     summary: "Order notes were rendered without escaping.".into(),
//!     published: 1_772_443_800_000,
//!     modified: 1_772_443_800_000,
//!     cwe: Some(79),
//!     cvss_vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N".into()),
//!     affected: vec![Affected::product("Acme Shop")],
//!     ..Advisory::default()
//! };
//! let osv = to_osv(&advisory);
//! assert_eq!(osv["severity"][0]["type"], "CVSS_V3");
//! let csaf = to_csaf(&advisory);
//! assert_eq!(csaf["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"], 6.1);
//! assert!(rampart_advisory::check_csaf(&csaf).is_empty());
//! ```
//!
//! Both exports are infallible and always produce a document valid against the official
//! schema: what cannot be carried as given (an invalid CVSS vector, a `javascript:` link,
//! an ecosystem OSV does not know, an empty title) is left out or replaced, and [`review`]
//! lists each such case so the team can fix the input before publishing. Text fields are
//! carried verbatim as text: Markdown and HTML are never rendered or interpreted here.
//! The crate does no I/O.

mod checks;
mod csaf;
mod cvss_json;
mod model;
mod osv;
mod prepare;
mod text;

pub use checks::{Violation, check_csaf};
pub use csaf::csaf_filename;
pub use model::{
    Advisory, Affected, Credit, CreditKind, Package, Programme, Reference, ReferenceKind,
};
pub use osv::OSV_SCHEMA_VERSION;
pub use prepare::Notice;

use prepare::Prepared;

/// The advisory as an OSV document (schema 1.7.x), for `/…/<id>.osv.json`.
pub fn to_osv(advisory: &Advisory) -> serde_json::Value {
    osv::document(&Prepared::new(advisory))
}

/// The advisory as a CSAF 2.0 `csaf_security_advisory`, for the file [`csaf_filename`]
/// names.
pub fn to_csaf(advisory: &Advisory) -> serde_json::Value {
    csaf::document(&Prepared::new(advisory))
}

/// What the exports had to leave out or replace for this advisory, in input order. Empty
/// when the advisory is exported exactly as given.
pub fn review(advisory: &Advisory) -> Vec<Notice> {
    Prepared::new(advisory).notices
}
