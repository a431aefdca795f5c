//! Combining the signals into one score, and the reasons shown to the triager.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DocKind;
use crate::extract::Signals;
use crate::weakness::{self, WeaknessMatch};

/// How much each signal contributes to a candidate's score. Each signal is first brought to
/// 0..=1; the score is their weighted sum divided by the sum of the weights, so it stays in
/// 0..=1 whatever the weights. `docs/duplicates.md` explains how the defaults were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    /// BM25 over title (boosted) and description, relative to the best text match.
    pub text: f32,
    /// Shared normalised endpoints, weighted by how rare each endpoint is in the index.
    pub endpoints: f32,
    /// Shared parameter names.
    pub params: f32,
    /// The same CWE; the same weakness family (by CWE or title words) counts
    /// `same_family_factor` of it.
    pub cwe: f32,
    pub same_family_factor: f32,
    /// The same asset from the scope.
    pub asset: f32,
    /// Title terms count this many times more than description terms in BM25.
    pub title_boost: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            text: 0.40,
            endpoints: 0.30,
            params: 0.05,
            cwe: 0.30,
            same_family_factor: 0.5,
            asset: 0.10,
            title_boost: 2.0,
        }
    }
}

impl Weights {
    /// The same weights with only the text signal: the naive baseline the evaluation prints.
    pub fn text_only() -> Weights {
        Weights {
            text: 1.0,
            endpoints: 0.0,
            params: 0.0,
            cwe: 0.0,
            asset: 0.0,
            ..Weights::default()
        }
    }

    fn total(&self) -> f32 {
        let total = self.text + self.endpoints + self.params + self.cwe + self.asset;
        if total > 0.0 { total } else { 1.0 }
    }
}

/// One reason behind a candidate's score. Serialises as `{"kind": "same_asset", ...}`;
/// `Display` gives the sentence a triager reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Title and description share rare words; `score` is 0..=1 relative to the best match.
    SimilarText {
        score: f32,
    },
    SameAsset {
        value: String,
    },
    SameCwe {
        value: u32,
    },
    /// The same kind of bug by CWE family or by the words of the titles, e.g. CWE-639 and
    /// CWE-862 (both access control), or two titles saying "SSRF". `cwes` are the query's and
    /// the candidate's CWE ids, where given.
    SameWeaknessFamily {
        family: String,
        cwes: [Option<u32>; 2],
    },
    /// Normalised endpoints found in both texts, e.g. `/api/v2/orders/{id}/invoice`.
    SharedEndpoints {
        values: Vec<String>,
    },
    /// Parameter names found in both texts, e.g. `redirect_uri`.
    SharedParameters {
        values: Vec<String>,
    },
    /// The candidate is a known issue of the programme.
    KnownIssue,
    /// The match was found through a report already confirmed as a duplicate of this one.
    ViaDuplicate {
        report_id: i64,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::SimilarText { score } => {
                write!(f, "similar title and description ({:.0}%)", score * 100.0)
            }
            Reason::SameAsset { value } => write!(f, "same asset: {value}"),
            Reason::SameCwe { value } => write!(f, "same weakness: CWE-{value}"),
            Reason::SameWeaknessFamily { family, cwes } => match cwes {
                [Some(a), Some(b)] => {
                    write!(f, "related weakness: {family} (CWE-{a} and CWE-{b})")
                }
                _ => write!(f, "same kind of weakness: {family}"),
            },
            Reason::SharedEndpoints { values } => {
                write!(f, "same endpoint: {}", values.join(", "))
            }
            Reason::SharedParameters { values } => {
                write!(f, "same parameter: {}", values.join(", "))
            }
            Reason::KnownIssue => write!(f, "matches a known issue of the programme"),
            Reason::ViaDuplicate { report_id } => {
                write!(
                    f,
                    "through #{report_id}, already a confirmed duplicate of it"
                )
            }
        }
    }
}

/// A suggested duplicate: the report (or known issue) it may duplicate, how likely, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The id of the report, or of the known issue when `kind` is `known_issue`.
    pub report_id: i64,
    pub kind: DocKind,
    /// 0..=1; higher is more likely. Comparable within one suggestion list.
    pub score: f32,
    /// Strongest first.
    pub reasons: Vec<Reason>,
}

/// What scoring needs to know about an indexed document (or the query).
#[derive(Debug, Clone)]
pub(crate) struct Features {
    pub kind: DocKind,
    pub programme: i64,
    pub asset: Option<String>,
    pub cwe: Option<u32>,
    pub family: Option<&'static weakness::Family>,
    pub duplicate_of: Option<(DocKind, i64)>,
    pub signals: Signals,
    /// `signals.locations()`, computed once.
    pub locations: BTreeSet<String>,
}

/// A text similarity below this is not worth a reason line.
const SIMILAR_TEXT_REASON_MIN: f32 = 0.3;

