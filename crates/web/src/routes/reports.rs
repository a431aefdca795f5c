//! Report pages: the submission form, the researcher's list and the team's
//! triage inbox, the report page with its thread and the team's actions, and
//! the notification list.

use super::audit;
use crate::AppState;
use crate::error::AppError;
use crate::forms::{PageCtx, Signed};
use crate::markdown;
use crate::principal::Principal;
use crate::programme_api::{visible_programme, visible_report};
use crate::views::{Chrome, fmt_time, iso_time};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use rampart_core::{Mover, ReportState, Role, Turn};
use rampart_programme::clock::{ClockState, clocks, most_urgent};
use rampart_programme::input::ReportInput;
use rampart_programme::{Actor, Service, ServiceError};
use rampart_store::{Programme, Report, ReportFilter};
use serde::Deserialize;

// ------------------------------------------------------------- the form

#[derive(Template)]
#[template(path = "report_form.html")]
pub struct ReportFormPage {
    pub chrome: Chrome,
    pub slug: String,
    pub programme: String,
    pub f: ReportFormValues,
    pub errors: Vec<(String, String)>,
    pub assets: Vec<(String, String)>,
    pub weaknesses: Vec<(u32, &'static str)>,
    pub first_response_days: u32,
    /// Files uploaded with an earlier attempt, kept for this one.
    pub staged: Vec<StagedView>,
    pub accepted_types: String,
    pub max_mb: usize,
}

pub struct StagedView {
    pub id: i64,
    pub filename: String,
    pub size: String,
}

fn size_label(bytes: i64) -> String {
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if bytes < 1024 * 1024 {
        format!("{} KB", (bytes + 1023) / 1024)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

impl ReportFormPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct ReportFormValues {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub asset: String,
    #[serde(default)]
    pub other_asset: String,
    #[serde(default)]
    pub weakness: String,
    #[serde(default)]
    pub cvss_vector: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub steps: String,
    #[serde(default)]
    pub impact: String,
}

/// `79`, `CWE-79`, or `CWE-79 Improper Neutralization…` (from the picker).
fn parse_cwe(text: &str) -> Result<Option<u32>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let digits: String = t
        .trim_start_matches(|c: char| {
            c.eq_ignore_ascii_case(&'c')
                || c.eq_ignore_ascii_case(&'w')
                || c.eq_ignore_ascii_case(&'e')
                || c == '-'
        })
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    match digits.parse::<u32>() {
        Ok(n) if rampart_cwe::catalog().get(n).is_some() => Ok(Some(n)),
        Ok(n) => Err(format!(
            "CWE-{n} is not in the CWE list; pick one from the suggestions."
        )),
        Err(_) => Err("Pick a weakness from the list, or type its CWE number, e.g. 79.".into()),
    }
}

fn form_page(
    state: &AppState,
    ctx: &PageCtx,
    p: &Programme,
    f: ReportFormValues,
    errors: Vec<(String, String)>,
    staged: &[rampart_store::Attachment],
) -> Result<Response, AppError> {
    // The Top 25, then the weaknesses bounty reports name most often that
    // the Top 25 leaves out (IDOR, open redirect, SSRF's cousins, takeover…).
    const COMMON: [u32; 16] = [
        639, 601, 1021, 346, 384, 613, 640, 209, 200, 532, 312, 915, 350, 1336, 444, 942,
    ];
    let catalog = rampart_cwe::catalog();
    let mut weaknesses: Vec<(u32, &'static str)> = catalog
        .search("", 25)
        .into_iter()
        .chain(COMMON.iter().filter_map(|id| catalog.get(*id)))
        .map(|w| (w.id, w.name))
        .collect();
    weaknesses.dedup_by_key(|w| w.0);
    let page = ReportFormPage {
        chrome: ctx.chrome(state, "programmes"),
        slug: p.slug.clone(),
        programme: p.name.clone(),
        assets: p
            .scope
            .iter()
            .filter(|s| s.in_scope)
            .map(|s| {
                (
                    s.identifier.clone(),
                    format!("{} ({})", s.identifier, s.asset_type.label()),
                )
            })
            .collect(),
        weaknesses,
        first_response_days: p.targets.first_response_days,
        staged: staged
            .iter()
            .map(|a| StagedView {
                id: a.id,
                filename: a.filename.clone(),
                size: size_label(a.size),
            })
            .collect(),
        accepted_types: crate::attachments::allowed_list(),
        max_mb: state.config.max_attachment_bytes / (1024 * 1024),
        f,
        errors,
    };
    Ok(Html(page.render()?).into_response())
}

fn submitter(who: &Principal) -> Result<i64, AppError> {
    // Staff file reports through the API on a researcher's behalf; the
    // form is the researcher's.
    match (who.role, who.user_id) {
        (Role::Researcher, Some(id)) => Ok(id),
        _ => Err(AppError::Forbidden(
            "The report form is for researchers. Sign in with a researcher account.".into(),
        )),
    }
}

pub async fn new_report(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let p = visible_programme(&state, Some(&who), &slug).await?;
    submitter(&who)?;
    form_page(
        &state,
        &ctx,
        &p,
        ReportFormValues::default(),
        Vec::new(),
        &[],
    )
}

/// What a multipart form carried: its text fields, the files it brought
/// (stored and staged under the uploader), and refusals for the others.
pub(crate) struct Upload {
    pub fields: Vec<(String, String)>,
    pub staged: Vec<rampart_store::Attachment>,
    pub refused: Vec<String>,
}

impl Upload {
    pub fn field(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn ids(&self) -> Vec<i64> {
        self.staged.iter().map(|a| a.id).collect()
    }
}

pub(crate) async fn read_upload(
    state: &AppState,
    uploader: i64,
    mut form: axum::extract::Multipart,
) -> Result<Upload, AppError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        AppError::bad_request(
            None,
            format!("the form could not be read: {}", e.body_text()),
        )
    };
    let mut up = Upload {
        fields: Vec::new(),
        staged: Vec::new(),
        refused: Vec::new(),
    };
    let mut kept_ids = Vec::new();
    let max = state.config.max_attachment_bytes;
    // Files of unfinished forms are kept for a day; a person may hold only
    // so many at once, so a flood of failed forms cannot fill the disk.
    let mut staged_room = (50 - state.store.count_staged_attachments(uploader).await?).max(0);
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        match field.file_name().map(crate::attachments::clean_filename) {
            Some(filename) if name == "attachments" => {
                let bytes = field.bytes().await.map_err(bad)?;
                if bytes.is_empty() && filename == "attachment" {
                    continue; // the empty file input of a form sent without files
                }
                if up.staged.len() + kept_ids.len() >= crate::attachments::MAX_FILES {
                    up.refused.push(format!(
                        "{filename}: at most {} files per submission.",
                        crate::attachments::MAX_FILES
                    ));
                    continue;
                }
                if staged_room == 0 {
                    up.refused.push(format!(
                        "{filename}: you have too many files waiting in unsent forms; send or abandon them first (they are cleared after a day)."
                    ));
                    continue;
                }
                match crate::attachments::check_file(&filename, bytes.len(), max) {
                    Ok(content_type) => {
                        staged_room -= 1;
                        let sha = state.files.put(&bytes).await?;
                        let a = state
                            .store
                            .stage_attachment(
                                uploader,
                                &filename,
                                content_type,
                                bytes.len() as i64,
                                &sha,
                                state.now(),
                            )
                            .await?;
                        up.staged.push(a);
                    }
                    Err(why) => up.refused.push(why),
                }
            }
            _ => {
                let text = field.text().await.map_err(bad)?;
                if name == "staged" {
                    // At most a form's worth of earlier files, each once.
                    if let Ok(id) = text.parse::<i64>()
                        && !kept_ids.contains(&id)
                        && kept_ids.len() < crate::attachments::MAX_FILES
                    {
                        kept_ids.push(id);
                    }
                } else {
                    up.fields.push((name, text));
                }
            }
        }
    }
    // Files kept from an earlier attempt: only the uploader's own.
    let mut kept = state.store.staged_attachments(uploader, &kept_ids).await?;
    kept.append(&mut up.staged);
    up.staged = kept;
    Ok(up)
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(slug): Path<String>,
    form: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let p = visible_programme(&state, Some(&who), &slug).await?;
    let researcher = submitter(&who)?;
    state.limits.check_submission(researcher)?;
    let up = read_upload(&state, researcher, form).await?;
    let f = ReportFormValues {
        title: up.field("title"),
        asset: up.field("asset"),
        other_asset: up.field("other_asset"),
        weakness: up.field("weakness"),
        cvss_vector: up.field("cvss_vector"),
        description: up.field("description"),
        steps: up.field("steps"),
        impact: up.field("impact"),
    };
    if !up.refused.is_empty() {
        let msg = up.refused.join(" ");
        return form_page(
            &state,
            &ctx,
            &p,
            f,
            vec![("attachments".into(), msg)],
            &up.staged,
        );
    }
    let cwe = match parse_cwe(&f.weakness) {
        Ok(c) => c,
        Err(m) => {
            return form_page(
                &state,
                &ctx,
                &p,
                f,
                vec![("weakness".into(), m)],
                &up.staged,
            );
        }
    };
    let asset = match f.asset.as_str() {
        "other" => Some(f.other_asset.clone()),
        "" => None,
        a => Some(a.to_owned()),
    };
    let input = ReportInput {
        title: f.title.clone(),
        description: f.description.clone(),
        steps: Some(f.steps.clone()),
        impact: Some(f.impact.clone()),
        asset,
        cwe,
        cvss_vector: Some(f.cvss_vector.clone()),
    };
    let checked = match input.validate() {
        Ok(c) => c,
        Err(e) => {
            return form_page(&state, &ctx, &p, f, vec![(e.field, e.message)], &up.staged);
        }
    };
    match state
        .programmes
        .submit_report(&p, researcher, &checked, "web", state.now())
        .await
    {
        Ok(r) => {
            state
                .store
                .attach_staged(researcher, &up.ids(), r.id, None, false)
                .await?;
            audit(
                &state,
                &who,
                "report.submit",
                ("report", r.id.to_string()),
                p.slug.clone(),
                ctx.ip,
            )
            .await?;
            Ok(Redirect::to(&format!("/reports/{}", r.id)).into_response())
        }
        Err(ServiceError::Refused(m)) => {
            form_page(&state, &ctx, &p, f, vec![("form".into(), m)], &up.staged)
        }
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------- lists and inbox

pub struct ReportRowView {
    pub id: i64,
    pub title: String,
    pub programme: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub severity: String,
    pub severity_label: String,
    pub turn: &'static str,
    pub created: String,
    pub clock: String,
    pub clock_class: &'static str,
    pub out_of_scope: bool,
}

#[derive(Template)]
#[template(path = "reports.html")]
pub struct ReportsPage {
    pub chrome: Chrome,
    pub staff: bool,
    pub rows: Vec<ReportRowView>,
    pub breaching: usize,
    pub soon: usize,
    pub states: Vec<(&'static str, &'static str, bool)>,
    pub only_open: bool,
}

#[derive(Deserialize, Default)]
pub struct ReportsQuery {
    pub state: Option<String>,
    pub all: Option<String>,
}

fn turn_label(t: Turn, staff: bool) -> &'static str {
    match (t, staff) {
        (Turn::Team, true) => "Yours",
        (Turn::Team, false) => "The team's",
        (Turn::Researcher, true) => "Researcher's",
        (Turn::Researcher, false) => "Yours",
        (Turn::Nobody, _) => "Closed",
    }
}

fn clock_view(c: Option<rampart_programme::clock::Clock>, now: i64) -> (String, &'static str) {
    match c {
        Some(c) => match c.state {
            ClockState::Breached { due } => (
                format!("{} overdue since {}", c.target.label(), fmt_time(due)),
                "clock--breached",
            ),
            ClockState::Running { due } if due - now < rampart_programme::clock::SOON_MS => (
                format!("{} due {}", c.target.label(), fmt_time(due)),
                "clock--soon",
            ),
            ClockState::Running { due } => (
                format!("{} due {}", c.target.label(), fmt_time(due)),
                "clock--ok",
            ),
            _ => (String::new(), ""),
        },
        None => (String::new(), ""),
    }
}

pub async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Query(q): Query<ReportsQuery>,
) -> Result<Response, AppError> {
    if !who.can(rampart_core::Action::ReadReports) {
        return Err(AppError::NotFound);
    }
    let staff = who.role.is_staff();
    let state_filter = q
        .state
        .as_deref()
        .and_then(|s| s.parse::<ReportState>().ok());
    let only_open = staff && q.all.is_none() && state_filter.is_none();
    let mut filter = ReportFilter {
        state: state_filter,
        open_only: only_open,
        ..Default::default()
    };
    match (who.role, who.user_id) {
        (Role::Researcher, Some(u)) => filter.visible_to_researcher = Some(u),
        (Role::Engineer, Some(u)) => filter.assignee_id = Some(u),
        (Role::Researcher | Role::Engineer, None) => return Err(AppError::NotFound),
        _ => {}
    }
    let reports = state.store.list_reports(&filter).await?;
    let now = state.now();
    let mut programmes = std::collections::HashMap::new();
    let mut rows = Vec::with_capacity(reports.len());
    let (mut breaching, mut soon) = (0, 0);
    for r in reports {
        let p = match programmes.get(&r.programme_id) {
            Some(p) => p,
            None => {
                let p = state.store.programme_by_id(r.programme_id).await?;
                programmes.entry(r.programme_id).or_insert(p)
            }
        };
        let urgent = most_urgent(&clocks(&r, &p.targets, now));
        let (clock, clock_class) = clock_view(urgent, now);
        match clock_class {
            "clock--breached" => breaching += 1,
            "clock--soon" => soon += 1,
            _ => {}
        }
        let sev = r.final_severity.or(r.researcher_severity);
        rows.push(ReportRowView {
            id: r.id,
            title: r.title.clone(),
            programme: p.name.clone(),
            state: r.state.as_str(),
            state_label: r.state.label(),
            severity: sev.map_or("none".into(), |s| s.as_str().to_owned()),
            severity_label: sev.map_or("Unrated".into(), |s| s.label().to_owned()),
            turn: turn_label(r.state.turn(), staff),
            created: fmt_time(r.created_at),
            clock,
            clock_class,
            out_of_scope: r.out_of_scope,
        });
    }
    if staff {
        // The inbox puts breaching and soon-due reports first, then the
        // team's turn before the researcher's.
        rows.sort_by_key(|r| {
            (
                match r.clock_class {
                    "clock--breached" => 0,
                    "clock--soon" => 1,
                    _ => 2,
                },
                r.turn != "Yours",
                std::cmp::Reverse(r.id),
            )
        });
    }
    let page = ReportsPage {
        chrome: ctx.chrome(&state, "reports"),
        staff,
        rows,
        breaching,
        soon,
        states: ReportState::ALL
            .iter()
            .map(|s| (s.as_str(), s.label(), state_filter == Some(*s)))
            .collect(),
        only_open,
    };
    Ok(Html(page.render()?).into_response())
}

// ------------------------------------------------------------ the report

pub struct FileView {
    pub id: i64,
    pub filename: String,
    pub size: String,
}

pub struct EventView {
    pub files: Vec<FileView>,
    pub kind: String,
    pub author: String,
    pub from_team: bool,
    pub internal: bool,
    pub body_html: String,
    pub summary: String,
    pub at: String,
    pub at_iso: String,
}

pub struct SuggestionView {
    pub link: String,
    pub label: String,
    pub report_id: Option<i64>,
    pub score: u32,
    pub reasons: String,
}

pub struct ClockRow {
    pub label: &'static str,
    pub text: String,
    pub class: &'static str,
}

#[derive(Template)]
#[template(path = "report.html")]
pub struct ReportPage {
    pub chrome: Chrome,
    pub id: i64,
    pub title: String,
    pub programme: String,
    pub programme_slug: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub turn: &'static str,
    pub asset: String,
    pub out_of_scope: bool,
    pub cwe: String,
    pub cvss_vector: String,
    pub severity: String,
    pub severity_label: String,
    pub final_severity: String,
    pub final_severity_label: String,
    pub final_cvss_vector: String,
    pub description_html: String,
    pub steps_html: String,
    pub impact_html: String,
    pub thread: Vec<EventView>,
    pub files: Vec<FileView>,
    pub staff: bool,
    pub can_comment: bool,
    pub team_moves: Vec<(&'static str, &'static str)>,
    pub researcher_moves: Vec<(&'static str, &'static str)>,
    pub clocks: Vec<ClockRow>,
    pub bounties: Vec<(String, String, String)>,
    pub suggested_bounty: i64,
    pub currency: String,
    pub budget_left: Option<String>,
    pub duplicate_of: Option<i64>,
    pub duplicates: Vec<i64>,
    pub flash: Option<String>,
    pub error: Option<String>,
    pub comment_text: String,
    /// `none`, `requested_by_team`, `requested_by_researcher`, `disclosed`.
    pub disclosure: String,
    /// The write-up proposed or published; a draft from the report for the team.
    pub disclosure_text: String,
    pub disclosure_html: String,
    pub can_disclose: bool,
    pub assignees: Vec<(i64, String, bool)>,
    pub tracker_url: String,
    pub templates: Vec<(i64, String)>,
    pub bounty_ids: Vec<(i64, bool)>,
    /// Likely duplicates (the team only): (link, label, score %, reasons).
    pub suggestions: Vec<SuggestionView>,
    pub received_via: String,
    pub created: String,
}

fn move_label(s: ReportState, from: ReportState) -> &'static str {
    match (from, s) {
        (_, ReportState::NeedsMoreInfo) => "Ask for more information",
        (ReportState::Retesting, ReportState::Resolved) => "Retest passed: resolved",
        (ReportState::Retesting, ReportState::Triaged) => "Retest failed: reopen",
        (_, ReportState::Retesting) => "Fixed: request a retest",
        (_, ReportState::Resolved) => "Resolve (verified by the team)",
        (ReportState::NeedsMoreInfo, ReportState::New) => "Back to the team",
        (_, ReportState::New) => "Reopen as new",
        (from, ReportState::Triaged) if !from.is_open() => "Reopen as triaged",
        (_, other) => other.label(),
    }
}

