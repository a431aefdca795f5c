use crate::{Result, Store, StoreError};
use rampart_core::{FindingStatus, NewFinding, Severity, UnixMillis};
use sqlx::AssertSqlSafe;

/// A stored finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub id: i64,
    pub source: String,
    pub title: String,
    pub severity: Severity,
    pub cvss_vector: Option<String>,
    pub cwe: Option<i64>,
    pub asset: Option<String>,
    pub location: Option<String>,
    pub rule_id: Option<String>,
    pub description: Option<String>,
    pub fingerprint: String,
    pub status: FindingStatus,
    pub assignee_id: Option<i64>,
    pub assignee_email: Option<String>,
    pub first_seen: UnixMillis,
    pub last_seen: UnixMillis,
    pub occurrences: i64,
    pub updated_at: UnixMillis,
}

#[derive(sqlx::FromRow)]
struct FindingRow {
    id: i64,
    source: String,
    title: String,
    severity: String,
    cvss_vector: Option<String>,
    cwe: Option<i64>,
    asset: Option<String>,
    location: Option<String>,
    rule_id: Option<String>,
    description: Option<String>,
    fingerprint: String,
    status: String,
    assignee_id: Option<i64>,
    assignee_email: Option<String>,
    first_seen: i64,
    last_seen: i64,
    occurrences: i64,
    updated_at: i64,
}

impl TryFrom<FindingRow> for Finding {
    type Error = StoreError;
    fn try_from(r: FindingRow) -> Result<Finding> {
        Ok(Finding {
            id: r.id,
            source: r.source,
            title: r.title,
            severity: r
                .severity
                .parse()
                .map_err(|e: rampart_core::UnknownSeverity| StoreError::Corrupt(e.to_string()))?,
            cvss_vector: r.cvss_vector,
            cwe: r.cwe,
            asset: r.asset,
            location: r.location,
            rule_id: r.rule_id,
            description: r.description,
            fingerprint: r.fingerprint,
            status: r
                .status
                .parse()
                .map_err(|e: rampart_core::UnknownStatus| StoreError::Corrupt(e.to_string()))?,
            assignee_id: r.assignee_id,
            assignee_email: r.assignee_email,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            occurrences: r.occurrences,
            updated_at: r.updated_at,
        })
    }
}

const SELECT_FINDING: &str = "SELECT f.id, f.source, f.title, f.severity, f.cvss_vector, f.cwe, f.asset, \
     f.location, f.rule_id, f.description, f.fingerprint, f.status, f.assignee_id, \
     u.email AS assignee_email, f.first_seen, f.last_seen, f.occurrences, f.updated_at \
     FROM findings f LEFT JOIN users u ON u.id = f.assignee_id";

/// Whose findings to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    User(i64),
    Unassigned,
}

/// How to order a findings list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FindingSort {
    /// Most recently seen first (the default: what is happening now).
    #[default]
    LastSeen,
    /// Worst first, then most recently seen.
    Severity,
    /// Newest findings first.
    FirstSeen,
    /// Most often seen first.
    Occurrences,
}

impl FindingSort {
    pub fn parse(s: &str) -> Option<FindingSort> {
        match s {
            "last_seen" => Some(FindingSort::LastSeen),
            "severity" => Some(FindingSort::Severity),
            "first_seen" => Some(FindingSort::FirstSeen),
            "occurrences" => Some(FindingSort::Occurrences),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FindingSort::LastSeen => "last_seen",
            FindingSort::Severity => "severity",
            FindingSort::FirstSeen => "first_seen",
            FindingSort::Occurrences => "occurrences",
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            FindingSort::LastSeen => "f.last_seen DESC, f.id DESC",
            FindingSort::Severity => "f.severity_rank ASC, f.last_seen DESC, f.id DESC",
            FindingSort::FirstSeen => "f.first_seen DESC, f.id DESC",
            FindingSort::Occurrences => "f.occurrences DESC, f.id DESC",
        }
    }
}

/// Filters for the findings list; every field narrows the result.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub source: Option<String>,
    pub severity: Option<Severity>,
    pub status: Option<FindingStatus>,
    pub asset: Option<String>,
    pub assignee: Option<AssigneeFilter>,
    /// Case-insensitive substring of the title.
    pub text: Option<String>,
    /// Authorisation, not a user choice: when set, only findings assigned
    /// to this user exist for the query (engineers).
    pub restrict_to_assignee: Option<i64>,
    pub sort: FindingSort,
}

