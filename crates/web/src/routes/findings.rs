//! Findings pages, and the rules shared with the findings API: which
//! findings a caller may see, change and assign.

use super::audit;
use crate::AppState;
use crate::error::AppError;
use crate::forms::{PageCtx, Signed, urlencode};
use crate::principal::Principal;
use crate::views::{
    Choice, FindingDetailPage, FindingRowView, FindingsPage, HistoryView, Pager, fmt_time,
};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use rampart_core::{Action, FindingStatus, Severity};
use rampart_store::{AssigneeFilter, Finding, FindingFilter, FindingSort};
use serde::Deserialize;
use std::net::IpAddr;

/// Query parameters of the findings list, shared by the page and the API.
#[derive(Debug, Default, Deserialize, Clone, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingsQuery {
    /// Only findings from this source (e.g. `sarif`, `secrets`).
    #[param(pattern = r"^[^\u0000]*$")]
    pub source: Option<String>,
    /// Only this severity.
    #[param(value_type = Option<Severity>)]
    pub severity: Option<String>,
    /// Only this status.
    #[param(value_type = Option<FindingStatus>)]
    pub status: Option<String>,
    /// Only findings on this asset (exact match).
    #[param(pattern = r"^[^\u0000]*$")]
    pub asset: Option<String>,
    /// A user id, `me`, or `none` for unassigned findings.
    #[param(pattern = r"^(me|none|[1-9][0-9]{0,17})$")]
    pub assignee: Option<String>,
    /// Case-insensitive text the title must contain.
    #[param(pattern = r"^[^\u0000]*$")]
    pub q: Option<String>,
    /// Order of the list.
    #[param(value_type = Option<SortKey>)]
    pub sort: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<i64>,
    /// Findings per page (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<i64>,
}

/// How the findings list can be ordered (documentation of `sort`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "snake_case")]
pub enum SortKey {
    /// Most recently seen first (default).
    LastSeen,
    /// Worst first.
    Severity,
    /// Newest first.
    FirstSeen,
    /// Most often seen first.
    Occurrences,
}

