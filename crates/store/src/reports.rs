//! Researcher reports and their threads: comments, internal notes, state
//! changes, participants, attachments, bounties and notifications.
//!
//! Every state change goes through [`ReportState::check_transition`], the
//! one workflow table in `rampart-core`, inside the same transaction that
//! records it in the thread: a change and its record exist together or not
//! at all.

use crate::{Result, Store, StoreError};
use rampart_core::{Mover, ReportState, Role, Severity, TransitionError, UnixMillis};

/// An award refused because it would exceed the programme's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetExceeded {
    /// Spending with this award.
    pub would_be: i64,
    pub budget: i64,
}

/// A stored report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: i64,
    pub programme_id: i64,
    pub researcher_id: i64,
    pub title: String,
    pub description: String,
    pub steps: String,
    pub impact: String,
    pub asset: Option<String>,
    /// The asset named is not in the programme's scope (flagged to both sides).
    pub out_of_scope: bool,
    pub cwe: Option<i64>,
    /// The researcher's own CVSS vector and severity, kept beside the team's.
    pub cvss_vector: Option<String>,
    pub researcher_severity: Option<Severity>,
    pub final_severity: Option<Severity>,
    pub final_cvss_vector: Option<String>,
    pub state: ReportState,
    pub duplicate_of: Option<i64>,
    pub assignee_id: Option<i64>,
    pub tracker_url: Option<String>,
    /// `web`, `api` or `email`.
    pub received_via: String,
    pub known_issue: bool,
    pub finding_id: Option<i64>,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
    pub state_since: UnixMillis,
    /// Time spent waiting on the researcher, which response clocks skip.
    pub paused_ms: i64,
    pub first_response_at: Option<UnixMillis>,
    pub triaged_at: Option<UnixMillis>,
    pub bounty_at: Option<UnixMillis>,
    pub resolved_at: Option<UnixMillis>,
    pub disclosure: String,
    pub disclosed_at: Option<UnixMillis>,
}

/// What a researcher submits.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewReport {
    pub programme_id: i64,
    pub researcher_id: i64,
    pub title: String,
    pub description: String,
    pub steps: String,
    pub impact: String,
    pub asset: Option<String>,
    pub out_of_scope: bool,
    pub cwe: Option<i64>,
    pub cvss_vector: Option<String>,
    pub researcher_severity: Option<Severity>,
    pub received_via: String,
}

/// One entry of a report's thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportEvent {
    pub id: i64,
    pub report_id: i64,
    pub author_id: Option<i64>,
    /// The author's public handle (researchers) or email (staff), if any.
    pub author_name: Option<String>,
    pub author_role: Option<Role>,
    /// `ack`, `comment`, `note`, `state`, `assign`, `severity`, `bounty`,
    /// `duplicate`, `disclosure`, `tracker`.
    pub kind: String,
    pub body: String,
    /// Never shown to researchers.
    pub internal: bool,
    pub from_state: Option<ReportState>,
    pub to_state: Option<ReportState>,
    pub detail: String,
    pub created_at: UnixMillis,
}

/// A bounty award (or a retest fee).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounty {
    pub id: i64,
    pub report_id: i64,
    pub kind: String,
    pub amount: i64,
    pub bonus: i64,
    /// `pending` until paid out of band, then `paid`.
    pub status: String,
    pub awarded_by: Option<i64>,
    pub created_at: UnixMillis,
    pub paid_at: Option<UnixMillis>,
    pub reference: String,
}

/// Which reports to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    pub programme_id: Option<i64>,
    /// Reports this researcher wrote or follows (as a duplicate's reporter).
    pub visible_to_researcher: Option<i64>,
    pub assignee_id: Option<i64>,
    pub state: Option<ReportState>,
    /// Only open reports.
    pub open_only: bool,
}

/// A refused state change.
#[derive(Debug, thiserror::Error)]
pub enum StateChangeError {
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The change needs something the request did not give, or names
    /// something that does not fit (a duplicate's original elsewhere).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for StateChangeError {
    fn from(e: sqlx::Error) -> Self {
        StateChangeError::Store(e.into())
    }
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    id: i64,
    programme_id: i64,
    researcher_id: i64,
    title: String,
    description: String,
    steps: String,
    impact: String,
    asset: Option<String>,
    out_of_scope: i64,
    cwe: Option<i64>,
    cvss_vector: Option<String>,
    researcher_severity: Option<String>,
    final_severity: Option<String>,
    final_cvss_vector: Option<String>,
    state: String,
    duplicate_of: Option<i64>,
    assignee_id: Option<i64>,
    tracker_url: Option<String>,
    received_via: String,
    known_issue: i64,
    finding_id: Option<i64>,
    created_at: i64,
    updated_at: i64,
    state_since: i64,
    paused_ms: i64,
    first_response_at: Option<i64>,
    triaged_at: Option<i64>,
    bounty_at: Option<i64>,
    resolved_at: Option<i64>,
    disclosure: String,
    disclosed_at: Option<i64>,
}