/// One page of findings and the total that matched.
#[derive(Debug, Clone)]
pub struct FindingPage {
    pub items: Vec<Finding>,
    /// Findings matching, counted up to [`COUNT_CAP`].
    pub total: i64,
    /// False when more than [`COUNT_CAP`] match and `total` is the cap.
    pub total_exact: bool,
    pub page: i64,
    pub per_page: i64,
}

impl FindingPage {
    /// Pages in `total` (a lower bound when the total is not exact).
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }

    /// Whether a next page exists.
    pub fn has_next(&self) -> bool {
        self.page < self.pages() || (!self.total_exact && self.items.len() as i64 == self.per_page)
    }
}

/// What an ingestion did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestSummary {
    /// Findings seen for the first time.
    pub created: u64,
    /// Findings already known, whose last-seen time and count were updated.
    pub updated: u64,
    /// The id of each finding, in the order given.
    pub ids: Vec<i64>,
}

/// Findings per status, for dashboards and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    pub status: String,
    pub count: i64,
}

/// The largest total a findings list counts exactly; beyond it the total
/// reads "10,000+" (see [`FindingPage::total_exact`]).
pub const COUNT_CAP: i64 = 10_000;

/// How long a list count is reused when nothing was written meanwhile.
const COUNT_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// Rows per multi-row upsert: 15 parameters each stays far below both
/// engines' limits on bound parameters (32,766 and 65,535).
const INGEST_CHUNK: usize = 500;

