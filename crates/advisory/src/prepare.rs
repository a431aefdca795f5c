//! One pass over the input that both exports share: every value is made acceptable to
//! both schemas, and everything that had to be dropped or replaced becomes a [`Notice`],
//! so the team sees it before publishing instead of finding a silently shorter advisory.

use crate::model::{Advisory, CreditKind, ReferenceKind};
use crate::text::{self, Schemes};
use rampart_cvss::Cvss;
use serde::Serialize;
use std::fmt;

/// Something the exports could not carry as given, and what they did instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Where in the [`Advisory`] the value is, e.g. `references[2].url`.
    pub field: String,
    /// What happened, in a sentence that says how to fix it.
    pub message: String,
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// The id used when an advisory has none, so the documents stay valid.
pub(crate) const FALLBACK_ID: &str = "RAMPART-UNNAMED";

pub(crate) struct Prepared<'a> {
    pub id: String,
    pub title: String,
    /// The summary markdown, or the title when there is none.
    pub summary: String,
    pub details: Option<&'a str>,
    pub published: String,
    pub modified: String,
    /// Whether the advisory changed after it was published.
    pub revised: bool,
    pub programme_name: String,
    pub programme_slug: String,
    pub publisher: String,
    pub namespace: String,
    pub cvss: Option<Cvss>,
    pub cwe: Option<u32>,
    /// The CWE name from the catalogue, when the id is in it.
    pub cwe_name: Option<&'static str>,
    pub products: Vec<Product>,
    pub references: Vec<(ReferenceKind, String)>,
    pub credits: Vec<PreparedCredit>,
    pub aliases: Vec<String>,
    pub remediation: Option<&'a str>,
    pub notices: Vec<Notice>,
}

pub(crate) struct Product {
    pub name: String,
    pub package: Option<PreparedPackage>,
    pub versions: Vec<String>,
    pub introduced: Option<String>,
    pub fixed: Option<String>,
    pub last_affected: Option<String>,
    pub semver: bool,
    pub resolved: bool,
}

impl Product {
    pub fn has_range(&self) -> bool {
        self.introduced.is_some() || self.fixed.is_some() || self.last_affected.is_some()
    }
}

pub(crate) struct PreparedPackage {
    pub ecosystem: String,
    /// Whether OSV knows the ecosystem; only then is the package listed in `affected`.
    pub osv_ecosystem: bool,
    pub name: String,
    pub purl: Option<String>,
}

pub(crate) struct PreparedCredit {
    pub name: String,
    pub kind: CreditKind,
    pub contact: Option<String>,
}

/// The ecosystems the OSV schema (1.7.x) accepts in `affected[].package.ecosystem`, each
/// optionally followed by `:suffix`.
const OSV_ECOSYSTEMS: &[&str] = &[
    "AlmaLinux",
    "Alpaquita",
    "Alpine",
    "Android",
    "Azure Linux",
    "BellSoft Hardened Containers",
    "Bioconductor",
    "Bitnami",
    "Chainguard",
    "CleanStart",
    "ConanCenter",
    "CRAN",
    "crates.io",
    "Debian",
    "Docker Hardened Images",
    "Echo",
    "FreeBSD",
    "GHC",
    "GitHub Actions",
    "Go",
    "Hackage",
    "Hex",
    "Julia",
    "Kubernetes",
    "Linux",
    "Mageia",
    "Maven",
    "MinimOS",
    "npm",
    "NuGet",
    "opam",
    "openEuler",
    "openSUSE",
    "OSS-Fuzz",
    "Packagist",
    "Photon OS",
    "Pub",
    "PyPI",
    "Red Hat",
    "Rocky Linux",
    "Root",
    "RubyGems",
    "SUSE",
    "SwiftURL",
    "Ubuntu",
    "VSCode",
    "Wolfi",
    "GIT",
];

fn is_osv_ecosystem(ecosystem: &str) -> bool {
    let (name, suffix) = match ecosystem.split_once(':') {
        Some((name, suffix)) => (name, Some(suffix)),
        None => (ecosystem, None),
    };
    OSV_ECOSYSTEMS.contains(&name) && suffix.is_none_or(|s| !s.is_empty())
}

