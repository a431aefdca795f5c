//! Disclosure and bounty programmes: scope, visibility, bounty tables and
//! response-time targets, with the business-day arithmetic the targets use.

use crate::{Severity, UnixMillis};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Who can see a programme and report to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Only invited researchers see it and can report.
    Private,
    /// Listed on /programs; anyone with an account can report.
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Public => "public",
        }
    }
}

impl FromStr for Visibility {
    type Err = ProgrammeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "private" => Ok(Visibility::Private),
            "public" => Ok(Visibility::Public),
            _ => Err(ProgrammeError::new(
                "visibility",
                format!("unknown visibility {s:?}: use private or public"),
            )),
        }
    }
}

/// What kind of thing an asset in scope is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetType {
    Domain,
    WildcardDomain,
    Url,
    Api,
    MobileApp,
    SourceRepository,
    IpRange,
    CloudAccount,
    Other,
}

impl AssetType {
    pub const ALL: [AssetType; 9] = [
        AssetType::Domain,
        AssetType::WildcardDomain,
        AssetType::Url,
        AssetType::Api,
        AssetType::MobileApp,
        AssetType::SourceRepository,
        AssetType::IpRange,
        AssetType::CloudAccount,
        AssetType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AssetType::Domain => "domain",
            AssetType::WildcardDomain => "wildcard_domain",
            AssetType::Url => "url",
            AssetType::Api => "api",
            AssetType::MobileApp => "mobile_app",
            AssetType::SourceRepository => "source_repository",
            AssetType::IpRange => "ip_range",
            AssetType::CloudAccount => "cloud_account",
            AssetType::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AssetType::Domain => "Domain",
            AssetType::WildcardDomain => "Wildcard domain",
            AssetType::Url => "URL",
            AssetType::Api => "API",
            AssetType::MobileApp => "Mobile app",
            AssetType::SourceRepository => "Source repository",
            AssetType::IpRange => "IP range",
            AssetType::CloudAccount => "Cloud account",
            AssetType::Other => "Other",
        }
    }
}

impl FromStr for AssetType {
    type Err = ProgrammeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AssetType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                ProgrammeError::new(
                    "type",
                    format!(
                        "unknown asset type {s:?}: use domain, wildcard_domain, url, api, mobile_app, source_repository, ip_range, cloud_account or other"
                    ),
                )
            })
    }
}

/// One asset in a programme's scope table (in or out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScopeItem {
    #[serde(rename = "type")]
    pub asset_type: AssetType,
    /// The domain, URL, repository, CIDR, account id… as researchers type it.
    pub identifier: String,
    pub in_scope: bool,
    /// The highest severity a report on this asset can be rated (in scope only).
    #[serde(default)]
    pub max_severity: Option<Severity>,
    #[serde(default)]
    pub note: String,
}

impl ScopeItem {
    /// Whether `asset` (as a researcher named it) is this item. Wildcard
    /// domains cover their subdomains; everything else matches exactly,
    /// ignoring case and a trailing slash.
    pub fn covers(&self, asset: &str) -> bool {
        let norm = |s: &str| s.trim().trim_end_matches('/').to_ascii_lowercase();
        let (mine, theirs) = (norm(&self.identifier), norm(asset));
        if mine == theirs {
            return true;
        }
        match self.asset_type {
            AssetType::WildcardDomain => {
                let base = mine.trim_start_matches("*.");
                theirs.ends_with(&format!(".{base}"))
            }
            _ => false,
        }
    }
}

/// Bounty amounts per severity, in the programme's currency (whole units).
/// All zero (or absent) for a pure disclosure programme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BountyTable {
    #[serde(default, deserialize_with = "crate::whole::i64")]
    #[schema(minimum = 0, maximum = 100000000)]
    pub critical: i64,
    #[serde(default, deserialize_with = "crate::whole::i64")]
    #[schema(minimum = 0, maximum = 100000000)]
    pub high: i64,
    #[serde(default, deserialize_with = "crate::whole::i64")]
    #[schema(minimum = 0, maximum = 100000000)]
    pub medium: i64,
    #[serde(default, deserialize_with = "crate::whole::i64")]
    #[schema(minimum = 0, maximum = 100000000)]
    pub low: i64,
}

