//! Families of related CWE ids.
//!
//! Researchers pick different CWE entries for the same bug: one files a stored XSS as CWE-79,
//! another as CWE-80 or CWE-116; an IDOR arrives as CWE-639, CWE-284, CWE-862 or CWE-863. An
//! exact CWE match is the strong signal; a match within one family is a weaker one.

/// A named group of CWE ids that describe the same kind of bug from a triager's point of view,
/// with the words researchers use for it in titles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    pub name: &'static str,
    members: &'static [u32],
    /// Lower-case fragments that name the family in a title. Families are tried in order, so
    /// "server-side request forgery" is recognised before "request forgery".
    keywords: &'static [&'static str],
}

const FAMILIES: &[Family] = &[
    Family {
        name: "subdomain takeover",
        members: &[],
        keywords: &[
            "subdomain takeover",
            "takeover of",
            "to takeover",
            "takeover possible",
            "dangling",
        ],
    },
    Family {
        name: "cross-site scripting",
        members: &[79, 80, 81, 83, 84, 85, 86, 87, 116, 692],
        keywords: &[
            "xss",
            "cross-site scripting",
            "cross site scripting",
            "script injection",
            "script execution",
        ],
    },
    Family {
        name: "XML external entities",
        members: &[611, 776, 827],
        keywords: &["xxe", "xml external", "external entit"],
    },
    Family {
        name: "injection",
        members: &[
            74, 77, 78, 88, 89, 90, 91, 94, 95, 564, 643, 652, 917, 943, 1336,
        ],
        keywords: &["sql", "injection", "rce", "remote code"],
    },
    Family {
        name: "path traversal",
        members: &[22, 23, 24, 35, 36, 73],
        keywords: &[
            "traversal",
            "file read",
            "lfi",
            "local file",
            "file download",
            "file disclosure",
        ],
    },
    Family {
        name: "server-side request forgery",
        members: &[918, 441],
        keywords: &[
            "ssrf",
            "server-side request",
            "server side request",
            "fetches arbitrary",
        ],
    },
    Family {
        name: "cross-site request forgery",
        members: &[352],
        keywords: &["csrf", "xsrf", "request forgery"],
    },
    Family {
        name: "redirects",
        members: &[601, 610],
        keywords: &["redirect"],
    },
    Family {
        name: "rate limiting",
        members: &[307, 400, 770, 799, 837, 1333],
        keywords: &[
            "rate limit",
            "rate-limit",
            "brute force",
            "brute-force",
            "throttl",
            "unlimited attempts",
            "lockout",
        ],
    },
    Family {
        name: "access control",
        members: &[284, 285, 425, 552, 566, 639, 862, 863, 915, 932, 1220],
        keywords: &[
            "idor",
            "direct object",
            "access control",
            "authori",
            "ownership",
            "bola",
            "privilege",
        ],
    },
    Family {
        name: "authentication",
        members: &[
            255, 287, 288, 290, 294, 302, 303, 304, 305, 306, 308, 384, 521, 613, 620, 640, 1390,
            1391,
        ],
        keywords: &[
            "authentication",
            "auth bypass",
            "bypass",
            "2fa",
            "mfa",
            "account takeover",
        ],
    },
    Family {
        name: "information exposure",
        members: &[
            200, 201, 209, 213, 215, 359, 497, 532, 538, 540, 548, 598, 615,
        ],
        keywords: &[
            "disclosure",
            "leak",
            "exposed",
            "exposure",
            "sensitive data",
        ],
    },
    Family {
        name: "cryptography and transport",
        members: &[295, 311, 319, 326, 327, 328, 330, 338, 523, 757],
        keywords: &["tls", "ssl", "cleartext", "weak cipher"],
    },
    Family {
        name: "configuration",
        members: &[16, 346, 350, 942, 1004, 614, 693, 1021, 1275],
        keywords: &["cors", "allow-origin", "clickjacking", "misconfiguration"],
    },
];

