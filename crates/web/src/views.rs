//! Page templates (askama, compiled in) and the small view models they show.
//! Everything a template prints is escaped by askama; view models carry
//! ready-made strings so templates stay free of logic.

use askama::Template;
use rampart_store::{AuditEntry, Finding};
use time::OffsetDateTime;
use time::macros::format_description;

/// The frame around every page.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub site_name: String,
    pub csrf: String,
    /// Which navigation entry is current (`findings`, `account`, …).
    pub active: &'static str,
    pub user: Option<NavUser>,
}

#[derive(Debug, Clone)]
pub struct NavUser {
    pub label: String,
    pub role: String,
    pub is_admin: bool,
    pub is_staff: bool,
}

/// `2026-11-28 14:03 UTC`; empty for zero.
pub fn fmt_time(ms: i64) -> String {
    if ms <= 0 {
        return String::new();
    }
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// ISO 8601 for `<time datetime>` attributes.
pub fn iso_time(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub status: u16,
    pub reason: &'a str,
    pub message: &'a str,
    pub signed_out: bool,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub email: String,
    pub next: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "login_2fa.html")]
pub struct SecondFactorPage {
    pub chrome: Chrome,
    pub email: String,
    pub next: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "setup.html")]
pub struct SetupPage {
    pub chrome: Chrome,
    /// The form posts back to this path (carries the one-time token).
    pub action: String,
    pub heading: String,
    pub intro: String,
    /// Shown read-only when the account already exists (set-password).
    pub fixed_email: Option<String>,
    pub email: String,
    pub email_error: Option<String>,
    pub password_error: Option<String>,
}

#[derive(Template)]
#[template(path = "forgot_password.html")]
pub struct ForgotPasswordPage {
    pub chrome: Chrome,
    pub email: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "verify_email.html")]
pub struct VerifyEmailPage {
    pub chrome: Chrome,
    /// The form posts back to this path (carries the one-time token).
    pub action: String,
    pub email: String,
}

#[derive(Template)]
#[template(path = "notice.html")]
pub struct NoticePage {
    pub chrome: Chrome,
    pub title: String,
    pub message: String,
    pub link: Option<(String, String)>,
}

pub struct SessionView {
    pub id_hash: String,
    pub created: String,
    pub last_seen: String,
    pub ip: String,
    pub user_agent: String,
    pub current: bool,
}

pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub scopes: String,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
}

pub struct ScopeChoice {
    pub name: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub chrome: Chrome,
    pub email: String,
    pub role: String,
    pub totp_enabled: bool,
    pub recovery_left: i64,
    pub sessions: Vec<SessionView>,
    pub tokens: Vec<TokenView>,
    pub scope_choices: Vec<ScopeChoice>,
    pub token_name: String,
    pub token_error: Option<String>,
    /// A token just created: shown once, never again.
    pub new_token: Option<String>,
    pub flash: Option<String>,
    /// For researchers: the public handle, the thanks-page choice and
    /// whether the address is verified.
    pub researcher: Option<(String, bool, bool)>,
    /// For the team: how notifications reach them by email
    /// (`immediate`, `daily` or `none`).
    pub email_pref: Option<String>,
    /// The OpenPGP key mail to them is encrypted to: its fingerprint in
    /// groups of four, and when it was saved.
    pub pgp_key: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "totp_enrol.html")]
pub struct TotpEnrolPage {
    pub chrome: Chrome,
    pub secret: String,
    pub uri: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub struct RecoveryCodesPage {
    pub chrome: Chrome,
    pub codes: Vec<String>,
}

pub struct FindingRowView {
    pub id: i64,
    pub title: String,
    pub severity: &'static str,
    pub severity_label: &'static str,
    pub status: &'static str,
    pub status_label: &'static str,
    pub source: String,
    pub asset: String,
    pub assignee: String,
    pub last_seen: String,
    pub last_seen_iso: String,
    pub occurrences: i64,
}

impl From<&Finding> for FindingRowView {
    fn from(f: &Finding) -> Self {
        FindingRowView {
            id: f.id,
            title: f.title.clone(),
            severity: f.severity.as_str(),
            severity_label: f.severity.label(),
            status: f.status.as_str(),
            status_label: f.status.label(),
            source: f.source.clone(),
            asset: f.asset.clone().unwrap_or_default(),
            assignee: f.assignee_email.clone().unwrap_or_default(),
            last_seen: fmt_time(f.last_seen),
            last_seen_iso: iso_time(f.last_seen),
            occurrences: f.occurrences,
        }
    }
}

/// One `<option>` of a filter or form select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct Pager {
    pub page: i64,
    /// "12", or "200+" when the count stopped at its cap.
    pub pages: String,
    /// "1,234", or "10,000+".
    pub total: String,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
}

#[derive(Template)]
#[template(path = "findings.html")]
pub struct FindingsPage {
    pub chrome: Chrome,
    pub rows: Vec<FindingRowView>,
    pub sources: Vec<Choice>,
    pub severities: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub assignees: Vec<Choice>,
    pub sorts: Vec<Choice>,
    pub asset: String,
    pub text: String,
    pub pager: Pager,
    pub filtered: bool,
    pub restricted: bool,
}

pub struct HistoryView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

impl From<&AuditEntry> for HistoryView {
    fn from(e: &AuditEntry) -> Self {
        HistoryView {
            at: fmt_time(e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            detail: e.detail.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "finding.html")]
pub struct FindingDetailPage {
    pub chrome: Chrome,
    pub f: FindingRowView,
    pub cvss_vector: String,
    pub cwe: Option<i64>,
    pub location: String,
    pub rule_id: String,
    pub description: String,
    pub fingerprint: String,
    pub first_seen: String,
    pub statuses: Vec<Choice>,
    pub assignees: Vec<Choice>,
    pub can_update: bool,
    pub can_assign: bool,
    pub history: Vec<HistoryView>,
    pub flash: Option<String>,
    /// Programmes this finding can be registered with as a known issue.
    pub programmes: Vec<Choice>,
}

pub struct UserView {
    /// For researchers: whether the address is verified, and the handle.
    pub researcher: Option<(bool, String)>,
    pub id: i64,
    pub email: String,
    pub role: String,
    pub totp: bool,
    pub disabled: bool,
    pub created: String,
    pub roles: Vec<Choice>,
    pub is_self: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub users: Vec<UserView>,
    pub roles: Vec<Choice>,
    pub email: String,
    pub email_error: Option<String>,
    pub created_link: Option<(String, String)>,
    pub flash: Option<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditLogPage {
    pub chrome: Chrome,
    pub entries: Vec<AuditRowView>,
    pub pager: Pager,
}

pub struct AuditRowView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub detail: String,
    pub ip: String,
}

/// `12345` as `12,345`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(10_000), "10,000");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }
}