impl BountyTable {
    /// The suggested award for a report of this final severity.
    pub fn amount_for(&self, severity: Severity) -> i64 {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => 0,
        }
    }

    /// Whether the programme pays at all.
    pub fn pays(&self) -> bool {
        [self.critical, self.high, self.medium, self.low]
            .iter()
            .any(|&a| a > 0)
    }

    /// Amounts are whole numbers from 0 to 100,000,000. (A table where a
    /// worse severity pays less is unusual but allowed: some programmes pay
    /// by asset value rather than severity alone.)
    pub fn validate(&self) -> Result<(), ProgrammeError> {
        let amounts = [
            ("critical", self.critical),
            ("high", self.high),
            ("medium", self.medium),
            ("low", self.low),
        ];
        for (name, a) in amounts {
            if !(0..=100_000_000).contains(&a) {
                return Err(ProgrammeError::new(
                    &format!("bounties.{name}"),
                    "must be a whole amount from 0 to 100000000".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Response-time targets in business days (Monday to Friday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResponseTargets {
    /// From submission to the team's first human response.
    #[serde(deserialize_with = "crate::whole::u32")]
    #[schema(minimum = 1, maximum = 365)]
    pub first_response_days: u32,
    /// From submission to triage.
    #[serde(deserialize_with = "crate::whole::u32")]
    #[schema(minimum = 1, maximum = 365)]
    pub triage_days: u32,
    /// From triage to the bounty decision.
    #[serde(deserialize_with = "crate::whole::u32")]
    #[schema(minimum = 1, maximum = 365)]
    pub bounty_days: u32,
    /// From triage to the fix.
    #[serde(deserialize_with = "crate::whole::u32")]
    #[schema(minimum = 1, maximum = 365)]
    pub resolution_days: u32,
}

impl Default for ResponseTargets {
    /// 1, 2, 1 and 30 business days: what the large platforms recommend.
    fn default() -> Self {
        ResponseTargets {
            first_response_days: 1,
            triage_days: 2,
            bounty_days: 1,
            resolution_days: 30,
        }
    }
}

impl ResponseTargets {
    pub fn validate(&self) -> Result<(), ProgrammeError> {
        for (name, d) in [
            ("first_response_days", self.first_response_days),
            ("triage_days", self.triage_days),
            ("bounty_days", self.bounty_days),
            ("resolution_days", self.resolution_days),
        ] {
            if !(1..=365).contains(&d) {
                return Err(ProgrammeError::new(
                    &format!("targets.{name}"),
                    "must be from 1 to 365 business days".into(),
                ));
            }
        }
        Ok(())
    }
}

const DAY_MS: i64 = 86_400_000;

/// Day of the week of a Unix day number (days since 1970-01-01, a Thursday):
/// 0 = Monday … 6 = Sunday.
fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// `start` plus `days` business days (UTC; Saturdays and Sundays do not
/// count). A start on a weekend counts from the next Monday's beginning.
pub fn add_business_days(start: UnixMillis, days: u32) -> UnixMillis {
    let mut t = start;
    let mut day = t.div_euclid(DAY_MS);
    if weekday(day) >= 5 {
        day += 7 - weekday(day);
        t = day * DAY_MS;
    }
    let mut left = days;
    while left > 0 {
        t += DAY_MS;
        day += 1;
        if weekday(day) < 5 {
            left -= 1;
        }
    }
    t
}

/// Milliseconds of business time between `from` and `to` (weekends skipped).
pub fn business_millis_between(from: UnixMillis, to: UnixMillis) -> i64 {
    if to <= from {
        return 0;
    }
    let mut total = 0;
    let mut t = from;
    while t < to {
        let day = t.div_euclid(DAY_MS);
        let day_end = (day + 1) * DAY_MS;
        let end = day_end.min(to);
        if weekday(day) < 5 {
            total += end - t;
        }
        t = end;
    }
    total
}

/// A programme setting that breaks a rule, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ProgrammeError {
    pub field: String,
    pub message: String,
}

impl ProgrammeError {
    pub fn new(field: &str, message: String) -> Self {
        ProgrammeError {
            field: field.to_owned(),
            message,
        }
    }
}

/// Checks a programme slug: 2–64 characters of `a-z`, `0-9` and `-`,
/// starting with a letter or digit; it appears in URLs.
pub fn validate_slug(slug: &str) -> Result<(), ProgrammeError> {
    let ok = (2..=64).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ProgrammeError::new(
            "slug",
            "use 2 to 64 lowercase letters, digits and hyphens (not at either end), e.g. acme-web"
                .into(),
        ))
    }
}

/// The safe-harbour statement a new programme starts with. Rampart's own
/// wording; admins edit it per programme.
pub const DEFAULT_SAFE_HARBOUR: &str = "\
We will not pursue or support legal action against you for research that follows this policy. \
Activities carried out in good faith, within the published scope and rules of engagement, are \
authorised by us, and we consider them exempt from anti-hacking and anti-circumvention claims \
we could otherwise bring.

If a third party brings a claim against you over research that followed this policy, we will \
make it known that your actions were authorised by us.

Good faith means: you stop as soon as you have shown the issue, you access no more data than \
you need to show it, you do not degrade our services, and you give us reasonable time to fix \
the issue before telling anyone else. If you are unsure whether something is allowed, ask us \
first through this programme.";

impl fmt::Display for AssetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-27 was a Friday.
    const FRI_NOON: i64 = 1_795_780_800_000;

    #[test]
    fn business_days_skip_weekends() {
        assert_eq!(weekday(FRI_NOON / DAY_MS), 4);
        // Friday noon + 1 business day = Monday noon.
        assert_eq!(add_business_days(FRI_NOON, 1), FRI_NOON + 3 * DAY_MS);
        // + 5 = next Friday noon.
        assert_eq!(add_business_days(FRI_NOON, 5), FRI_NOON + 7 * DAY_MS);
        // A Saturday submission counts from Monday 00:00.
        let sat = FRI_NOON + DAY_MS;
        let monday_start = (FRI_NOON / DAY_MS + 3) * DAY_MS;
        assert_eq!(add_business_days(sat, 1), monday_start + DAY_MS);
        assert_eq!(add_business_days(FRI_NOON, 0), FRI_NOON);
    }

    #[test]
    fn business_time_between_ignores_the_weekend() {
        let monday_noon = FRI_NOON + 3 * DAY_MS;
        assert_eq!(business_millis_between(FRI_NOON, monday_noon), DAY_MS);
        assert_eq!(business_millis_between(monday_noon, FRI_NOON), 0);
    }

    #[test]
    fn bounty_tables_pay_more_for_worse() {
        let t = BountyTable {
            critical: 5000,
            high: 2000,
            medium: 500,
            low: 100,
        };
        assert_eq!(t.validate(), Ok(()));
        assert_eq!(t.amount_for(Severity::High), 2000);
        assert_eq!(t.amount_for(Severity::Info), 0);
        assert!(t.pays());
        assert!(!BountyTable::default().pays());
        let negative = BountyTable { low: -1, ..t };
        assert!(negative.validate().is_err());
    }

    #[test]
    fn wildcard_scope_covers_subdomains_only() {
        let item = ScopeItem {
            asset_type: AssetType::WildcardDomain,
            identifier: "*.example.com".into(),
            in_scope: true,
            max_severity: None,
            note: String::new(),
        };
        assert!(item.covers("api.example.com"));
        assert!(item.covers("A.B.Example.com"));
        assert!(!item.covers("example.com.evil.net"));
        assert!(!item.covers("notexample.com"));
        let url = ScopeItem {
            asset_type: AssetType::Url,
            identifier: "https://shop.example.com/".into(),
            ..item
        };
        assert!(url.covers("https://shop.example.com"));
    }

    #[test]
    fn slugs_are_url_safe() {
        assert!(validate_slug("acme-web").is_ok());
        for bad in ["A", "acme web", "-x", "x-", "a", "über", &"x".repeat(65)] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_targets_are_the_platforms_recommendation() {
        let t = ResponseTargets::default();
        assert_eq!(
            (
                t.first_response_days,
                t.triage_days,
                t.bounty_days,
                t.resolution_days
            ),
            (1, 2, 1, 30)
        );
        assert!(t.validate().is_ok());
        assert!(
            ResponseTargets {
                triage_days: 0,
                ..t
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn names_parse() {
        for t in AssetType::ALL {
            assert_eq!(t.as_str().parse::<AssetType>(), Ok(t));
        }
        assert_eq!("public".parse::<Visibility>(), Ok(Visibility::Public));
        assert!("secret".parse::<Visibility>().is_err());
    }
}