fn blank_to_none(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl FindingsQuery {
    /// Turns the query into a store filter for `who`. With `strict`, an
    /// unknown value is an error naming the parameter (API); without, it is
    /// ignored (a hand-edited page URL still shows something).
    pub fn to_filter(&self, who: &Principal, strict: bool) -> Result<FindingFilter, AppError> {
        let bad = |field: &str, msg: String| AppError::bad_request(Some(field), msg);
        if strict {
            // Empty is not a value for the enumerated parameters: say so
            // rather than silently ignoring a malformed filter.
            for (field, v) in [
                ("severity", &self.severity),
                ("status", &self.status),
                ("assignee", &self.assignee),
                ("sort", &self.sort),
            ] {
                if v.as_deref().is_some_and(|v| v.trim().is_empty()) {
                    return Err(bad(
                        field,
                        "must not be empty; leave the parameter out instead".into(),
                    ));
                }
            }
            for (field, v) in [
                ("source", &self.source),
                ("asset", &self.asset),
                ("q", &self.q),
            ] {
                if v.as_deref().is_some_and(|v| v.contains('\0')) {
                    return Err(bad(field, "must not contain NUL characters".into()));
                }
            }
        }
        let mut f = FindingFilter {
            source: blank_to_none(&self.source).map(str::to_owned),
            asset: blank_to_none(&self.asset).map(str::to_owned),
            text: blank_to_none(&self.q).map(str::to_owned),
            ..Default::default()
        };
        if let Some(s) = blank_to_none(&self.severity) {
            match s.parse::<Severity>() {
                Ok(v) => f.severity = Some(v),
                Err(e) if strict => return Err(bad("severity", e.to_string())),
                Err(_) => {}
            }
        }
        if let Some(s) = blank_to_none(&self.status) {
            match s.parse::<FindingStatus>() {
                Ok(v) => f.status = Some(v),
                Err(e) if strict => return Err(bad("status", e.to_string())),
                Err(_) => {}
            }
        }
        if let Some(a) = blank_to_none(&self.assignee) {
            f.assignee = match a {
                "none" => Some(AssigneeFilter::Unassigned),
                "me" => who.user_id.map(AssigneeFilter::User),
                id => match id.parse::<i64>() {
                    Ok(v) if v > 0 => Some(AssigneeFilter::User(v)),
                    _ if strict => {
                        return Err(bad("assignee", "use a user id, \"me\" or \"none\"".into()));
                    }
                    _ => None,
                },
            };
        }
        if let Some(s) = blank_to_none(&self.sort) {
            match FindingSort::parse(s) {
                Some(v) => f.sort = v,
                None if strict => {
                    return Err(bad(
                        "sort",
                        "use last_seen, severity, first_seen or occurrences".into(),
                    ));
                }
                None => {}
            }
        }
        if strict {
            if let Some(p) = self.per_page
                && !(1..=500).contains(&p)
            {
                return Err(bad("per_page", "must be between 1 and 500".into()));
            }
            if let Some(p) = self.page
                && !(1..=1_000_000).contains(&p)
            {
                return Err(bad("page", "must be between 1 and 1000000".into()));
            }
        }
        if who.sees_only_assigned() {
            // Engineers: whatever else is asked, only their own assignments.
            f.restrict_to_assignee = Some(who.user_id.unwrap_or(-1));
        }
        Ok(f)
    }
}

/// Loads a finding if `who` may see it. Invisible and missing look the same.
pub async fn visible_finding(
    state: &AppState,
    who: &Principal,
    id: i64,
) -> Result<Finding, AppError> {
    if !who.can(Action::ReadFindings) {
        return Err(AppError::NotFound);
    }
    let f = state.store.finding(id).await?;
    if who.sees_only_assigned() && f.assignee_id != who.user_id {
        return Err(AppError::NotFound);
    }
    Ok(f)
}

/// Changes a finding's status on behalf of `who`, with the audit entry.
pub async fn change_status(
    state: &AppState,
    who: &Principal,
    id: i64,
    status: FindingStatus,
    ip: IpAddr,
) -> Result<Finding, AppError> {
    let f = visible_finding(state, who, id).await?;
    if !who.can(Action::UpdateFindings) {
        return Err(AppError::Forbidden("You may not change findings.".into()));
    }
    let entry = rampart_store::NewAuditEntry {
        actor_id: who.user_id,
        actor: who.actor_label(),
        action: "finding.status".into(),
        object_type: "finding".into(),
        object_id: id.to_string(),
        detail: String::new(),
        ip: ip.to_string(),
    };
    let now = state.now();
    state
        .store
        .set_finding_status_audited(f.id, status, now, Some(&entry))
        .await?;
    // The row as it now is, without reading it back.
    let mut f = f;
    f.status = status;
    f.updated_at = now;
    Ok(f)
}

/// Assigns a finding (or clears the assignee) on behalf of `who`.
pub async fn change_assignee(
    state: &AppState,
    who: &Principal,
    id: i64,
    assignee: Option<i64>,
    ip: IpAddr,
) -> Result<Finding, AppError> {
    let f = visible_finding(state, who, id).await?;
    if !who.can(Action::AssignFindings) {
        return Err(AppError::Forbidden("You may not assign findings.".into()));
    }
    let label = match assignee {
        Some(uid) => {
            // A user that does not exist is "not found", like a finding.
            let u = state
                .store
                .user_by_id(uid)
                .await
                .map_err(|_| AppError::NotFound)?;
            if !u.role.is_staff() || u.disabled {
                return Err(AppError::bad_request(
                    Some("assignee_id"),
                    "findings can only be assigned to active staff accounts",
                ));
            }
            u.email
        }
        None => "nobody".into(),
    };
    state
        .store
        .assign_finding(f.id, assignee, state.now())
        .await?;
    if f.assignee_id != assignee {
        audit(
            state,
            who,
            "finding.assign",
            ("finding", id.to_string()),
            format!("to {label}"),
            ip,
        )
        .await?;
    }
    Ok(state.store.finding(id).await?)
}

fn choices<T: Copy + PartialEq>(
    all: &[T],
    selected: Option<T>,
    value: impl Fn(T) -> String,
    label: impl Fn(T) -> String,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            value: value(*v),
            label: label(*v),
            selected: Some(*v) == selected,
        })
        .collect()
}

