//! The input: a disclosed report, described the way an advisory needs it. The web layer
//! fills this from the report, the programme and the team's redactions; nothing here knows
//! about storage.

use serde::{Deserialize, Serialize};

/// A vulnerability report that the programme has agreed to disclose, with the text already
/// redacted by the team. Times are Unix milliseconds (UTC), as everywhere in Rampart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Advisory {
    /// Rampart's identifier of the advisory, e.g. `RAMPART-acme-2026-0001`. It becomes the
    /// OSV `id` and the CSAF `tracking.id`.
    pub id: String,
    pub programme: Programme,
    /// One line, e.g. "Stored XSS in the order notes of the Acme shop".
    pub title: String,
    /// Markdown: a paragraph saying what the problem is and who is affected.
    pub summary: String,
    /// Markdown: the technical write-up (steps, impact), as the team redacted it.
    pub details: String,
    /// When the advisory was first made public.
    pub published: i64,
    /// When the advisory last changed; earlier than `published` is read as `published`.
    pub modified: i64,
    /// The CWE id of the weakness, e.g. `79`.
    pub cwe: Option<u32>,
    /// The final severity as a CVSS 3.0, 3.1 or 4.0 vector string.
    pub cvss_vector: Option<String>,
    /// What is affected. Empty means "the programme's product", named after the programme.
    pub affected: Vec<Affected>,
    pub references: Vec<Reference>,
    /// Researchers and others to credit (only those who opted in).
    pub credits: Vec<Credit>,
    /// Other identifiers of the same vulnerability, e.g. `CVE-2026-12345` or a GHSA id.
    pub aliases: Vec<String>,
    /// Markdown: what was done about it or what users must do, for products without a
    /// fixed version (e.g. "Fixed in the hosted service on 2 March; nothing to install.").
    pub remediation: Option<String>,
}

/// The programme the report was made to, and who publishes its advisories.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Programme {
    pub name: String,
    pub slug: String,
    /// The organisation that publishes the advisory (CSAF `document.publisher.name`).
    pub publisher: String,
    /// A URL that identifies the publisher, usually its web site (CSAF
    /// `document.publisher.namespace`).
    pub namespace: String,
}

/// One affected product or asset, with what is known about its versions.
///
/// With no version information at all the product is exported as affected as a whole,
/// unless [`Affected::resolved`] says the vendor has fixed it in place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Affected {
    /// The product or asset as people call it, e.g. "Acme Shop (shop.acme.example)".
    pub product: String,
    /// The package, when the product is distributed through a package ecosystem. OSV only
    /// lists packages; products without one go to its `database_specific`.
    pub package: Option<Package>,
    /// Individually listed affected versions.
    pub versions: Vec<String>,
    /// The first affected version of a range; `None` means "from the beginning".
    pub introduced: Option<String>,
    /// The first version with the fix.
    pub fixed: Option<String>,
    /// The last affected version, when no fixed version exists yet.
    pub last_affected: Option<String>,
    /// Versions follow Semantic Versioning 2.0 (OSV range type `SEMVER`; otherwise
    /// `ECOSYSTEM`, ordered by the package ecosystem's own rules).
    pub semver: bool,
    /// The product is a service the vendor runs and has fixed in place, so there is no
    /// version to install. Only used when no version information is given.
    pub resolved: bool,
}

impl Affected {
    /// A product with nothing known about versions.
    pub fn product(name: impl Into<String>) -> Self {
        Self {
            product: name.into(),
            ..Self::default()
        }
    }

    /// Whether any version information was given.
    pub fn has_versions(&self) -> bool {
        !self.versions.is_empty() || self.has_range()
    }

    /// Whether a range (introduced, fixed or last affected version) was given.
    pub fn has_range(&self) -> bool {
        self.introduced.is_some() || self.fixed.is_some() || self.last_affected.is_some()
    }
}

/// A package in a package ecosystem, named as OSV names them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Package {
    /// An OSV ecosystem name such as `npm`, `PyPI`, `crates.io`, `Maven`, `Go`, optionally
    /// with a `:suffix` (e.g. `Debian:12`).
    pub ecosystem: String,
    pub name: String,
    /// A package URL, e.g. `pkg:npm/acme-shop`.
    pub purl: Option<String>,
}

/// A link about the vulnerability.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reference {
    /// An `http` or `https` URL; others are not exported (a `javascript:` link in an
    /// advisory would be an attack on whoever renders it).
    pub url: String,
    pub kind: ReferenceKind,
}