/// The family a CWE id belongs to, if Rampart knows one.
pub fn family_of(cwe: u32) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.members.contains(&cwe))
}

/// The family a title (or other short text) names, if any.
pub fn family_named_in(text: &str) -> Option<&'static Family> {
    let lower = text.to_lowercase();
    FAMILIES
        .iter()
        .find(|f| f.keywords.iter().any(|k| lower.contains(k)))
}

/// The family of a document: what its title says first (researchers name the bug there, and
/// often pick a loose CWE), then its CWE, then what the start of its description says.
pub fn family_of_report(
    title: &str,
    cwe: Option<u32>,
    description: &str,
) -> Option<&'static Family> {
    family_named_in(title)
        .or_else(|| cwe.and_then(family_of))
        .or_else(|| {
            let mut end = description.len().min(300);
            while !description.is_char_boundary(end) {
                end -= 1;
            }
            family_named_in(&description[..end])
        })
}

/// How two reports' weaknesses relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeaknessMatch {
    /// The same CWE id.
    Same,
    /// The same family, by CWE or by the words of the title.
    Related(&'static Family),
    Different,
}

pub fn compare(
    a: (Option<u32>, Option<&'static Family>),
    b: (Option<u32>, Option<&'static Family>),
) -> WeaknessMatch {
    match (a, b) {
        ((Some(x), _), (Some(y), _)) if x == y => WeaknessMatch::Same,
        ((_, Some(fa)), (_, Some(fb))) if fa == fb => WeaknessMatch::Related(fa),
        _ => WeaknessMatch::Different,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_do_not_overlap() {
        for (i, f) in FAMILIES.iter().enumerate() {
            for other in &FAMILIES[i + 1..] {
                for id in f.members {
                    assert!(
                        !other.members.contains(id),
                        "CWE-{id} is in both {} and {}",
                        f.name,
                        other.name
                    );
                }
            }
        }
    }

    fn by_cwe(cwe: Option<u32>) -> (Option<u32>, Option<&'static Family>) {
        (cwe, cwe.and_then(family_of))
    }

    #[test]
    fn same_related_and_different() {
        assert_eq!(
            compare(by_cwe(Some(79)), by_cwe(Some(79))),
            WeaknessMatch::Same
        );
        assert!(matches!(
            compare(by_cwe(Some(639)), by_cwe(Some(862))),
            WeaknessMatch::Related(f) if f.name == "access control"
        ));
        assert_eq!(
            compare(by_cwe(Some(79)), by_cwe(Some(89))),
            WeaknessMatch::Different
        );
        assert_eq!(
            compare(by_cwe(None), by_cwe(Some(89))),
            WeaknessMatch::Different
        );
    }

    #[test]
    fn titles_name_families_in_order() {
        let name = |t: &str| family_named_in(t).map(|f| f.name);
        assert_eq!(
            name("Blind SSRF via webhook URL"),
            Some("server-side request forgery")
        );
        assert_eq!(
            name("Server-Side Request Forgery in PDF export"),
            Some("server-side request forgery")
        );
        assert_eq!(
            name("Cross-site request forgery on email change"),
            Some("cross-site request forgery")
        );
        assert_eq!(
            name("Stored cross site scripting in reviews"),
            Some("cross-site scripting")
        );
        assert_eq!(
            name("blog.example.com dangling CNAME"),
            Some("subdomain takeover")
        );
        assert_eq!(name("Typo on the pricing page"), None);
        // The title wins over a loose CWE; the CWE over the description.
        assert_eq!(
            family_of_report("IDOR on invoices", Some(200), "").map(|f| f.name),
            Some("access control")
        );
        assert_eq!(
            family_of_report("Bug on invoices", Some(89), "an xss").map(|f| f.name),
            Some("injection")
        );
        assert_eq!(
            family_of_report("Bug on invoices", None, "reflected xss").map(|f| f.name),
            Some("cross-site scripting")
        );
    }
}