enum Bind {
    Int(i64),
    Text(String),
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl FindingFilter {
    /// Builds the WHERE clause. Only placeholders are interpolated into the
    /// SQL; every value is bound.
    fn where_clause(&self) -> (String, Vec<Bind>) {
        let mut clauses: Vec<String> = Vec::new();
        let mut binds: Vec<Bind> = Vec::new();
        let push = |clause: &str, b: Bind, binds: &mut Vec<Bind>, clauses: &mut Vec<String>| {
            binds.push(b);
            clauses.push(clause.replace('?', &format!("${}", binds.len())));
        };
        if let Some(s) = &self.source {
            push(
                "f.source = ?",
                Bind::Text(s.clone()),
                &mut binds,
                &mut clauses,
            );
        }
        if let Some(s) = self.severity {
            push(
                "f.severity_rank = ?",
                Bind::Int(s.rank()),
                &mut binds,
                &mut clauses,
            );
        }
        if let Some(s) = self.status {
            push(
                "f.status = ?",
                Bind::Text(s.as_str().to_owned()),
                &mut binds,
                &mut clauses,
            );
        }
        if let Some(a) = &self.asset {
            push(
                "f.asset = ?",
                Bind::Text(a.clone()),
                &mut binds,
                &mut clauses,
            );
        }
        match self.assignee {
            Some(AssigneeFilter::User(id)) => {
                push("f.assignee_id = ?", Bind::Int(id), &mut binds, &mut clauses)
            }
            Some(AssigneeFilter::Unassigned) => clauses.push("f.assignee_id IS NULL".into()),
            None => {}
        }
        if let Some(t) = self.text.as_deref().filter(|t| !t.trim().is_empty()) {
            push(
                "LOWER(f.title) LIKE ? ESCAPE '\\'",
                Bind::Text(escape_like(t.trim())),
                &mut binds,
                &mut clauses,
            );
        }
        if let Some(uid) = self.restrict_to_assignee {
            push(
                "f.assignee_id = ?",
                Bind::Int(uid),
                &mut binds,
                &mut clauses,
            );
        }
        let sql = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        (sql, binds)
    }
}

impl Store {
    /// Records a batch of findings in one transaction. A fingerprint already
    /// known updates that finding (last seen, occurrences, latest wording and
    /// severity; a resolved finding reopens) instead of adding a row. Either
    /// the whole batch is stored or none of it.
    pub async fn ingest_findings(
        &self,
        batch: &[NewFinding],
        now: UnixMillis,
    ) -> Result<IngestSummary> {
        // The same fingerprint twice in one batch is one finding seen twice:
        // fold duplicates first, because a multi-row upsert may not touch
        // the same row twice.
        let mut order: Vec<usize> = Vec::with_capacity(batch.len());
        let mut unique: Vec<(&NewFinding, i64)> = Vec::new();
        let mut index_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for f in batch {
            let k = *index_of.entry(f.fingerprint.as_str()).or_insert_with(|| {
                unique.push((f, 0));
                unique.len() - 1
            });
            // The latest wording in the batch wins, as it would row by row.
            unique[k].0 = f;
            unique[k].1 += 1;
            order.push(k);
        }

        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let mut ids = vec![0i64; unique.len()];
        let mut summary = IngestSummary::default();
        for (chunk_no, chunk) in unique.chunks(INGEST_CHUNK).enumerate() {
            let mut sql = String::from(
                "INSERT INTO findings (source, title, severity, severity_rank, cvss_vector, cwe, asset, \
                 location, rule_id, description, fingerprint, status, first_seen, last_seen, occurrences, updated_at) VALUES ",
            );
            // SQLite gets anonymous `?` placeholders: naming thousands of
            // `$N` makes binding quadratic (each name lookup walks a list).
            let sqlite = self.backend() == crate::Backend::Sqlite;
            let mut next = 0usize;
            let mut ph = |sql: &mut String| {
                next += 1;
                if sqlite {
                    sql.push('?');
                } else {
                    sql.push_str(&format!("${next}"));
                }
            };
            for row in 0..chunk.len() {
                sql.push_str(if row > 0 { ", (" } else { "(" });
                for col in 0..16 {
                    if col > 0 {
                        sql.push_str(", ");
                    }
                    if col == 11 {
                        sql.push_str("'open'");
                    } else {
                        ph(&mut sql);
                    }
                }
                sql.push(')');
            }
            sql.push_str(
                " ON CONFLICT (fingerprint) DO UPDATE SET \
                   title = excluded.title, severity = excluded.severity, severity_rank = excluded.severity_rank, \
                   cvss_vector = COALESCE(excluded.cvss_vector, findings.cvss_vector), \
                   cwe = COALESCE(excluded.cwe, findings.cwe), \
                   description = COALESCE(excluded.description, findings.description), \
                   last_seen = CASE WHEN excluded.last_seen > findings.last_seen THEN excluded.last_seen ELSE findings.last_seen END, \
                   occurrences = findings.occurrences + excluded.occurrences, \
                   status = CASE WHEN findings.status IN ('resolved', 'verified') THEN 'open' ELSE findings.status END, \
                   updated_at = excluded.updated_at \
                 RETURNING id, fingerprint, occurrences",
            );
            let mut q = sqlx::query_as::<_, (i64, String, i64)>(AssertSqlSafe(sql));
            for (f, count) in chunk {
                q = q
                    .bind(f.source.as_str().to_owned())
                    .bind(f.title.trim().to_owned())
                    .bind(f.severity.as_str())
                    .bind(f.severity.rank())
                    .bind(f.cvss_vector.clone())
                    .bind(f.cwe.map(i64::from))
                    .bind(f.asset.clone())
                    .bind(f.location.clone())
                    .bind(f.rule_id.clone())
                    .bind(f.description.clone())
                    .bind(f.fingerprint.clone())
                    .bind(now)
                    .bind(now)
                    .bind(*count)
                    .bind(now);
            }
            let rows = q.fetch_all(&mut *tx).await?;
            let base = chunk_no * INGEST_CHUNK;
            let position: std::collections::HashMap<&str, usize> = chunk
                .iter()
                .enumerate()
                .map(|(i, (f, _))| (f.fingerprint.as_str(), base + i))
                .collect();
            for (id, fingerprint, occurrences) in rows {
                let Some(&k) = position.get(fingerprint.as_str()) else {
                    return Err(StoreError::Corrupt(format!(
                        "upsert returned unknown fingerprint {fingerprint}"
                    )));
                };
                ids[k] = id;
                // Seen only in this batch: new. Anything more: it existed.
                if occurrences == unique[k].1 {
                    summary.created += 1;
                    summary.updated += (unique[k].1 - 1) as u64;
                } else {
                    summary.updated += unique[k].1 as u64;
                }
            }
        }
        tx.commit().await?;
        summary.ids = order.into_iter().map(|k| ids[k]).collect();
        Ok(summary)
    }