impl Reference {
    pub fn new(kind: ReferenceKind, url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            kind,
        }
    }
}

/// What a reference points to: the OSV reference types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceKind {
    /// A published security advisory for the vulnerability.
    Advisory,
    /// An article or blog post describing the vulnerability.
    Article,
    /// A tool, script, scanner or rule that detects the vulnerability.
    Detection,
    /// A discussion thread or mailing-list post.
    Discussion,
    /// A report, typically on a bug tracker; the disclosed report page.
    Report,
    /// The change that fixed the vulnerability.
    Fix,
    /// The change that introduced the vulnerability.
    Introduced,
    /// A source code repository.
    Git,
    /// The home page of the package.
    Package,
    /// Material demonstrating the vulnerability, such as a proof of concept.
    Evidence,
    /// Any other web page.
    #[default]
    Web,
}

impl ReferenceKind {
    /// The OSV `references[].type` value.
    pub fn osv_type(self) -> &'static str {
        match self {
            Self::Advisory => "ADVISORY",
            Self::Article => "ARTICLE",
            Self::Detection => "DETECTION",
            Self::Discussion => "DISCUSSION",
            Self::Report => "REPORT",
            Self::Fix => "FIX",
            Self::Introduced => "INTRODUCED",
            Self::Git => "GIT",
            Self::Package => "PACKAGE",
            Self::Evidence => "EVIDENCE",
            Self::Web => "WEB",
        }
    }

    /// Words for the CSAF `references[].summary`, which must not be empty.
    pub fn label(self) -> &'static str {
        match self {
            Self::Advisory => "Advisory",
            Self::Article => "Article",
            Self::Detection => "Detection",
            Self::Discussion => "Discussion",
            Self::Report => "Disclosed report",
            Self::Fix => "Fix",
            Self::Introduced => "Change that introduced the vulnerability",
            Self::Git => "Source repository",
            Self::Package => "Package",
            Self::Evidence => "Evidence",
            Self::Web => "Web page",
        }
    }
}

/// Someone to credit, and for what.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Credit {
    /// The name or handle the person chose to be credited under.
    pub name: String,
    pub kind: CreditKind,
    /// A profile or contact URL the person chose to show.
    pub contact: Option<String>,
}

impl Credit {
    pub fn new(kind: CreditKind, name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind,
            contact: None,
        }
    }
}

/// The kinds of credit GitHub's advisories and OSV use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditKind {
    /// Found the vulnerability.
    #[default]
    Finder,
    /// Reported it to the vendor.
    Reporter,
    /// Validated the report or analysed its impact.
    Analyst,
    /// Coordinated the response or disclosure.
    Coordinator,
    /// Wrote the fix.
    RemediationDeveloper,
    /// Reviewed the fix.
    RemediationReviewer,
    /// Verified the fix (e.g. the researcher's retest).
    RemediationVerifier,
    /// A tool that found it.
    Tool,
    /// Supported the work financially.
    Sponsor,
    Other,
}

impl CreditKind {
    /// The OSV `credits[].type` value.
    pub fn osv_type(self) -> &'static str {
        match self {
            Self::Finder => "FINDER",
            Self::Reporter => "REPORTER",
            Self::Analyst => "ANALYST",
            Self::Coordinator => "COORDINATOR",
            Self::RemediationDeveloper => "REMEDIATION_DEVELOPER",
            Self::RemediationReviewer => "REMEDIATION_REVIEWER",
            Self::RemediationVerifier => "REMEDIATION_VERIFIER",
            Self::Tool => "TOOL",
            Self::Sponsor => "SPONSOR",
            Self::Other => "OTHER",
        }
    }

    /// A sentence for the CSAF acknowledgment `summary`.
    pub fn acknowledgment(self) -> &'static str {
        match self {
            Self::Finder => "Found the vulnerability.",
            Self::Reporter => "Reported the vulnerability.",
            Self::Analyst => "Analysed the vulnerability.",
            Self::Coordinator => "Coordinated the disclosure.",
            Self::RemediationDeveloper => "Developed the fix.",
            Self::RemediationReviewer => "Reviewed the fix.",
            Self::RemediationVerifier => "Verified the fix.",
            Self::Tool => "Tool that found the vulnerability.",
            Self::Sponsor => "Sponsored the work.",
            Self::Other => "Contributed to the advisory.",
        }
    }
}