const REPORT_COLUMNS: &str = "r.id, r.programme_id, r.researcher_id, r.title, r.description, r.steps, \
     r.impact, r.asset, r.out_of_scope, r.cwe, r.cvss_vector, r.researcher_severity, r.final_severity, \
     r.final_cvss_vector, r.state, r.duplicate_of, r.assignee_id, r.tracker_url, r.received_via, \
     r.known_issue, r.finding_id, r.created_at, r.updated_at, r.state_since, r.paused_ms, \
     r.first_response_at, r.triaged_at, r.bounty_at, r.resolved_at, r.disclosure, r.disclosed_at";

fn corrupt<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn severity(v: Option<String>) -> Result<Option<Severity>> {
    v.map(|s| s.parse::<Severity>())
        .transpose()
        .map_err(corrupt)
}

impl TryFrom<ReportRow> for Report {
    type Error = StoreError;
    fn try_from(r: ReportRow) -> Result<Report> {
        Ok(Report {
            id: r.id,
            programme_id: r.programme_id,
            researcher_id: r.researcher_id,
            title: r.title,
            description: r.description,
            steps: r.steps,
            impact: r.impact,
            asset: r.asset,
            out_of_scope: r.out_of_scope != 0,
            cwe: r.cwe,
            cvss_vector: r.cvss_vector,
            researcher_severity: severity(r.researcher_severity)?,
            final_severity: severity(r.final_severity)?,
            final_cvss_vector: r.final_cvss_vector,
            state: r.state.parse().map_err(corrupt)?,
            duplicate_of: r.duplicate_of,
            assignee_id: r.assignee_id,
            tracker_url: r.tracker_url,
            received_via: r.received_via,
            known_issue: r.known_issue != 0,
            finding_id: r.finding_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
            state_since: r.state_since,
            paused_ms: r.paused_ms,
            first_response_at: r.first_response_at,
            triaged_at: r.triaged_at,
            bounty_at: r.bounty_at,
            resolved_at: r.resolved_at,
            disclosure: r.disclosure,
            disclosed_at: r.disclosed_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    report_id: i64,
    author_id: Option<i64>,
    handle: Option<String>,
    email: Option<String>,
    role: Option<String>,
    kind: String,
    body: String,
    internal: i64,
    from_state: Option<String>,
    to_state: Option<String>,
    detail: String,
    created_at: i64,
}

impl TryFrom<EventRow> for ReportEvent {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<ReportEvent> {
        let role: Option<Role> = r.role.map(|s| s.parse()).transpose().map_err(corrupt)?;
        // Researchers appear by their public handle; staff by address.
        let author_name = match role {
            Some(Role::Researcher) => r.handle.or(Some("researcher".into())),
            Some(_) => r.email,
            None => None,
        };
        Ok(ReportEvent {
            id: r.id,
            report_id: r.report_id,
            author_id: r.author_id,
            author_name,
            author_role: role,
            kind: r.kind,
            body: r.body,
            internal: r.internal != 0,
            from_state: r
                .from_state
                .map(|s| s.parse())
                .transpose()
                .map_err(corrupt)?,
            to_state: r.to_state.map(|s| s.parse()).transpose().map_err(corrupt)?,
            detail: r.detail,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct BountyRow {
    id: i64,
    report_id: i64,
    kind: String,
    amount: i64,
    bonus: i64,
    status: String,
    awarded_by: Option<i64>,
    created_at: i64,
    paid_at: Option<i64>,
    reference: String,
}

impl From<BountyRow> for Bounty {
    fn from(r: BountyRow) -> Self {
        Bounty {
            id: r.id,
            report_id: r.report_id,
            kind: r.kind,
            amount: r.amount,
            bonus: r.bonus,
            status: r.status,
            awarded_by: r.awarded_by,
            created_at: r.created_at,
            paid_at: r.paid_at,
            reference: r.reference,
        }
    }
}

/// An entry to add to a thread.
#[derive(Debug, Clone, Default)]
pub struct NewEvent<'a> {
    pub author_id: Option<i64>,
    pub kind: &'a str,
    pub body: &'a str,
    pub internal: bool,
    pub from_state: Option<ReportState>,
    pub to_state: Option<ReportState>,
    pub detail: &'a str,
}

async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    report_id: i64,
    e: &NewEvent<'_>,
    now: UnixMillis,
) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO report_events (report_id, author_id, kind, body, internal, from_state, \
         to_state, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(report_id)
    .bind(e.author_id)
    .bind(e.kind.to_owned())
    .bind(e.body.to_owned())
    .bind(i64::from(e.internal))
    .bind(e.from_state.map(|s| s.as_str().to_owned()))
    .bind(e.to_state.map(|s| s.as_str().to_owned()))
    .bind(e.detail.to_owned())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("UPDATE reports SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(report_id)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

async fn report_in(tx: &mut sqlx::Transaction<'_, sqlx::Any>, id: i64) -> Result<Report> {
    let row: Option<ReportRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REPORT_COLUMNS} FROM reports r WHERE r.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// A state change asked of the store.
#[derive(Debug, Clone)]
pub struct StateChange<'a> {
    pub to: ReportState,
    pub mover: Mover,
    pub author_id: Option<i64>,
    /// Shown to the researcher with the change (the public part of why).
    pub reason: &'a str,
    /// For `duplicate`: the original report, in the same programme.
    pub duplicate_of: Option<i64>,
}

impl Store {
    /// Stores a new report with its acknowledgement as the first thread
    /// entry; `ack_text` writes it from the report's new id.
    pub async fn create_report(
        &self,
        r: &NewReport,
        ack_text: impl FnOnce(i64) -> String + Send,
        now: UnixMillis,
    ) -> Result<Report> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO reports (programme_id, researcher_id, title, description, steps, impact, \
             asset, out_of_scope, cwe, cvss_vector, researcher_severity, state, received_via, \
             created_at, updated_at, state_since) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'new', $12, $13, $13, $13) \
             RETURNING id",
        )
        .bind(r.programme_id)
        .bind(r.researcher_id)
        .bind(r.title.clone())
        .bind(r.description.clone())
        .bind(r.steps.clone())
        .bind(r.impact.clone())
        .bind(r.asset.clone())
        .bind(i64::from(r.out_of_scope))
        .bind(r.cwe)
        .bind(r.cvss_vector.clone())
        .bind(r.researcher_severity.map(|s| s.as_str().to_owned()))
        .bind(r.received_via.clone())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        insert_event(
            &mut tx,
            id,
            &NewEvent {
                kind: "ack",
                body: &ack_text(id),
                to_state: Some(ReportState::New),
                ..Default::default()
            },
            now,
        )
        .await?;
        let report = report_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(report)
    }

    pub async fn report(&self, id: i64) -> Result<Report> {
        let row: Option<ReportRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {REPORT_COLUMNS} FROM reports r WHERE r.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Reports matching `f`, newest first.
    pub async fn list_reports(&self, f: &ReportFilter) -> Result<Vec<Report>> {
        let mut sql = format!("SELECT {REPORT_COLUMNS} FROM reports r WHERE 1 = 1");
        let mut binds: Vec<i64> = Vec::new();
        let mut text_bind: Option<String> = None;
        if let Some(p) = f.programme_id {
            binds.push(p);
            sql.push_str(&format!(" AND r.programme_id = ${}", binds.len()));
        }
        if let Some(u) = f.visible_to_researcher {
            binds.push(u);
            let n = binds.len();
            sql.push_str(&format!(
                " AND (r.researcher_id = ${n} OR r.id IN \
                 (SELECT report_id FROM report_participants WHERE user_id = ${n}))"
            ));
        }
        if let Some(a) = f.assignee_id {
            binds.push(a);
            sql.push_str(&format!(" AND r.assignee_id = ${}", binds.len()));
        }
        if f.open_only {
            sql.push_str(" AND r.state IN ('new', 'needs_more_info', 'triaged', 'retesting')");
        }
        if let Some(s) = f.state {
            text_bind = Some(s.as_str().to_owned());
            sql.push_str(&format!(" AND r.state = ${}", binds.len() + 1));
        }
        sql.push_str(" ORDER BY r.created_at DESC, r.id DESC LIMIT 1000");
        let mut q = sqlx::query_as::<_, ReportRow>(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        if let Some(t) = text_bind {
            q = q.bind(t);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.into_iter().map(Report::try_from).collect()
    }

    /// Whether `user` may see report `r`: staff see every report (engineers
    /// only those assigned to them); researchers only their own and those
    /// they follow. Everyone else gets a 404 from the caller.
    pub async fn can_see_report(&self, r: &Report, user_id: i64, role: Role) -> Result<bool> {
        Ok(match role {
            Role::Admin | Role::Triager => true,
            Role::Engineer => r.assignee_id == Some(user_id),
            Role::Researcher => {
                r.researcher_id == user_id || self.is_participant(r.id, user_id).await?
            }
        })
    }

    pub async fn is_participant(&self, report_id: i64, user_id: i64) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM report_participants WHERE report_id = $1 AND user_id = $2",
        )
        .bind(report_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// The thread, oldest first; internal notes only when asked for.
    pub async fn report_events(
        &self,
        report_id: i64,
        include_internal: bool,
    ) -> Result<Vec<ReportEvent>> {
        let filter = if include_internal {
            ""
        } else {
            " AND e.internal = 0"
        };
        let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT e.id, e.report_id, e.author_id, u.handle, u.email, u.role, e.kind, e.body, \
             e.internal, e.from_state, e.to_state, e.detail, e.created_at \
             FROM report_events e LEFT JOIN users u ON u.id = e.author_id \
             WHERE e.report_id = $1{filter} ORDER BY e.id"
        )))
        .bind(report_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ReportEvent::try_from).collect()
    }

    /// Adds a comment (or, with `internal`, a team note). A researcher's
    /// answer to a request for information hands the report back to the
    /// team; the team's first public word stops the first-response clock.
    pub async fn add_report_comment(
        &self,
        report_id: i64,
        author_id: i64,
        author_role: Role,
        body: &str,
        internal: bool,
        now: UnixMillis,
    ) -> Result<ReportEvent> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let report = report_in(&mut tx, report_id).await?;
        let internal = internal && author_role.is_staff();
        let event_id = insert_event(
            &mut tx,
            report_id,
            &NewEvent {
                author_id: Some(author_id),
                kind: if internal { "note" } else { "comment" },
                body,
                internal,
                ..Default::default()
            },
            now,
        )
        .await?;
        if author_role.is_staff() && !internal && report.first_response_at.is_none() {
            sqlx::query("UPDATE reports SET first_response_at = $1 WHERE id = $2")
                .bind(now)
                .bind(report_id)
                .execute(&mut *tx)
                .await?;
        }
        if author_role == Role::Researcher
            && author_id == report.researcher_id
            && report.state == ReportState::NeedsMoreInfo
        {
            let back = report_state_before_info(&mut tx, report_id).await?;
            apply_state(
                &mut tx,
                &report,
                back,
                Some(author_id),
                "",
                None,
                now,
                Mover::System,
            )
            .await?;
        }
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT e.id, e.report_id, e.author_id, u.handle, u.email, u.role, e.kind, e.body, \
             e.internal, e.from_state, e.to_state, e.detail, e.created_at \
             FROM report_events e LEFT JOIN users u ON u.id = e.author_id WHERE e.id = $1",
        )
        .bind(event_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.into_iter()
            .next()
            .ok_or(StoreError::NotFound)?
            .try_into()
    }

    /// Moves a report along the workflow, recording who, when and why.
    pub async fn change_report_state(
        &self,
        report_id: i64,
        change: &StateChange<'_>,
        now: UnixMillis,
    ) -> std::result::Result<Report, StateChangeError> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let report = report_in(&mut tx, report_id).await?;
        report.state.check_transition(change.to, change.mover)?;
        if change.to == ReportState::Duplicate {
            let Some(original) = change.duplicate_of else {
                return Err(StateChangeError::Refused(
                    "a duplicate needs its original: give duplicate_of".into(),
                ));
            };
            let orig = match report_in(&mut tx, original).await {
                Ok(o) => o,
                Err(StoreError::NotFound) => {
                    return Err(StateChangeError::Refused(
                        "duplicate_of: no such report in this programme".into(),
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            if orig.programme_id != report.programme_id || orig.id == report.id {
                return Err(StateChangeError::Refused(
                    "duplicate_of: no such report in this programme".into(),
                ));
            }
            // Duplicates point at an original, never at another duplicate:
            // chains (and A↔B loops) would let followers read each other.
            if let Some(root) = orig
                .duplicate_of
                .filter(|_| orig.state == ReportState::Duplicate)
            {
                return Err(StateChangeError::Refused(format!(
                    "#{} is itself a duplicate of #{root}: mark this one a duplicate of #{root}",
                    orig.id
                )));
            }
            // The duplicate's reporter follows the original, read-only.
            sqlx::query(
                "INSERT INTO report_participants (report_id, user_id, added_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (report_id, user_id) DO NOTHING",
            )
            .bind(orig.id)
            .bind(report.researcher_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            insert_event(
                &mut tx,
                orig.id,
                &NewEvent {
                    author_id: change.author_id,
                    kind: "duplicate",
                    body: "",
                    internal: true,
                    detail: &format!("#{} was marked a duplicate of this report", report.id),
                    ..Default::default()
                },
                now,
            )
            .await?;
        }
        if change.to == ReportState::NeedsMoreInfo {
            sqlx::query("UPDATE reports SET state_before_info = $1 WHERE id = $2")
                .bind(report.state.as_str())
                .bind(report_id)
                .execute(&mut *tx)
                .await?;
        }
        apply_state(
            &mut tx,
            &report,
            change.to,
            change.author_id,
            change.reason,
            change.duplicate_of,
            now,
            change.mover,
        )
        .await?;
        let updated = report_in(&mut tx, report_id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Sets the team's final severity and vector (the researcher's own
    /// estimate is kept beside them).
    pub async fn set_report_severity(
        &self,
        report_id: i64,
        severity: Option<Severity>,
        vector: Option<&str>,
        author_id: i64,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let r = sqlx::query(
            "UPDATE reports SET final_severity = $1, final_cvss_vector = $2 WHERE id = $3",
        )
        .bind(severity.map(|s| s.as_str().to_owned()))
        .bind(vector.map(str::to_owned))
        .bind(report_id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let detail = format!(
            "severity set to {}{}",
            severity.map_or("none", |s| s.label()),
            vector.map(|v| format!(" ({v})")).unwrap_or_default()
        );
        insert_event(
            &mut tx,
            report_id,
            &NewEvent {
                author_id: Some(author_id),
                kind: "severity",
                detail: &detail,
                ..Default::default()
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Assigns a report to an engineer or triager (`None` unassigns).
    pub async fn assign_report(
        &self,
        report_id: i64,
        assignee: Option<i64>,
        author_id: i64,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let r = sqlx::query("UPDATE reports SET assignee_id = $1 WHERE id = $2")
            .bind(assignee)
            .bind(report_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                    StoreError::Conflict("no such user".into())
                }
                _ => StoreError::from(e),
            })?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let detail = assignee.map_or("unassigned".to_owned(), |a| format!("assigned to user {a}"));
        insert_event(
            &mut tx,
            report_id,
            &NewEvent {
                author_id: Some(author_id),
                kind: "assign",
                internal: true,
                detail: &detail,
                ..Default::default()
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Links an external tracker (Jira, GitHub…) issue.
    pub async fn set_report_tracker(
        &self,
        report_id: i64,
        url: Option<&str>,
        author_id: i64,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let r = sqlx::query("UPDATE reports SET tracker_url = $1 WHERE id = $2")
            .bind(url.map(str::to_owned))
            .bind(report_id)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        insert_event(
            &mut tx,
            report_id,
            &NewEvent {
                author_id: Some(author_id),
                kind: "tracker",
                internal: true,
                detail: url.unwrap_or("tracker link removed"),
                ..Default::default()
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Links the report to its finding in the platform's list.
    pub async fn link_report_finding(&self, report_id: i64, finding_id: i64) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query("UPDATE reports SET finding_id = $1 WHERE id = $2")
            .bind(finding_id)
            .bind(report_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Awards a bounty (or a retest fee) and records it in the thread.
    /// With `budget` given, the award is refused (nothing stored) when it
    /// would take the programme's spending past it; the check and the
    /// insert are one transaction, with the programme row locked on
    /// PostgreSQL, so two awards at once cannot both slip under the budget.
    #[allow(clippy::too_many_arguments)]
    pub async fn award_bounty_within(
        &self,
        report_id: i64,
        kind: &str,
        amount: i64,
        bonus: i64,
        awarded_by: i64,
        budget: Option<i64>,
        now: UnixMillis,
    ) -> Result<std::result::Result<Bounty, BudgetExceeded>> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let report = report_in(&mut tx, report_id).await?;
        if let Some(budget) = budget {
            if self.backend() == crate::Backend::Postgres {
                sqlx::query("SELECT id FROM programmes WHERE id = $1 FOR UPDATE")
                    .bind(report.programme_id)
                    .execute(&mut *tx)
                    .await?;
            }
            let (spent,): (Option<i64>,) = sqlx::query_as(
                "SELECT CAST(SUM(b.amount + b.bonus) AS BIGINT) FROM bounties b \
                 JOIN reports r ON r.id = b.report_id WHERE r.programme_id = $1",
            )
            .bind(report.programme_id)
            .fetch_one(&mut *tx)
            .await?;
            let would_be = spent.unwrap_or(0) + amount + bonus;
            if would_be > budget {
                return Ok(Err(BudgetExceeded { would_be, budget }));
            }
        }
        let bounty = self
            .insert_bounty(&mut tx, report_id, kind, amount, bonus, awarded_by, now)
            .await?;
        tx.commit().await?;
        Ok(Ok(bounty))
    }

    /// Awards a bounty (or a retest fee) and records it in the thread.
    pub async fn award_bounty(
        &self,
        report_id: i64,
        kind: &str,
        amount: i64,
        bonus: i64,
        awarded_by: i64,
        now: UnixMillis,
    ) -> Result<Bounty> {
        match self
            .award_bounty_within(report_id, kind, amount, bonus, awarded_by, None, now)
            .await?
        {
            Ok(b) => Ok(b),
            Err(_) => Err(StoreError::Conflict("over budget".into())),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_bounty(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        report_id: i64,
        kind: &str,
        amount: i64,
        bonus: i64,
        awarded_by: i64,
        now: UnixMillis,
    ) -> Result<Bounty> {
        let row: BountyRow = sqlx::query_as(
            "INSERT INTO bounties (report_id, kind, amount, bonus, status, awarded_by, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6) RETURNING id, report_id, kind, amount, \
             bonus, status, awarded_by, created_at, paid_at, reference",
        )
        .bind(report_id)
        .bind(kind.to_owned())
        .bind(amount)
        .bind(bonus)
        .bind(awarded_by)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        sqlx::query("UPDATE reports SET bounty_at = COALESCE(bounty_at, $1) WHERE id = $2")
            .bind(now)
            .bind(report_id)
            .execute(&mut **tx)
            .await?;
        let what = if kind == "retest" {
            "retest bounty"
        } else {
            "bounty"
        };
        let detail = if bonus > 0 {
            format!("{what} of {amount} plus a bonus of {bonus} awarded")
        } else {
            format!("{what} of {amount} awarded")
        };
        insert_event(
            tx,
            report_id,
            &NewEvent {
                author_id: Some(awarded_by),
                kind: "bounty",
                detail: &detail,
                ..Default::default()
            },
            now,
        )
        .await?;
        Ok(row.into())
    }

    pub async fn report_bounties(&self, report_id: i64) -> Result<Vec<Bounty>> {
        let rows: Vec<BountyRow> = sqlx::query_as(
            "SELECT id, report_id, kind, amount, bonus, status, awarded_by, created_at, paid_at, \
             reference FROM bounties WHERE report_id = $1 ORDER BY id",
        )
        .bind(report_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Bounty::from).collect())
    }

    /// Everything awarded in a programme (amount plus bonus), paid or not.
    pub async fn programme_bounty_total(&self, programme_id: i64) -> Result<i64> {
        let (n,): (Option<i64>,) = sqlx::query_as(
            "SELECT CAST(SUM(b.amount + b.bonus) AS BIGINT) FROM bounties b \
             JOIN reports r ON r.id = b.report_id WHERE r.programme_id = $1",
        )
        .bind(programme_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n.unwrap_or(0))
    }

    /// Every award in a programme with its report, for the finance export.
    pub async fn programme_bounties(&self, programme_id: i64) -> Result<Vec<Bounty>> {
        let rows: Vec<BountyRow> = sqlx::query_as(
            "SELECT b.id, b.report_id, b.kind, b.amount, b.bonus, b.status, b.awarded_by, \
             b.created_at, b.paid_at, b.reference FROM bounties b JOIN reports r ON r.id = b.report_id \
             WHERE r.programme_id = $1 ORDER BY b.id",
        )
        .bind(programme_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Bounty::from).collect())
    }

    /// Marks an award paid (the payment itself happens outside Rampart).
    pub async fn mark_bounty_paid(
        &self,
        bounty_id: i64,
        reference: &str,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let r = sqlx::query(
            "UPDATE bounties SET status = 'paid', paid_at = $1, reference = $2 \
             WHERE id = $3 AND status = 'pending'",
        )
        .bind(now)
        .bind(reference.to_owned())
        .bind(bounty_id)
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Researchers following a report (reporters of its duplicates).
    pub async fn report_participants(&self, report_id: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT user_id FROM report_participants WHERE report_id = $1 ORDER BY added_at",
        )
        .bind(report_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Reports marked duplicates of `report_id`.
    pub async fn duplicates_of(&self, report_id: i64) -> Result<Vec<Report>> {
        let rows: Vec<ReportRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {REPORT_COLUMNS} FROM reports r WHERE r.duplicate_of = $1 ORDER BY r.id"
        )))
        .bind(report_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Report::try_from).collect()
    }

    /// Needs-more-info reports silent for longer than their programme
    /// allows, for the automatic close.
    pub async fn stale_needs_info_reports(&self, now: UnixMillis) -> Result<Vec<Report>> {
        let rows: Vec<ReportRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {REPORT_COLUMNS} FROM reports r JOIN programmes p ON p.id = r.programme_id \
             WHERE r.state = 'needs_more_info' AND r.updated_at + p.needs_info_close_days * 86400000 < $1 \
             ORDER BY r.id"
        )))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Report::try_from).collect()
    }

    /// Adds an in-app notification.
    pub async fn notify(
        &self,
        user_id: i64,
        report_id: Option<i64>,
        kind: &str,
        message: &str,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query(
            "INSERT INTO notifications (user_id, report_id, kind, message, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user_id)
        .bind(report_id)
        .bind(kind.to_owned())
        .bind(message.to_owned())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A person's notifications, newest first.
    pub async fn notifications(&self, user_id: i64, limit: i64) -> Result<Vec<Notification>> {
        let rows: Vec<Notification> = sqlx::query_as(
            "SELECT id, report_id, kind, message, created_at, read_at FROM notifications \
             WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Marks all of a person's notifications read.
    pub async fn mark_notifications_read(&self, user_id: i64, now: UnixMillis) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(now)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// An in-app notification.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub report_id: Option<i64>,
    pub kind: String,
    pub message: String,
    pub created_at: UnixMillis,
    pub read_at: Option<UnixMillis>,
}

async fn report_state_before_info(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    report_id: i64,
) -> Result<ReportState> {
    let (prev,): (Option<String>,) =
        sqlx::query_as("SELECT state_before_info FROM reports WHERE id = $1")
            .bind(report_id)
            .fetch_one(&mut **tx)
            .await?;
    Ok(match prev.as_deref() {
        Some("triaged") => ReportState::Triaged,
        _ => ReportState::New,
    })
}

#[allow(clippy::too_many_arguments)]
async fn apply_state(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    report: &Report,
    to: ReportState,
    author_id: Option<i64>,
    reason: &str,
    duplicate_of: Option<i64>,
    now: UnixMillis,
    mover: Mover,
) -> Result<()> {
    // Time spent waiting on the researcher does not count against the team.
    let paused_add = if report.state.clock_runs() {
        0
    } else if report.state.is_open() {
        now - report.state_since
    } else {
        0
    };
    let staff_move = mover == Mover::Team;
    // A report that stops being a duplicate stops its reporter following
    // the original: following was only ever granted by the duplicate mark.
    if report.state == ReportState::Duplicate
        && to != ReportState::Duplicate
        && let Some(original) = report.duplicate_of
    {
        let still_other: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM reports WHERE duplicate_of = $1 AND researcher_id = $2 \
             AND state = 'duplicate' AND id <> $3 LIMIT 1",
        )
        .bind(original)
        .bind(report.researcher_id)
        .bind(report.id)
        .fetch_optional(&mut **tx)
        .await?;
        if still_other.is_none() {
            sqlx::query("DELETE FROM report_participants WHERE report_id = $1 AND user_id = $2")
                .bind(original)
                .bind(report.researcher_id)
                .execute(&mut **tx)
                .await?;
        }
    }
    let changed = sqlx::query(
        "UPDATE reports SET state = $1, state_since = $2, paused_ms = paused_ms + $3, \
         duplicate_of = $4, \
         triaged_at = CASE WHEN $1 = 'triaged' AND triaged_at IS NULL THEN $2 ELSE triaged_at END, \
         resolved_at = CASE WHEN $1 = 'resolved' THEN $2 WHEN $1 IN ('new', 'triaged') THEN NULL ELSE resolved_at END, \
         first_response_at = CASE WHEN $5 = 1 AND first_response_at IS NULL THEN $2 ELSE first_response_at END, \
         updated_at = $2 WHERE id = $6 AND state = $7",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(paused_add)
    .bind(if to == ReportState::Duplicate {
        duplicate_of
    } else {
        None
    })
    .bind(i64::from(staff_move))
    .bind(report.id)
    .bind(report.state.as_str())
    .execute(&mut **tx)
    .await?;
    if changed.rows_affected() == 0 {
        // Someone else moved the report since it was read (PostgreSQL runs
        // writers concurrently): refuse rather than act on a stale state.
        return Err(StoreError::Conflict(
            "the report changed meanwhile; reload it and try again".into(),
        ));
    }
    let detail = match (to, duplicate_of) {
        (ReportState::Duplicate, Some(o)) => format!("duplicate of #{o}"),
        _ => String::new(),
    };
    insert_event(
        tx,
        report.id,
        &NewEvent {
            author_id,
            kind: "state",
            body: reason,
            internal: false,
            from_state: Some(report.state),
            to_state: Some(to),
            detail: &detail,
        },
        now,
    )
    .await?;
    Ok(())
}

/// A stored file's record (the bytes live in the data directory, named by
/// their SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Attachment {
    pub id: i64,
    /// `None` while staged (not yet part of a report).
    pub report_id: Option<i64>,
    pub event_id: Option<i64>,
    pub uploader_id: Option<i64>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// Attached to an internal note: the team only.
    pub internal: i64,
    pub created_at: i64,
}

const SELECT_ATTACHMENT: &str = "SELECT id, report_id, event_id, uploader_id, filename, content_type, \
     size, sha256, internal, created_at FROM attachments";

impl Store {
    /// Records an uploaded file that is not part of a report yet.
    pub async fn stage_attachment(
        &self,
        uploader_id: i64,
        filename: &str,
        content_type: &str,
        size: i64,
        sha256: &str,
        now: UnixMillis,
    ) -> Result<Attachment> {
        let _g = self.write_guard().await;
        let row: Attachment = sqlx::query_as(
            "INSERT INTO attachments (uploader_id, filename, content_type, size, sha256, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, report_id, event_id, uploader_id, \
             filename, content_type, size, sha256, internal, created_at",
        )
        .bind(uploader_id)
        .bind(filename.to_owned())
        .bind(content_type.to_owned())
        .bind(size)
        .bind(sha256.to_owned())
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(row)
    }

    /// Staged files of `uploader_id` among `ids` (others' ids are ignored:
    /// nobody can claim someone else's upload by guessing its number).
    pub async fn staged_attachments(
        &self,
        uploader_id: i64,
        ids: &[i64],
    ) -> Result<Vec<Attachment>> {
        let mut out = Vec::new();
        for id in ids {
            let row: Option<Attachment> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SELECT_ATTACHMENT} WHERE id = $1 AND uploader_id = $2 AND report_id IS NULL"
            )))
            .bind(*id)
            .bind(uploader_id)
            .fetch_optional(&self.pool)
            .await?;
            out.extend(row);
        }
        Ok(out)
    }

    /// Forgets staged files older than `before` (forms abandoned after a
    /// failed submission) and returns the digests no longer used by any
    /// file, whose bytes can be deleted.
    pub async fn purge_staged_attachments(&self, before: UnixMillis) -> Result<Vec<String>> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let old: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT sha256 FROM attachments WHERE report_id IS NULL AND created_at < $1",
        )
        .bind(before)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM attachments WHERE report_id IS NULL AND created_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        let mut unused = Vec::new();
        for (sha,) in old {
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM attachments WHERE sha256 = $1")
                .bind(sha.clone())
                .fetch_one(&mut *tx)
                .await?;
            if n == 0 {
                unused.push(sha);
            }
        }
        tx.commit().await?;
        Ok(unused)
    }

    /// Staged files of one uploader, for the per-person quota.
    pub async fn count_staged_attachments(&self, uploader_id: i64) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM attachments WHERE uploader_id = $1 AND report_id IS NULL",
        )
        .bind(uploader_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    /// Moves staged files of `uploader_id` into a report (and thread entry).
    pub async fn attach_staged(
        &self,
        uploader_id: i64,
        ids: &[i64],
        report_id: i64,
        event_id: Option<i64>,
        internal: bool,
    ) -> Result<u64> {
        let _g = self.write_guard().await;
        let mut n = 0;
        for id in ids {
            let r = sqlx::query(
                "UPDATE attachments SET report_id = $1, event_id = $2, internal = $3 \
                 WHERE id = $4 AND uploader_id = $5 AND report_id IS NULL",
            )
            .bind(report_id)
            .bind(event_id)
            .bind(i64::from(internal))
            .bind(*id)
            .bind(uploader_id)
            .execute(&self.pool)
            .await?;
            n += r.rows_affected();
        }
        Ok(n)
    }

    /// A report's files, oldest first; internal ones only when asked for.
    pub async fn report_attachments(
        &self,
        report_id: i64,
        include_internal: bool,
    ) -> Result<Vec<Attachment>> {
        let filter = if include_internal {
            ""
        } else {
            " AND internal = 0"
        };
        let rows: Vec<Attachment> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_ATTACHMENT} WHERE report_id = $1{filter} ORDER BY id"
        )))
        .bind(report_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    pub async fn attachment(&self, id: i64) -> Result<Attachment> {
        let row: Option<Attachment> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_ATTACHMENT} WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)
    }

    /// The id of the newest thread entry by `author_id` on a report, to tie
    /// files posted with a comment to it.
    pub async fn last_event_by(&self, report_id: i64, author_id: i64) -> Result<Option<i64>> {
        let (id,): (Option<i64>,) = sqlx::query_as(
            "SELECT MAX(id) FROM report_events WHERE report_id = $1 AND author_id = $2",
        )
        .bind(report_id)
        .bind(author_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }
}

/// A report as published on its programme's disclosed-reports page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosed {
    pub report_id: i64,
    pub title: String,
    /// The write-up the team chose to publish (redacted as they saw fit).
    pub summary: String,
    pub severity: Option<String>,
    pub cvss_vector: Option<String>,
    pub cwe: Option<i64>,
    pub asset: Option<String>,
    /// The researcher's handle, when they opted in to credit.
    pub credit: Option<String>,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
    pub disclosed_at: i64,
}

impl Store {
    /// Records a request to disclose (by the team, with the write-up it
    /// proposes, or by the researcher) in the report and its thread.
    pub async fn request_disclosure(
        &self,
        report_id: i64,
        author_id: i64,
        by_team: bool,
        summary: Option<&str>,
        title: Option<&str>,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let state = if by_team {
            "requested_by_team"
        } else {
            "requested_by_researcher"
        };
        let r = sqlx::query(
            "UPDATE reports SET disclosure = $1, disclosed_summary = COALESCE($2, disclosed_summary), \
             disclosed_title = COALESCE($4, disclosed_title) \
             WHERE id = $3 AND disclosure <> 'disclosed'",
        )
        .bind(state)
        .bind(summary.map(str::to_owned))
        .bind(report_id)
        .bind(title.map(str::to_owned))
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let who = if by_team {
            "the team"
        } else {
            "the researcher"
        };
        insert_event(
            &mut tx,
            report_id,
            &NewEvent {
                author_id: Some(author_id),
                kind: "disclosure",
                detail: &format!("disclosure requested by {who}"),
                ..Default::default()
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Publishes the report's write-up on its programme's disclosed page.
    pub async fn disclose_report(
        &self,
        report_id: i64,
        author_id: i64,
        summary: Option<&str>,
        title: Option<&str>,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let r = sqlx::query(
            "UPDATE reports SET disclosure = 'disclosed', disclosed_at = $1, \
             disclosed_summary = COALESCE($2, disclosed_summary), \
             disclosed_title = COALESCE($4, disclosed_title) WHERE id = $3",
        )
        .bind(now)
        .bind(summary.map(str::to_owned))
        .bind(report_id)
        .bind(title.map(str::to_owned))
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        insert_event(
            &mut tx,
            report_id,
            &NewEvent {
                author_id: Some(author_id),
                kind: "disclosure",
                detail: "the report was disclosed",
                ..Default::default()
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The write-up proposed or published for a report.
    pub async fn disclosure_summary(&self, report_id: i64) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT disclosed_summary FROM reports WHERE id = $1")
                .bind(report_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.ok_or(StoreError::NotFound)?.0)
    }

    /// A programme's disclosed reports, newest first.
    pub async fn disclosed_reports(&self, programme_id: i64) -> Result<Vec<Disclosed>> {
        type Row = (
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<String>,
            i64,
            i64,
            Option<i64>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT r.id, COALESCE(r.disclosed_title, r.title), r.disclosed_summary, COALESCE(r.final_severity, r.researcher_severity), \
             COALESCE(r.final_cvss_vector, r.cvss_vector), r.asset, r.cwe, u.handle, \
             CASE WHEN u.show_in_thanks = 1 THEN 'yes' ELSE NULL END, r.created_at, \
             r.disclosed_at, r.resolved_at \
             FROM reports r JOIN users u ON u.id = r.researcher_id \
             WHERE r.programme_id = $1 AND r.disclosure = 'disclosed' \
             AND r.state NOT IN ('new', 'needs_more_info', 'triaged', 'retesting') \
             ORDER BY r.disclosed_at DESC",
        )
        .bind(programme_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    title,
                    summary,
                    severity,
                    cvss,
                    asset,
                    cwe,
                    handle,
                    credited,
                    created,
                    disclosed,
                    resolved,
                )| Disclosed {
                    report_id: id,
                    title,
                    summary: summary.unwrap_or_default(),
                    severity,
                    cvss_vector: cvss,
                    cwe,
                    asset,
                    credit: credited.and(handle),
                    created_at: created,
                    resolved_at: resolved,
                    disclosed_at: disclosed,
                },
            )
            .collect())
    }
}

/// A reply template the team starts messages from.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReplyTemplate {
    pub id: i64,
    pub name: String,
    pub body: String,
    pub updated_at: i64,
}

impl Store {
    /// The team's reply templates, by name.
    pub async fn reply_templates(&self) -> Result<Vec<ReplyTemplate>> {
        Ok(
            sqlx::query_as("SELECT id, name, body, updated_at FROM reply_templates ORDER BY name")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Creates or replaces the template called `name`.
    pub async fn save_reply_template(&self, name: &str, body: &str, now: UnixMillis) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query(
            "INSERT INTO reply_templates (name, body, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(name.trim().to_owned())
        .bind(body.to_owned())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn delete_reply_template(&self, id: i64) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query("DELETE FROM reply_templates WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
