use crate::users::UserRow;
use crate::{Result, Store, StoreError, User};
use rampart_core::UnixMillis;

/// A browser session. The cookie holds a random token; the database holds
/// only its SHA-256 (`id_hash`), so a stolen database cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    pub id_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    /// Password accepted but the second factor not yet given: such a session
    /// may only reach the second-factor page.
    pub mfa_pending: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// Idle expiry: pushed forward on activity.
    pub expires_at: i64,
    /// Hard limit: a session never outlives this, however active.
    pub absolute_expires_at: i64,
    pub ip: String,
    pub user_agent: String,
}

impl Session {
    pub fn is_expired(&self, now: UnixMillis) -> bool {
        now >= self.expires_at || now >= self.absolute_expires_at
    }
}

/// A session together with the account it belongs to.
#[derive(Debug, Clone)]
pub struct SessionWithUser {
    pub session: Session,
    pub user: User,
}

impl Store {
    #[allow(clippy::too_many_arguments)]
    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        mfa_pending: bool,
        now: UnixMillis,
        idle_ms: i64,
        absolute_ms: i64,
        ip: &str,
        user_agent: &str,
    ) -> Result<Session> {
        let _g = self.write_guard().await;
        let s: Session = sqlx::query_as(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, mfa_pending, created_at, last_seen_at, \
             expires_at, absolute_expires_at, ip, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9) \
             RETURNING id_hash, user_id, csrf_token, mfa_pending, created_at, last_seen_at, expires_at, \
             absolute_expires_at, ip, user_agent",
        )
        .bind(id_hash.to_owned())
        .bind(user_id)
        .bind(csrf_token.to_owned())
        .bind(i64::from(mfa_pending))
        .bind(now)
        .bind(now + idle_ms)
        .bind(now + absolute_ms)
        .bind(truncate(ip, 64))
        .bind(truncate(user_agent, 256))
        .fetch_one(&self.pool)
        .await?;
        Ok(s)
    }

    /// Looks a session up by its hash, with its user; expired sessions and
    /// those of disabled accounts are not returned.
    pub async fn session_with_user(
        &self,
        id_hash: &str,
        now: UnixMillis,
    ) -> Result<SessionWithUser> {
        let session: Option<Session> = sqlx::query_as(
            "SELECT id_hash, user_id, csrf_token, mfa_pending, created_at, last_seen_at, expires_at, \
             absolute_expires_at, ip, user_agent FROM sessions WHERE id_hash = $1",
        )
        .bind(id_hash.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        let session = session.ok_or(StoreError::NotFound)?;
        if session.is_expired(now) {
            return Err(StoreError::NotFound);
        }
        let user: Option<UserRow> = sqlx::query_as(
            "SELECT id, email, role, password_hash, totp_secret, totp_enabled, \
             totp_last_step, failed_logins, locked_until, disabled, created_at FROM users WHERE id = $1",
        )
        .bind(session.user_id)
        .fetch_optional(&self.pool)
        .await?;
        let user: User = user.ok_or(StoreError::NotFound)?.try_into()?;
        if user.disabled {
            return Err(StoreError::NotFound);
        }
        Ok(SessionWithUser { session, user })
    }

    /// Records activity and slides the idle expiry (never past the absolute one).
    pub async fn touch_session(&self, id_hash: &str, now: UnixMillis, idle_ms: i64) -> Result<()> {
        let _g = self.bookkeeping_guard().await;
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1, \
             expires_at = CASE WHEN $2 < absolute_expires_at THEN $2 ELSE absolute_expires_at END \
             WHERE id_hash = $3",
        )
        .bind(now)
        .bind(now + idle_ms)
        .bind(id_hash.to_owned())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks the second factor as given.
    pub async fn complete_mfa(&self, id_hash: &str) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query("UPDATE sessions SET mfa_pending = 0 WHERE id_hash = $1")
            .bind(id_hash.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Revokes one of a user's sessions, if it is theirs.
    pub async fn revoke_session_of_user(&self, user_id: i64, id_hash: &str) -> Result<()> {
        let _g = self.write_guard().await;
        let r = sqlx::query("DELETE FROM sessions WHERE id_hash = $1 AND user_id = $2")
            .bind(id_hash.to_owned())
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Ends every session of a user except `keep` (e.g. after a password change).
    pub async fn delete_other_sessions(&self, user_id: i64, keep: Option<&str>) -> Result<u64> {
        let _g = self.write_guard().await;
        let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user_id)
            .bind(keep.unwrap_or("").to_owned())
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    pub async fn list_sessions(&self, user_id: i64, now: UnixMillis) -> Result<Vec<Session>> {
        let rows: Vec<Session> = sqlx::query_as(
            "SELECT id_hash, user_id, csrf_token, mfa_pending, created_at, last_seen_at, expires_at, \
             absolute_expires_at, ip, user_agent FROM sessions \
             WHERE user_id = $1 AND expires_at > $2 AND absolute_expires_at > $2 ORDER BY last_seen_at DESC",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Deletes expired sessions; run periodically by the server.
    pub async fn purge_expired_sessions(&self, now: UnixMillis) -> Result<u64> {
        let _g = self.write_guard().await;
        let r =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR absolute_expires_at <= $1")
                .bind(now)
                .execute(&self.pool)
                .await?;
        Ok(r.rows_affected())
    }
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}