fn page_href(q: &FindingsQuery, page: i64) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (k, v) in [
        ("q", &q.q),
        ("source", &q.source),
        ("severity", &q.severity),
        ("status", &q.status),
        ("asset", &q.asset),
        ("assignee", &q.assignee),
        ("sort", &q.sort),
    ] {
        if let Some(v) = blank_to_none(v) {
            parts.push(format!("{k}={}", urlencode(v)));
        }
    }
    parts.push(format!("page={page}"));
    format!("/findings?{}", parts.join("&"))
}

pub async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Query(q): Query<FindingsQuery>,
) -> Result<Response, AppError> {
    if !me.can(Action::ReadFindings) {
        return Err(AppError::Forbidden(
            "Findings are for the security team.".into(),
        ));
    }
    let filter = q.to_filter(&me, false)?;
    let page_no = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let page = state.store.list_findings(&filter, page_no, 50).await?;
    let mut sources: Vec<String> = rampart_core::Source::KNOWN
        .iter()
        .map(|s| s.to_string())
        .collect();
    for s in state.finding_sources().await? {
        if !sources.contains(&s) {
            sources.push(s);
        }
    }
    let selected_source = filter.source.clone().unwrap_or_default();
    let assignees = if me.sees_only_assigned() {
        Vec::new()
    } else {
        let sel = blank_to_none(&q.assignee).unwrap_or("").to_owned();
        let mut v = vec![Choice {
            value: "none".into(),
            label: "Unassigned".into(),
            selected: sel == "none",
        }];
        for (id, email) in state.assignees().await? {
            v.push(Choice {
                selected: sel == id.to_string() || (sel == "me" && Some(id) == me.user_id),
                value: id.to_string(),
                label: email,
            });
        }
        v
    };
    let sorts = [
        FindingSort::LastSeen,
        FindingSort::Severity,
        FindingSort::FirstSeen,
        FindingSort::Occurrences,
    ];
    let sort_labels = |s: FindingSort| match s {
        FindingSort::LastSeen => "Last seen".to_owned(),
        FindingSort::Severity => "Severity".to_owned(),
        FindingSort::FirstSeen => "Newest".to_owned(),
        FindingSort::Occurrences => "Most seen".to_owned(),
    };
    let filtered = filter.source.is_some()
        || filter.severity.is_some()
        || filter.status.is_some()
        || filter.asset.is_some()
        || filter.assignee.is_some()
        || filter.text.is_some();
    let pages = page.pages();
    let view = FindingsPage {
        chrome: ctx.chrome(&state, "findings"),
        rows: page.items.iter().map(FindingRowView::from).collect(),
        sources: sources
            .into_iter()
            .map(|s| Choice {
                selected: s == selected_source,
                label: s.clone(),
                value: s,
            })
            .collect(),
        severities: choices(
            &Severity::ALL,
            filter.severity,
            |s| s.as_str().into(),
            |s| s.label().into(),
        ),
        statuses: choices(
            &FindingStatus::ALL,
            filter.status,
            |s| s.as_str().into(),
            |s| s.label().into(),
        ),
        assignees,
        sorts: choices(
            &sorts,
            Some(filter.sort),
            |s| s.as_str().into(),
            sort_labels,
        ),
        asset: filter.asset.clone().unwrap_or_default(),
        text: filter.text.clone().unwrap_or_default(),
        pager: Pager {
            page: page.page,
            pages: if page.total_exact {
                pages.to_string()
            } else {
                format!("{pages}+")
            },
            total: if page.total_exact {
                crate::views::thousands(page.total)
            } else {
                format!("{}+", crate::views::thousands(page.total))
            },
            prev_href: (page.page > 1).then(|| page_href(&q, page.page - 1)),
            next_href: page.has_next().then(|| page_href(&q, page.page + 1)),
        },
        filtered,
        restricted: me.sees_only_assigned(),
    };
    Ok(Html(view.render()?).into_response())
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let f = visible_finding(&state, &me, id).await?;
    let history = state
        .store
        .audit_for_object("finding", &id.to_string())
        .await?
        .iter()
        .map(HistoryView::from)
        .collect();
    let can_assign = me.can(Action::AssignFindings);
    let assignees = if can_assign {
        state
            .assignees()
            .await?
            .into_iter()
            .map(|(id, email)| Choice {
                selected: Some(id) == f.assignee_id,
                value: id.to_string(),
                label: email,
            })
            .collect()
    } else {
        Vec::new()
    };
    let flash = match q.done.as_deref() {
        Some("status") => Some("Status changed.".to_owned()),
        Some("assign") => Some("Assignee changed.".to_owned()),
        Some("known") => Some("Registered as a known issue of the programme.".to_owned()),
        _ => None,
    };
    let programmes = if matches!(
        me.role,
        rampart_core::Role::Admin | rampart_core::Role::Triager
    ) {
        state
            .store
            .programme_names()
            .await?
            .into_iter()
            .map(|(_, slug, name)| Choice {
                value: slug,
                label: name,
                selected: false,
            })
            .collect()
    } else {
        Vec::new()
    };
    let page = FindingDetailPage {
        chrome: ctx.chrome(&state, "findings"),
        cvss_vector: f.cvss_vector.clone().unwrap_or_default(),
        cwe: f.cwe,
        location: f.location.clone().unwrap_or_default(),
        rule_id: f.rule_id.clone().unwrap_or_default(),
        description: f.description.clone().unwrap_or_default(),
        fingerprint: f.fingerprint.clone(),
        first_seen: fmt_time(f.first_seen),
        statuses: choices(
            &FindingStatus::ALL,
            Some(f.status),
            |s| s.as_str().into(),
            |s| s.label().into(),
        ),
        assignees,
        can_update: me.can(Action::UpdateFindings),
        can_assign,
        history,
        flash,
        programmes,
        f: FindingRowView::from(&f),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<StatusForm>,
) -> Result<Response, AppError> {
    let status = form
        .status
        .parse::<FindingStatus>()
        .map_err(|e| AppError::bad_request(Some("status"), e.to_string()))?;
    change_status(&state, &me, id, status, ctx.ip).await?;
    Ok(Redirect::to(&format!("/findings/{id}?done=status")).into_response())
}

#[derive(Deserialize)]
pub struct AssignForm {
    assignee: String,
}

pub async fn assign(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<AssignForm>,
) -> Result<Response, AppError> {
    let assignee = match form.assignee.trim() {
        "" => None,
        v => Some(v.parse::<i64>().map_err(|_| {
            AppError::bad_request(Some("assignee"), "choose a person from the list")
        })?),
    };
    change_assignee(&state, &me, id, assignee, ctx.ip).await?;
    Ok(Redirect::to(&format!("/findings/{id}?done=assign")).into_response())
}

#[derive(Deserialize)]
pub struct KnownIssueForm {
    programme: String,
}

/// Registers a finding as a known issue of a programme: reports of the
/// same weakness are then suggested as its duplicates.
pub async fn to_known_issue(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(me): Signed,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<KnownIssueForm>,
) -> Result<Response, AppError> {
    if !matches!(
        me.role,
        rampart_core::Role::Admin | rampart_core::Role::Triager
    ) {
        return Err(AppError::NotFound);
    }
    let f = visible_finding(&state, &me, id).await?;
    let p = state.store.programme_by_slug(&form.programme).await?;
    let k = state
        .programmes
        .add_known_issue(
            &rampart_store::NewKnownIssue {
                programme_id: p.id,
                title: f.title.chars().take(200).collect(),
                description: f.description.clone().unwrap_or_default(),
                asset: f.asset.clone(),
                cwe: f.cwe,
                finding_id: Some(f.id),
                report_id: None,
                public: false,
            },
            state.now(),
        )
        .await?;
    audit(
        &state,
        &me,
        "programme.known_issue",
        ("finding", f.id.to_string()),
        format!("{} #{}", p.slug, k.id),
        ctx.ip,
    )
    .await?;
    Ok(Redirect::to(&format!("/findings/{id}?done=known")).into_response())
}