impl<'a> Prepared<'a> {
    pub fn new(advisory: &'a Advisory) -> Self {
        let mut notices = Vec::new();
        let mut note = |field: &str, message: String| {
            notices.push(Notice {
                field: field.to_owned(),
                message,
            });
        };

        let id = text::one_line_opt(&advisory.id).unwrap_or_else(|| {
            note(
                "id",
                format!("the advisory has no id; `{FALLBACK_ID}` is used until it gets one"),
            );
            FALLBACK_ID.to_owned()
        });
        let title = text::one_line_opt(&advisory.title).unwrap_or_else(|| {
            note(
                "title",
                "the advisory has no title; the id is used as its title".to_owned(),
            );
            format!("Security advisory {id}")
        });
        let summary = match text::non_blank(&advisory.summary) {
            Some(summary) => summary.to_owned(),
            None => {
                note(
                    "summary",
                    "the advisory has no summary; the title stands in for it".to_owned(),
                );
                title.clone()
            }
        };

        let (published, clamped) = text::timestamp(advisory.published);
        if clamped {
            note(
                "published",
                format!(
                    "{} ms is outside 1970..=9999; written as {published}",
                    advisory.published
                ),
            );
        }
        let modified_ms = if advisory.modified < advisory.published {
            note(
                "modified",
                "the advisory was modified before it was published; the publication time is used"
                    .to_owned(),
            );
            advisory.published
        } else {
            advisory.modified
        };
        let (modified, clamped) = text::timestamp(modified_ms);
        if clamped && modified_ms == advisory.modified {
            note(
                "modified",
                format!("{modified_ms} ms is outside 1970..=9999; written as {modified}"),
            );
        }
        let revised = modified != published;

        let programme = &advisory.programme;
        let programme_name = text::one_line_opt(&programme.name).unwrap_or_else(|| {
            note("programme.name", "the programme has no name".to_owned());
            "Vulnerability disclosure programme".to_owned()
        });
        let programme_slug = text::one_line(&programme.slug);
        let publisher = text::one_line_opt(&programme.publisher).unwrap_or_else(|| {
            note(
                "programme.publisher",
                "no publisher is set; the programme name is used".to_owned(),
            );
            programme_name.clone()
        });
        let namespace = match text::link(&programme.namespace, Schemes::Web) {
            Some(url) => url,
            None => {
                let urn = format!(
                    "urn:rampart:programme:{}",
                    text::vers_escape(if programme_slug.is_empty() {
                        &programme_name
                    } else {
                        &programme_slug
                    })
                );
                note(
                    "programme.namespace",
                    format!(
                        "`{}` is not an http(s) URL; the publisher is identified as {urn}. \
                         Set the company's web site as the namespace",
                        text::one_line(&programme.namespace)
                    ),
                );
                urn
            }
        };

        let cvss = match advisory.cvss_vector.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(vector) => match Cvss::parse(vector) {
                Ok(cvss) => Some(cvss),
                Err(e) => {
                    note(
                        "cvss_vector",
                        format!("not exported, the vector is invalid: {e}"),
                    );
                    None
                }
            },
        };

        let (cwe, cwe_name) = match advisory.cwe {
            None => (None, None),
            Some(id @ 1..=999_999) => {
                let name = rampart_cwe::catalog().get(id).map(|w| w.name);
                if name.is_none() {
                    note(
                        "cwe",
                        format!(
                            "CWE-{id} is not in Rampart's CWE list, so CSAF (which needs its \
                             name) leaves it out; OSV keeps the id"
                        ),
                    );
                }
                (Some(id), name)
            }
            Some(id) => {
                note("cwe", format!("CWE-{id} is not a CWE id; not exported"));
                (None, None)
            }
        };

