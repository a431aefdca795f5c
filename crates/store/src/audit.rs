use crate::{Result, Store};
use rampart_core::UnixMillis;

/// An event to record: who did what to which object, from where.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry {
    pub actor_id: Option<i64>,
    /// A readable actor: an email, `token:NAME`, `cli` or `system`.
    pub actor: String,
    /// Dotted verb such as `finding.status` or `user.login_failed`.
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub detail: String,
    pub ip: String,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub detail: String,
    pub ip: String,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Appends an entry inside an open transaction (`detail` overrides the
/// entry's own).
pub(crate) async fn insert_audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    e: &NewAuditEntry,
    detail: &str,
    now: UnixMillis,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor, action, object_type, object_id, detail, ip) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now)
    .bind(e.actor_id)
    .bind(e.actor.clone())
    .bind(e.action.clone())
    .bind(e.object_type.clone())
    .bind(e.object_id.clone())
    .bind(detail.to_owned())
    .bind(e.ip.clone())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Appends to the audit log. The table refuses updates and deletes.
    pub async fn append_audit(&self, e: &NewAuditEntry, now: UnixMillis) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query(
            "INSERT INTO audit_log (at, actor_id, actor, action, object_type, object_id, detail, ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(now)
        .bind(e.actor_id)
        .bind(e.actor.clone())
        .bind(e.action.clone())
        .bind(e.object_type.clone())
        .bind(e.object_id.clone())
        .bind(e.detail.clone())
        .bind(e.ip.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn list_audit(&self, page: i64, per_page: i64) -> Result<AuditPage> {
        let per_page = per_page.clamp(1, 500);
        let page = page.max(1);
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&self.pool)
            .await?;
        let items: Vec<AuditEntry> = sqlx::query_as(
            "SELECT id, at, actor_id, actor, action, object_type, object_id, detail, ip \
             FROM audit_log ORDER BY id DESC LIMIT $1 OFFSET $2",
        )
        .bind(per_page)
        .bind((page - 1) * per_page)
        .fetch_all(&self.pool)
        .await?;
        Ok(AuditPage {
            items,
            total,
            page,
            per_page,
        })
    }

    /// The history of one object, oldest first.
    pub async fn audit_for_object(
        &self,
        object_type: &str,
        object_id: &str,
    ) -> Result<Vec<AuditEntry>> {
        let items: Vec<AuditEntry> = sqlx::query_as(
            "SELECT id, at, actor_id, actor, action, object_type, object_id, detail, ip \
             FROM audit_log WHERE object_type = $1 AND object_id = $2 ORDER BY id",
        )
        .bind(object_type.to_owned())
        .bind(object_id.to_owned())
        .fetch_all(&self.pool)
        .await?;
        Ok(items)
    }
}