fn event_summary(e: &rampart_store::ReportEvent) -> String {
    match e.kind.as_str() {
        "state" => match (e.from_state, e.to_state) {
            (Some(a), Some(b)) => {
                let extra = if e.detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", e.detail)
                };
                format!(
                    "changed the state from {} to {}{extra}",
                    a.label(),
                    b.label()
                )
            }
            _ => "changed the state".into(),
        },
        "ack" => "acknowledged the report".into(),
        "note" => "wrote an internal note".into(),
        "comment" => "wrote".into(),
        _ => e.detail.clone(),
    }
}

pub(crate) async fn render_report(
    state: &AppState,
    ctx: &PageCtx,
    who: &Principal,
    r: Report,
    flash: Option<String>,
    error: Option<String>,
    comment_text: String,
) -> Result<Response, AppError> {
    let staff = who.role.is_staff();
    let p = state.store.programme_by_id(r.programme_id).await?;
    let events = state.store.report_events(r.id, staff).await?;
    let files = state.store.report_attachments(r.id, staff).await?;
    let view = |a: &rampart_store::Attachment| FileView {
        id: a.id,
        filename: a.filename.clone(),
        size: size_label(a.size),
    };
    let report_files: Vec<FileView> = files
        .iter()
        .filter(|a| a.event_id.is_none())
        .map(view)
        .collect();
    let thread = events
        .iter()
        .map(|e| {
            let api = crate::programme_api::event_out(
                e.clone(),
                crate::programme_api::Reader {
                    staff,
                    user_id: who.user_id,
                },
            );
            EventView {
                files: files
                    .iter()
                    .filter(|a| a.event_id == Some(e.id))
                    .map(view)
                    .collect(),
                kind: e.kind.clone(),
                author: api.author.unwrap_or_default(),
                from_team: api.from_team,
                internal: e.internal,
                body_html: markdown::render(&e.body),
                summary: event_summary(e),
                at: fmt_time(e.created_at),
                at_iso: iso_time(e.created_at),
            }
        })
        .collect();
    let is_owner = who.user_id == Some(r.researcher_id);
    let team_moves = if staff && who.can(rampart_core::Action::WriteReports) {
        r.state
            .next_states(Mover::Team)
            .iter()
            .map(|s| (s.as_str(), move_label(*s, r.state)))
            .collect()
    } else {
        Vec::new()
    };
    let researcher_moves = if is_owner && who.role == Role::Researcher {
        r.state
            .next_states(Mover::Researcher)
            .iter()
            .filter(|s| r.state == ReportState::Retesting && **s != ReportState::New)
            .map(|s| (s.as_str(), move_label(*s, r.state)))
            .collect()
    } else {
        Vec::new()
    };
    let now = state.now();
    let clock_rows = clocks(&r, &p.targets, now)
        .iter()
        .filter_map(|c| {
            let (text, class) = match c.state {
                ClockState::Met => ("met".to_owned(), "clock--ok"),
                ClockState::Missed => ("missed".to_owned(), "clock--breached"),
                ClockState::Paused => ("paused while waiting on the researcher".to_owned(), ""),
                ClockState::Running { due } if due - now < rampart_programme::clock::SOON_MS => {
                    (format!("due {}", fmt_time(due)), "clock--soon")
                }
                ClockState::Running { due } => (format!("due {}", fmt_time(due)), ""),
                ClockState::Breached { due } => (
                    format!("overdue since {}", fmt_time(due)),
                    "clock--breached",
                ),
                ClockState::NotApplicable => return None,
            };
            Some(ClockRow {
                label: c.target.label(),
                text,
                class,
            })
        })
        .collect();
    let sees_awards = staff || is_owner;
    let bounties = state
        .store
        .report_bounties(r.id)
        .await?
        .into_iter()
        .filter(|_| sees_awards)
        .map(|b| {
            let what = if b.kind == "retest" {
                "Retest bounty"
            } else {
                "Bounty"
            };
            let amount = if b.bonus > 0 {
                format!("{} + {} bonus {}", b.amount, b.bonus, p.currency)
            } else {
                format!("{} {}", b.amount, p.currency)
            };
            (what.to_owned(), amount, b.status)
        })
        .collect();
    let team = crate::programme_api::is_team(who);
    let budget_left = match (team, p.budget) {
        (true, Some(b)) => {
            let spent = state.store.programme_bounty_total(p.id).await?;
            Some(format!("{} of {} {} left", b - spent, b, p.currency))
        }
        _ => None,
    };
    // Other researchers' duplicate reports are the team's to see.
    let duplicates = if staff {
        state
            .store
            .duplicates_of(r.id)
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect()
    } else {
        Vec::new()
    };
    let sev = r.researcher_severity;
    let fin = r.final_severity;
    let disclosure_text = match state.store.disclosure_summary(r.id).await? {
        Some(t) => t,
        None if staff => format!(
            "## {}\n\n{}\n\n### Impact\n\n{}",
            r.title, r.description, r.impact
        ),
        None => String::new(),
    };
    let can_disclose = !r.state.is_open()
        && !matches!(r.state, ReportState::Spam | ReportState::Duplicate)
        && r.disclosure != "disclosed"
        && who.can(rampart_core::Action::WriteReports)
        && (staff || is_owner);
    let (assignees, templates) = if staff {
        let people = state
            .assignees()
            .await?
            .into_iter()
            .map(|(id, email)| (id, email, r.assignee_id == Some(id)))
            .collect();
        let templates = state
            .programmes
            .reply_templates(now)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        (people, templates)
    } else {
        (Vec::new(), Vec::new())
    };
    let already_awarded = !state.store.report_bounties(r.id).await?.is_empty();
    let mut suggestions = Vec::new();
    if team && r.state != ReportState::Duplicate {
        // Suggestions never block the page: if the index fails, say nothing.
        for c in state
            .programmes
            .duplicate_candidates(&r, 5)
            .await
            .unwrap_or_default()
        {
            let (link, label, report_id) = match c.kind {
                rampart_dedup::DocKind::Report => match state.store.report(c.report_id).await {
                    Ok(o) => (
                        format!("/reports/{}", o.id),
                        format!("#{} {}", o.id, o.title),
                        Some(o.id),
                    ),
                    Err(_) => continue,
                },
                rampart_dedup::DocKind::KnownIssue => {
                    match state.store.known_issue(c.report_id).await {
                        Ok(k) => (
                            format!("/programs/{}#known-issues", p.slug),
                            format!("Known issue: {}", k.title),
                            None,
                        ),
                        Err(_) => continue,
                    }
                }
            };
            suggestions.push(SuggestionView {
                link,
                label,
                report_id,
                score: (c.score * 100.0).round() as u32,
                reasons: c
                    .reasons
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
    }
    let bounty_ids = state
        .store
        .report_bounties(r.id)
        .await?
        .iter()
        .map(|b| (b.id, b.status == "paid"))
        .collect();
    let page = ReportPage {
        chrome: ctx.chrome(state, "reports"),
        id: r.id,
        title: r.title.clone(),
        programme: p.name.clone(),
        programme_slug: p.slug.clone(),
        state: r.state.as_str(),
        state_label: r.state.label(),
        turn: turn_label(r.state.turn(), staff),
        asset: r.asset.clone().unwrap_or_default(),
        out_of_scope: r.out_of_scope,
        cwe: r
            .cwe
            .and_then(|c| u32::try_from(c).ok())
            .map(|c| match rampart_cwe::catalog().get(c) {
                Some(w) => format!("CWE-{c}: {}", w.name),
                None => format!("CWE-{c}"),
            })
            .unwrap_or_default(),
        cvss_vector: r.cvss_vector.clone().unwrap_or_default(),
        severity: sev.map_or("none".into(), |s| s.as_str().into()),
        severity_label: sev.map_or("Unrated".into(), |s| s.label().into()),
        final_severity: fin.map_or(String::new(), |s| s.as_str().into()),
        final_severity_label: fin.map_or(String::new(), |s| s.label().into()),
        final_cvss_vector: r.final_cvss_vector.clone().unwrap_or_default(),
        description_html: markdown::render(&r.description),
        steps_html: markdown::render(&r.steps),
        impact_html: markdown::render(&r.impact),
        thread,
        files: report_files,
        staff,
        can_comment: who.can(rampart_core::Action::WriteReports) && (staff || is_owner),
        team_moves,
        researcher_moves,
        clocks: clock_rows,
        bounties,
        // Once something is awarded, a second award is a deliberate act:
        // the form no longer offers the table's amount again.
        suggested_bounty: if already_awarded {
            0
        } else {
            Service::suggested_bounty(&p, &r)
        },
        currency: p.currency.clone(),
        budget_left,
        duplicate_of: r.duplicate_of,
        duplicates,
        flash,
        error,
        comment_text,
        disclosure: r.disclosure.clone(),
        disclosure_html: markdown::render(&disclosure_text),
        disclosure_text,
        can_disclose,
        assignees,
        tracker_url: r.tracker_url.clone().unwrap_or_default(),
        templates,
        bounty_ids,
        suggestions,
        received_via: r.received_via.clone(),
        created: fmt_time(r.created_at),
    };
    Ok(Html(page.render()?).into_response())
}

fn parse_report_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or(AppError::NotFound)
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    if !who.can(rampart_core::Action::ReadReports) {
        return Err(AppError::NotFound);
    }
    let r = visible_report(&state, &who, parse_report_id(&id)?).await?;
    render_report(&state, &ctx, &who, r, None, None, String::new()).await
}

fn actor(who: &Principal) -> Result<Actor, AppError> {
    who.user_id
        .map(|user_id| Actor {
            user_id,
            role: who.role,
        })
        .ok_or(AppError::NotFound)
}

pub async fn comment(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(id): Path<String>,
    form: axum::extract::Multipart,
) -> Result<Response, AppError> {
    if !who.can(rampart_core::Action::WriteReports) {
        return Err(AppError::NotFound);
    }
    let r = visible_report(&state, &who, parse_report_id(&id)?).await?;
    let me = actor(&who)?;
    state.limits.check_comment(me.user_id)?;
    let up = read_upload(&state, me.user_id, form).await?;
    let mut body = up.field("body");
    let internal = !up.field("internal").is_empty();
    // Starting from a template without JavaScript: an empty message with a
    // template chosen posts the template's text.
    if body.trim().is_empty()
        && who.role.is_staff()
        && let Ok(tid) = up.field("template").parse::<i64>()
        && let Some(t) = state
            .store
            .reply_templates()
            .await?
            .into_iter()
            .find(|t| t.id == tid)
    {
        body = t.body;
    }
    if !up.refused.is_empty() {
        return render_report(
            &state,
            &ctx,
            &who,
            r,
            None,
            Some(up.refused.join(" ")),
            body,
        )
        .await;
    }
    // A file alone is a fine message; say what it is.
    let text = if body.trim().is_empty() && !up.staged.is_empty() {
        format!(
            "Attached {}.",
            up.staged
                .iter()
                .map(|a| a.filename.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        body.clone()
    };
    let result = state
        .programmes
        .comment(&r, me, &text, internal, state.now())
        .await;
    match result {
        Ok(event) => {
            state
                .store
                .attach_staged(me.user_id, &up.ids(), r.id, Some(event.id), event.internal)
                .await?;
            Ok(Redirect::to(&format!("/reports/{}#thread-end", r.id)).into_response())
        }
        Err(ServiceError::Invalid(e)) => {
            let msg = format!("The comment {}.", e.message);
            render_report(&state, &ctx, &who, r, None, Some(msg), body).await
        }
        Err(ServiceError::Refused(m)) => {
            render_report(&state, &ctx, &who, r, None, Some(m), body).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A report's file, as a download, to those who may see the report (and,
/// for files on internal notes, the team only).
pub async fn download(
    State(state): State<AppState>,
    Signed(who): Signed,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    if !who.can(rampart_core::Action::ReadReports) {
        return Err(AppError::NotFound);
    }
    let r = visible_report(&state, &who, parse_report_id(&id)?).await?;
    let a = state.store.attachment(parse_report_id(&file)?).await?;
    if a.report_id != Some(r.id) || (a.internal != 0 && !who.role.is_staff()) {
        return Err(AppError::NotFound);
    }
    let bytes = state.files.get(&a.sha256).await?;
    let encoded: String = form_urlencoded::byte_serialize(a.filename.as_bytes()).collect();
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        a.filename
            .replace(|c: char| !c.is_ascii_graphic() && c != ' ', "_"),
        encoded.replace('+', "%20")
    );
    Ok((
        [
            // Never rendered by the browser, whatever the file claims to be.
            (
                axum::http::header::CONTENT_TYPE,
                "application/octet-stream".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct StateForm {
    pub state: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub duplicate_of: String,
}

pub async fn change_state(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<StateForm>,
) -> Result<Response, AppError> {
    if !who.can(rampart_core::Action::WriteReports) {
        return Err(AppError::NotFound);
    }
    let r = visible_report(&state, &who, parse_report_id(&id)?).await?;
    let Ok(to) = f.state.parse::<ReportState>() else {
        return render_report(
            &state,
            &ctx,
            &who,
            r,
            None,
            Some("Pick a state.".into()),
            String::new(),
        )
        .await;
    };
    let duplicate_of = f
        .duplicate_of
        .trim()
        .trim_start_matches('#')
        .parse::<i64>()
        .ok();
    let from = r.state;
    match state
        .programmes
        .change_state(&r, actor(&who)?, to, &f.reason, duplicate_of, state.now())
        .await
    {
        Ok(updated) => {
            audit(
                &state,
                &who,
                "report.state",
                ("report", r.id.to_string()),
                format!("{} → {}", from.as_str(), to.as_str()),
                ctx.ip,
            )
            .await?;
            render_report(
                &state,
                &ctx,
                &who,
                updated,
                Some(format!("Report #{} is now {}.", r.id, to.label())),
                None,
                String::new(),
            )
            .await
        }
        Err(ServiceError::Invalid(e)) => {
            let msg = if e.field == "duplicate_of" {
                "Give the number of the original report (in this programme).".to_owned()
            } else {
                e.message
            };
            render_report(&state, &ctx, &who, r, None, Some(msg), String::new()).await
        }
        Err(ServiceError::Refused(m)) => {
            render_report(&state, &ctx, &who, r, None, Some(m), String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    pub assignee: String,
}

pub async fn assign(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<AssignForm>,
) -> Result<Response, AppError> {
    if !who.role.is_staff() || !who.can(rampart_core::Action::WriteReports) {
        return Err(AppError::NotFound);
    }
    let r = visible_report(&state, &who, parse_report_id(&id)?).await?;
    let assignee = f.assignee.parse::<i64>().ok();
    if let Some(a) = assignee
        && !state.assignees().await?.iter().any(|(id, _)| *id == a)
    {
        return render_report(
            &state,
            &ctx,
            &who,
            r,
            None,
            Some("Pick someone from the team.".into()),
            String::new(),
        )
        .await;
    }
    state
        .store
        .assign_report(r.id, assignee, actor(&who)?.user_id, state.now())
        .await?;
    audit(
        &state,
        &who,
        "report.assign",
        ("report", r.id.to_string()),
        assignee.map_or("nobody".into(), |a| a.to_string()),
        ctx.ip,
    )
    .await?;
    let r = state.store.report(r.id).await?;
    render_report(
        &state,
        &ctx,
        &who,
        r,
        Some("Assignment saved.".into()),
        None,
        String::new(),
    )
    .await
}

/// Registers the report as a known issue of its programme.
pub async fn to_known_issue(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    if !who.role.is_staff() || !who.can(rampart_core::Action::WriteReports) {
        return Err(AppError::NotFound);
    }
    let r = visible_report(&state, &who, parse_report_id(&id)?).await?;
    let k = state
        .programmes
        .add_known_issue(
            &rampart_store::NewKnownIssue {
                programme_id: r.programme_id,
                title: r.title.clone(),
                description: format!("{}\n\n{}", r.description, r.steps),
                asset: r.asset.clone(),
                cwe: r.cwe,
                report_id: Some(r.id),
                finding_id: None,
                // The report's text may be sensitive: listed publicly only
                // once the team edits it on the programme page.
                public: false,
            },
            state.now(),
        )
        .await?;
    audit(
        &state,
        &who,
        "programme.known_issue",
        ("report", r.id.to_string()),
        k.id.to_string(),
        ctx.ip,
    )
    .await?;
    render_report(
        &state,
        &ctx,
        &who,
        r,
        Some("Added to the programme's known issues (not listed publicly).".into()),
        None,
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct TrackerForm {
    #[serde(default)]
    pub tracker_url: String,
}

pub async fn tracker(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<TrackerForm>,
) -> Result<Response, AppError> {
    if !who.role.is_staff() || !who.can(rampart_core::Action::WriteReports) {
        return Err(AppError::NotFound);
    }
    let r = visible_report(&state, &who, parse_report_id(&id)?).await?;
    let url = f.tracker_url.trim();
    let ok = url.is_empty()
        || (url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
            && url.len() <= 2000);
    if !ok {
        return render_report(&state, &ctx, &who, r, None, Some("The tracker link must be an http(s) address, such as https://jira.example.com/browse/SEC-12.".into()), String::new()).await;
    }
    state
        .store
        .set_report_tracker(
            r.id,
            (!url.is_empty()).then_some(url),
            actor(&who)?.user_id,
            state.now(),
        )
        .await?;
    let r = state.store.report(r.id).await?;
    render_report(
        &state,
        &ctx,
        &who,
        r,
        Some("Tracker link saved.".into()),
        None,
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct PaidForm {
    #[serde(default)]
    pub reference: String,
}

pub async fn mark_paid(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path((id, bounty)): Path<(String, String)>,
    axum::Form(f): axum::Form<PaidForm>,
) -> Result<Response, AppError> {
    if !who.role.is_staff() || !who.can(rampart_core::Action::WriteReports) {
        return Err(AppError::NotFound);
    }
    let r = visible_report(&state, &who, parse_report_id(&id)?).await?;
    let bid = parse_report_id(&bounty)?;
    if !state
        .store
        .report_bounties(r.id)
        .await?
        .iter()
        .any(|b| b.id == bid)
    {
        return Err(AppError::NotFound);
    }
    let reference: String = f.reference.trim().chars().take(200).collect();
    state
        .store
        .mark_bounty_paid(bid, &reference, state.now())
        .await?;
    audit(
        &state,
        &who,
        "report.bounty_paid",
        ("report", r.id.to_string()),
        reference,
        ctx.ip,
    )
    .await?;
    render_report(
        &state,
        &ctx,
        &who,
        r,
        Some("Marked as paid.".into()),
        None,
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct DisclosureForm {
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub title: String,
}

pub async fn disclosure(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<DisclosureForm>,
) -> Result<Response, AppError> {
    if !who.can(rampart_core::Action::WriteReports) {
        return Err(AppError::NotFound);
    }
    let r = visible_report(&state, &who, parse_report_id(&id)?).await?;
    let summary = who.role.is_staff().then_some(f.summary.as_str());
    let title = who.role.is_staff().then_some(f.title.as_str());
    match state
        .programmes
        .disclosure(&r, actor(&who)?, summary, title, state.now())
        .await
    {
        Ok(done) => {
            audit(
                &state,
                &who,
                if done {
                    "report.disclose"
                } else {
                    "report.disclosure_request"
                },
                ("report", r.id.to_string()),
                String::new(),
                ctx.ip,
            )
            .await?;
            let r = state.store.report(r.id).await?;
            let msg = if done {
                "The report is disclosed on the programme's disclosed-reports page."
            } else {
                "Disclosure requested; the other side is asked to agree."
            };
            render_report(&state, &ctx, &who, r, Some(msg.into()), None, String::new()).await
        }
        Err(ServiceError::Invalid(e)) => {
            render_report(&state, &ctx, &who, r, None, Some(e.message), String::new()).await
        }
        Err(ServiceError::Refused(m)) => {
            render_report(&state, &ctx, &who, r, None, Some(m), String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct BountyForm {
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub bonus: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub confirm_over_budget: Option<String>,
}

pub async fn award(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<BountyForm>,
) -> Result<Response, AppError> {
    if !who.role.is_staff() || !who.can(rampart_core::Action::WriteReports) {
        return Err(AppError::NotFound);
    }
    let r = visible_report(&state, &who, parse_report_id(&id)?).await?;
    let p = state.store.programme_by_id(r.programme_id).await?;
    let num = |s: &str| s.trim().replace(',', "").parse::<i64>().ok();
    let (Some(amount), bonus) = (num(&f.amount), num(&f.bonus).unwrap_or(0)) else {
        return render_report(
            &state,
            &ctx,
            &who,
            r,
            None,
            Some("Enter the amount as a whole number.".into()),
            String::new(),
        )
        .await;
    };
    let kind = if f.kind == "retest" {
        "retest"
    } else {
        "bounty"
    };
    match state
        .programmes
        .award_bounty(
            &p,
            &r,
            actor(&who)?,
            kind,
            amount,
            bonus,
            f.confirm_over_budget.is_some(),
            state.now(),
        )
        .await
    {
        Ok(b) => {
            audit(
                &state,
                &who,
                "report.bounty",
                ("report", r.id.to_string()),
                format!("{} + {} {}", b.amount, b.bonus, p.currency),
                ctx.ip,
            )
            .await?;
            let r = state.store.report(r.id).await?;
            render_report(
                &state,
                &ctx,
                &who,
                r,
                Some(format!(
                    "Awarded {} {}; payout is pending.",
                    b.amount + b.bonus,
                    p.currency
                )),
                None,
                String::new(),
            )
            .await
        }
        Err(e @ (ServiceError::OverBudget { .. } | ServiceError::Refused(_))) => {
            render_report(
                &state,
                &ctx,
                &who,
                r,
                None,
                Some(e.to_string()),
                String::new(),
            )
            .await
        }
        Err(ServiceError::Invalid(e)) => {
            render_report(
                &state,
                &ctx,
                &who,
                r,
                None,
                Some(format!("{}: {}", e.field, e.message)),
                String::new(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct SeverityForm {
    #[serde(default)]
    pub cvss_vector: String,
}

pub async fn set_severity(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<SeverityForm>,
) -> Result<Response, AppError> {
    if !who.role.is_staff() || !who.can(rampart_core::Action::WriteReports) {
        return Err(AppError::NotFound);
    }
    let r = visible_report(&state, &who, parse_report_id(&id)?).await?;
    let c = match rampart_cvss::Cvss::parse(f.cvss_vector.trim()) {
        Ok(c) => c,
        Err(e) => {
            return render_report(
                &state,
                &ctx,
                &who,
                r,
                None,
                Some(e.to_string()),
                String::new(),
            )
            .await;
        }
    };
    let sev = c.rating().finding_severity();
    state
        .store
        .set_report_severity(
            r.id,
            Some(sev),
            Some(&c.normalized()),
            actor(&who)?.user_id,
            state.now(),
        )
        .await?;
    let r = state.store.report(r.id).await?;
    render_report(
        &state,
        &ctx,
        &who,
        r,
        Some(format!(
            "Final severity set to {} ({}).",
            sev.label(),
            c.score()
        )),
        None,
        String::new(),
    )
    .await
}

// --------------------------------------------------------- notifications

pub struct NotificationView {
    pub message: String,
    pub link: Option<String>,
    pub at: String,
    pub unread: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    pub chrome: Chrome,
    pub items: Vec<NotificationView>,
}

pub async fn notifications(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(who): Signed,
) -> Result<Response, AppError> {
    let user = who.user_id.ok_or(AppError::NotFound)?;
    let items = state
        .store
        .notifications(user, 100)
        .await?
        .into_iter()
        .map(|n| NotificationView {
            message: n.message,
            link: n.report_id.map(|id| format!("/reports/{id}")),
            at: fmt_time(n.created_at),
            unread: n.read_at.is_none(),
        })
        .collect();
    let page = NotificationsPage {
        chrome: ctx.chrome(&state, "notifications"),
        items,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn mark_read(
    State(state): State<AppState>,
    Signed(who): Signed,
) -> Result<Response, AppError> {
    let user = who.user_id.ok_or(AppError::NotFound)?;
    state
        .store
        .mark_notifications_read(user, state.now())
        .await?;
    Ok(Redirect::to("/notifications").into_response())
}