        let mut products = Vec::new();
        for (i, affected) in advisory.affected.iter().enumerate() {
            let field = |name: &str| format!("affected[{i}].{name}");
            let name = text::one_line_opt(&affected.product).unwrap_or_else(|| {
                note(
                    &field("product"),
                    "the product has no name; the programme name is used".to_owned(),
                );
                programme_name.clone()
            });
            let package = affected.package.as_ref().and_then(|package| {
                let Some(package_name) = text::one_line_opt(&package.name) else {
                    note(
                        &field("package.name"),
                        "the package has no name; the package is left out".to_owned(),
                    );
                    return None;
                };
                let ecosystem = text::one_line(&package.ecosystem);
                let osv_ecosystem = is_osv_ecosystem(&ecosystem);
                if !osv_ecosystem {
                    note(
                        &field("package.ecosystem"),
                        format!(
                            "`{ecosystem}` is not an OSV ecosystem (e.g. npm, PyPI, crates.io, \
                             Maven, Go); OSV lists the product under database_specific instead"
                        ),
                    );
                }
                let purl = package.purl.as_deref().and_then(|raw| {
                    let purl = text::purl(raw);
                    if purl.is_none() {
                        note(
                            &field("package.purl"),
                            "not a package URL (`pkg:type/name`); left out".to_owned(),
                        );
                    }
                    purl
                });
                Some(PreparedPackage {
                    ecosystem,
                    osv_ecosystem,
                    name: package_name,
                    purl,
                })
            });
            let mut versions: Vec<String> = Vec::new();
            for version in affected
                .versions
                .iter()
                .filter_map(|v| text::one_line_opt(v))
            {
                if !versions.contains(&version) {
                    versions.push(version);
                }
            }
            let introduced = affected.introduced.as_deref().and_then(text::one_line_opt);
            let fixed = affected.fixed.as_deref().and_then(text::one_line_opt);
            let last_affected = affected
                .last_affected
                .as_deref()
                .and_then(text::one_line_opt);
            if fixed.is_some() && last_affected.is_some() {
                note(
                    &field("last_affected"),
                    "a range has either a fixed or a last affected version; OSV keeps the \
                     fixed one"
                        .to_owned(),
                );
            }
            if affected.resolved && (!versions.is_empty() || affected.has_range()) {
                note(
                    &field("resolved"),
                    "ignored: the product has versions, so their statuses say what is fixed"
                        .to_owned(),
                );
            }
            products.push(Product {
                name,
                package,
                versions,
                introduced,
                fixed,
                last_affected,
                semver: affected.semver,
                resolved: affected.resolved,
            });
        }
        if products.is_empty() {
            products.push(Product {
                name: programme_name.clone(),
                package: None,
                versions: Vec::new(),
                introduced: None,
                fixed: None,
                last_affected: None,
                semver: false,
                resolved: false,
            });
        }

        let mut references: Vec<(ReferenceKind, String)> = Vec::new();
        for (i, reference) in advisory.references.iter().enumerate() {
            match text::link(&reference.url, Schemes::Web) {
                Some(url) => {
                    if !references.iter().any(|(_, u)| *u == url) {
                        references.push((reference.kind, url));
                    }
                }
                None => note(
                    &format!("references[{i}].url"),
                    format!(
                        "`{}` is not an http(s) URL; left out",
                        text::one_line(&reference.url)
                    ),
                ),
            }
        }

        let mut credits = Vec::new();
        for (i, credit) in advisory.credits.iter().enumerate() {
            let Some(name) = text::one_line_opt(&credit.name) else {
                note(
                    &format!("credits[{i}].name"),
                    "the credit has no name; left out".to_owned(),
                );
                continue;
            };
            let contact = credit.contact.as_deref().and_then(|raw| {
                let contact = text::link(raw, Schemes::Contact);
                if contact.is_none() {
                    note(
                        &format!("credits[{i}].contact"),
                        "not an http(s) or mailto URL; left out".to_owned(),
                    );
                }
                contact
            });
            credits.push(PreparedCredit {
                name,
                kind: credit.kind,
                contact,
            });
        }

        let mut aliases: Vec<String> = Vec::new();
        for alias in advisory
            .aliases
            .iter()
            .filter_map(|a| text::one_line_opt(a))
        {
            if alias != id && !aliases.contains(&alias) {
                aliases.push(alias);
            }
        }

        Self {
            id,
            title,
            summary,
            details: text::non_blank(&advisory.details),
            published,
            modified,
            revised,
            programme_name,
            programme_slug,
            publisher,
            namespace,
            cvss,
            cwe,
            cwe_name,
            products,
            references,
            credits,
            aliases,
            remediation: advisory.remediation.as_deref().and_then(text::non_blank),
            notices,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osv_ecosystems_with_and_without_suffix() {
        assert!(is_osv_ecosystem("npm"));
        assert!(is_osv_ecosystem("Debian:12"));
        assert!(!is_osv_ecosystem("Debian:"));
        assert!(!is_osv_ecosystem("NPM"));
        assert!(!is_osv_ecosystem("Homebrew"));
    }

    #[test]
    fn an_empty_advisory_gets_fallbacks_and_says_so() {
        let advisory = Advisory::default();
        let prepared = Prepared::new(&advisory);
        assert_eq!(prepared.id, FALLBACK_ID);
        assert_eq!(prepared.products.len(), 1);
        let fields: Vec<&str> = prepared.notices.iter().map(|n| n.field.as_str()).collect();
        assert!(fields.contains(&"id"));
        assert!(fields.contains(&"title"));
        assert!(fields.contains(&"programme.namespace"));
    }
}