/// Scores one candidate against the query. `text` is the candidate's BM25 relative to the best
/// one (0..=1); `endpoint_weight` tells how specific an endpoint is (rare endpoints weigh more).
pub(crate) fn score(
    weights: &Weights,
    query: &Features,
    candidate: &Features,
    text: f32,
    endpoint_weight: &dyn Fn(&str) -> f32,
) -> (f32, Vec<(f32, Reason)>) {
    let mut reasons: Vec<(f32, Reason)> = Vec::new();
    let mut total = weights.text * text;
    if text >= SIMILAR_TEXT_REASON_MIN {
        reasons.push((weights.text * text, Reason::SimilarText { score: text }));
    }

    let shared_endpoints: Vec<&String> = query
        .locations
        .iter()
        .filter(|q| candidate.locations.iter().any(|c| locations_match(q, c)))
        .collect();
    if !shared_endpoints.is_empty() {
        let weigh = |set: &BTreeSet<String>| set.iter().map(|e| endpoint_weight(e)).sum::<f32>();
        let shared: f32 = shared_endpoints.iter().map(|e| endpoint_weight(e)).sum();
        let smaller = weigh(&query.locations).min(weigh(&candidate.locations));
        let overlap = if smaller > 0.0 {
            (shared / smaller).min(1.0)
        } else {
            0.0
        };
        total += weights.endpoints * overlap;
        reasons.push((
            weights.endpoints * overlap,
            Reason::SharedEndpoints {
                values: shared_endpoints.into_iter().cloned().collect(),
            },
        ));
    }

    let shared_params: Vec<String> = query
        .signals
        .params
        .intersection(&candidate.signals.params)
        .cloned()
        .collect();
    if !shared_params.is_empty() {
        let smaller = query
            .signals
            .params
            .len()
            .min(candidate.signals.params.len())
            .max(1);
        let overlap = (shared_params.len() as f32 / smaller as f32).min(1.0);
        total += weights.params * overlap;
        reasons.push((
            weights.params * overlap,
            Reason::SharedParameters {
                values: shared_params,
            },
        ));
    }

    match weakness::compare((query.cwe, query.family), (candidate.cwe, candidate.family)) {
        WeaknessMatch::Same => {
            total += weights.cwe;
            if let Some(value) = candidate.cwe {
                reasons.push((weights.cwe, Reason::SameCwe { value }));
            }
        }
        WeaknessMatch::Related(family) => {
            let part = weights.cwe * weights.same_family_factor;
            total += part;
            reasons.push((
                part,
                Reason::SameWeaknessFamily {
                    family: family.name.to_owned(),
                    cwes: [query.cwe, candidate.cwe],
                },
            ));
        }
        WeaknessMatch::Different => {}
    }

    if let (Some(a), Some(b)) = (&query.asset, &candidate.asset)
        && a == b
    {
        total += weights.asset;
        reasons.push((weights.asset, Reason::SameAsset { value: b.clone() }));
    }

    if candidate.kind == DocKind::KnownIssue {
        reasons.push((0.0, Reason::KnownIssue));
    }
    (total / weights.total(), reasons)
}

/// Whether two locations name the same place: equal, or paths of the same shape where an id
/// on one side stands where the other has a name (`/orgs/{id}/members/jdoe` and
/// `/orgs/{id}/members/{id}`), provided at least two named segments agree.
fn locations_match(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if !a.starts_with('/') || !b.starts_with('/') {
        return false;
    }
    if a.matches('/').count() != b.matches('/').count() {
        return false;
    }
    let mut named_agree = 0;
    for (x, y) in a.split('/').zip(b.split('/')) {
        if x == y {
            if !x.is_empty() && x != "{id}" {
                named_agree += 1;
            }
        } else if x != "{id}" && y != "{id}" {
            return false;
        }
    }
    named_agree >= 2
}

/// Normalises an asset identifier so `https://Shop.example/` and `shop.example` compare equal.
pub(crate) fn normalise_asset(asset: &str) -> Option<String> {
    let trimmed = asset.trim();
    let lower = trimmed.to_lowercase();
    let without_scheme = lower
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(&lower);
    let without_www = without_scheme
        .strip_prefix("www.")
        .unwrap_or(without_scheme);
    let cleaned = without_www.trim_end_matches('/');
    (!cleaned.is_empty()).then(|| cleaned.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_compare_without_scheme_case_or_www() {
        assert_eq!(
            normalise_asset(" https://WWW.Shop.example/ "),
            Some("shop.example".to_owned())
        );
        assert_eq!(normalise_asset("  "), None);
    }

    #[test]
    fn reasons_read_as_sentences_and_serialise_with_a_kind() {
        let reason = Reason::SharedEndpoints {
            values: vec!["/api/orders/{id}".to_owned()],
        };
        assert_eq!(reason.to_string(), "same endpoint: /api/orders/{id}");
        let json = serde_json::to_value(&reason).expect("serialisable");
        assert_eq!(json["kind"], "shared_endpoints");
        assert_eq!(json["values"][0], "/api/orders/{id}");
        let related = Reason::SameWeaknessFamily {
            family: "access control".to_owned(),
            cwes: [Some(639), Some(862)],
        };
        assert_eq!(
            related.to_string(),
            "related weakness: access control (CWE-639 and CWE-862)"
        );
        let named = Reason::SameWeaknessFamily {
            family: "server-side request forgery".to_owned(),
            cwes: [None, Some(918)],
        };
        assert_eq!(
            named.to_string(),
            "same kind of weakness: server-side request forgery"
        );
    }

    #[test]
    fn paths_match_across_an_id_placeholder_only() {
        assert!(locations_match(
            "/orgs/{id}/members/jdoe",
            "/orgs/{id}/members/{id}"
        ));
        assert!(locations_match("shop.example", "shop.example"));
        assert!(!locations_match("/v1/{id}", "/v1/cart"));
        assert!(!locations_match("/invoices/{id}", "/invoices/{id}/pdf"));
        assert!(!locations_match("/orgs/{id}/members", "/orgs/{id}/owners"));
    }

    #[test]
    fn score_stays_within_zero_and_one() {
        let features = Features {
            kind: DocKind::KnownIssue,
            programme: 1,
            asset: Some("a".to_owned()),
            cwe: Some(79),
            family: weakness::family_of(79),
            duplicate_of: None,
            signals: Signals::from_text("https://a.example/x?y=1"),
            locations: BTreeSet::from(["/x".to_owned()]),
        };
        let (score, reasons) = score(&Weights::default(), &features, &features, 1.0, &|_| 1.0);
        assert!((score - 1.0).abs() < 1e-5, "{score}");
        assert_eq!(reasons.len(), 6);
    }
}
