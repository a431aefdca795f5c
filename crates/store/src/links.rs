use crate::{Result, Store, StoreError};
use rampart_core::UnixMillis;

/// What a one-time link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Create the first admin account on an empty installation.
    SetupAdmin,
    /// Choose a password for an existing account (new user or reset).
    SetPassword,
    /// Prove that the account's owner reads mail at its address.
    VerifyEmail,
}

impl LinkPurpose {
    fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::SetupAdmin => "setup-admin",
            LinkPurpose::SetPassword => "set-password",
            LinkPurpose::VerifyEmail => "verify-email",
        }
    }
}

/// A one-time link, identified by the SHA-256 of its secret.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OneTimeLink {
    pub token_hash: String,
    pub purpose: String,
    pub user_id: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl Store {
    pub async fn create_link(
        &self,
        token_hash: &str,
        purpose: LinkPurpose,
        user_id: Option<i64>,
        now: UnixMillis,
        valid_ms: i64,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query(
            "INSERT INTO one_time_links (token_hash, purpose, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash.to_owned())
        .bind(purpose.as_str())
        .bind(user_id)
        .bind(now)
        .bind(now + valid_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_insert(e, "link collision; try again"))?;
        Ok(())
    }

    /// Returns the link if it is valid now, without using it up.
    pub async fn peek_link(
        &self,
        token_hash: &str,
        purpose: LinkPurpose,
        now: UnixMillis,
    ) -> Result<OneTimeLink> {
        let row: Option<OneTimeLink> = sqlx::query_as(
            "SELECT token_hash, purpose, user_id, created_at, expires_at, used_at FROM one_time_links \
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(token_hash.to_owned())
        .bind(purpose.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)
    }

    /// Uses the link up, atomically: of two concurrent requests only one wins.
    pub async fn take_link(
        &self,
        token_hash: &str,
        purpose: LinkPurpose,
        now: UnixMillis,
    ) -> Result<OneTimeLink> {
        let _g = self.write_guard().await;
        let row: Option<OneTimeLink> = sqlx::query_as(
            "UPDATE one_time_links SET used_at = $1 \
             WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
             RETURNING token_hash, purpose, user_id, created_at, expires_at, used_at",
        )
        .bind(now)
        .bind(token_hash.to_owned())
        .bind(purpose.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)
    }
}