    pub async fn finding(&self, id: i64) -> Result<Finding> {
        let sql = format!("{SELECT_FINDING} WHERE f.id = $1");
        let row: Option<FindingRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// One page (1-based) of findings matching `filter`.
    pub async fn list_findings(
        &self,
        filter: &FindingFilter,
        page: i64,
        per_page: i64,
    ) -> Result<FindingPage> {
        let per_page = per_page.clamp(1, 500);
        let page = page.max(1);
        let (where_sql, binds) = filter.where_clause();

        // Counting stops at COUNT_CAP: past that, an exact number costs a
        // scan of every match on every page view and helps nobody triage.
        // A count is reused for up to COUNT_TTL unless this process writes
        // in between: people reload the same views all day, and a number a
        // second old (another server's writes) is still the right answer.
        let key = {
            let mut k = where_sql.clone();
            for b in &binds {
                match b {
                    Bind::Int(i) => k.push_str(&format!("|i{i}")),
                    Bind::Text(t) => k.push_str(&format!("|t{}:{t}", t.len())),
                }
            }
            k
        };
        let cached = self.counts.lock().ok().and_then(|c| {
            c.get(&key)
                .filter(|(at, _)| at.elapsed() < COUNT_TTL)
                .map(|(_, n)| *n)
        });
        let counted = match cached {
            Some(n) => n,
            None => {
                let count_sql = format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM findings f{where_sql} LIMIT {}) capped",
                    COUNT_CAP + 1
                );
                let mut count_q = sqlx::query_as::<_, (i64,)>(AssertSqlSafe(count_sql));
                for b in &binds {
                    count_q = match b {
                        Bind::Int(i) => count_q.bind(*i),
                        Bind::Text(t) => count_q.bind(t.clone()),
                    };
                }
                let (n,) = count_q.fetch_one(&self.pool).await?;
                if let Ok(mut c) = self.counts.lock() {
                    if c.len() >= 1024 {
                        c.clear();
                    }
                    c.insert(key, (std::time::Instant::now(), n));
                }
                n
            }
        };
        let total_exact = counted <= COUNT_CAP;
        let total = counted.min(COUNT_CAP);

        let n = binds.len();
        // Deferred join: pick the page's ids from the narrow filter index
        // first, then read only those rows. Sorting thousands of full rows
        // (descriptions included) to keep fifty was the slow part.
        let order = filter.sort.order_by();
        let list_sql = format!(
            "{SELECT_FINDING} JOIN (SELECT f.id FROM findings f{where_sql} ORDER BY {order} LIMIT ${} OFFSET ${}) page \
             ON page.id = f.id ORDER BY {order}",
            n + 1,
            n + 2
        );
        let mut q = sqlx::query_as::<_, FindingRow>(AssertSqlSafe(list_sql));
        for b in &binds {
            q = match b {
                Bind::Int(i) => q.bind(*i),
                Bind::Text(t) => q.bind(t.clone()),
            };
        }
        let rows = q
            .bind(per_page)
            .bind((page - 1).saturating_mul(per_page))
            .fetch_all(&self.pool)
            .await?;
        Ok(FindingPage {
            items: rows
                .into_iter()
                .map(Finding::try_from)
                .collect::<Result<_>>()?,
            total,
            total_exact,
            page,
            per_page,
        })
    }

    /// Sets a finding's status; returns the previous one.
    pub async fn set_finding_status(
        &self,
        id: i64,
        status: FindingStatus,
        now: UnixMillis,
    ) -> Result<FindingStatus> {
        self.set_finding_status_audited(id, status, now, None).await
    }

    /// Sets a finding's status and, when it changed, appends `audit` (with
    /// the detail `old → new` filled in) in the same transaction: the change
    /// and its record are stored together or not at all.
    pub async fn set_finding_status_audited(
        &self,
        id: i64,
        status: FindingStatus,
        now: UnixMillis,
        audit: Option<&crate::NewAuditEntry>,
    ) -> Result<FindingStatus> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let prev: Option<(String,)> = sqlx::query_as("SELECT status FROM findings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if prev.is_some() {
            sqlx::query("UPDATE findings SET status = $1, updated_at = $2 WHERE id = $3")
                .bind(status.as_str())
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let prev: FindingStatus = prev
            .ok_or(StoreError::NotFound)?
            .0
            .parse()
            .map_err(|e: rampart_core::UnknownStatus| StoreError::Corrupt(e.to_string()))?;
        if let Some(entry) = audit.filter(|_| prev != status) {
            crate::audit::insert_audit(&mut tx, entry, &format!("{prev} → {status}"), now).await?;
        }
        tx.commit().await?;
        Ok(prev)
    }

    /// Assigns a finding to a staff member, or unassigns it with `None`.
    pub async fn assign_finding(
        &self,
        id: i64,
        assignee: Option<i64>,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let r = sqlx::query("UPDATE findings SET assignee_id = $1, updated_at = $2 WHERE id = $3")
            .bind(assignee)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
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
        Ok(())
    }

    /// Distinct sources present, for filter menus.
    pub async fn finding_sources(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT source FROM findings ORDER BY source")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    pub async fn finding_status_counts(&self) -> Result<Vec<StatusCount>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM findings GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(status, count)| StatusCount { status, count })
            .collect())
    }
}
