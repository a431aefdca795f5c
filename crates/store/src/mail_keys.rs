//! People's own OpenPGP public keys (mail to them is encrypted to it) and
//! the refusals mailed back to senders of mail that was not taken (at most
//! one per sender per window, so that two robots can never loop). Migration
//! 0006. The key is checked to parse as a public key by the caller (the
//! store knows no OpenPGP); the store keeps it as given, with its
//! fingerprint for display.

use crate::{Result, Store, StoreError};
use rampart_core::UnixMillis;

/// A user's OpenPGP public key.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserPgpKey {
    pub user_id: i64,
    /// Armoured (`-----BEGIN PGP PUBLIC KEY BLOCK-----`).
    pub armored: String,
    /// The primary key's fingerprint, upper-case hex.
    pub fingerprint: String,
    pub updated_at: i64,
}

impl Store {
    /// Saves (or replaces) a user's public key.
    pub async fn set_user_pgp_key(
        &self,
        user_id: i64,
        armored: &str,
        fingerprint: &str,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query(
            "INSERT INTO user_pgp_keys (user_id, armored, fingerprint, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
             armored = excluded.armored, fingerprint = excluded.fingerprint, \
             updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(armored.to_owned())
        .bind(fingerprint.to_owned())
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_insert(e, "no such user"))?;
        Ok(())
    }

    /// A user's public key, if they saved one.
    pub async fn user_pgp_key(&self, user_id: i64) -> Result<Option<UserPgpKey>> {
        Ok(sqlx::query_as(
            "SELECT user_id, armored, fingerprint, updated_at FROM user_pgp_keys WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Removes a user's public key; `false` when there was none.
    pub async fn remove_user_pgp_key(&self, user_id: i64) -> Result<bool> {
        let _g = self.write_guard().await;
        let r = sqlx::query("DELETE FROM user_pgp_keys WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Whether a refusal may be mailed to `sender` now: `true` (and
    /// remembered) unless one went to the same address (compared without
    /// case) less than `window_ms` ago. Atomic: two intakes at once never
    /// both get `true`.
    pub async fn claim_refusal_mail(
        &self,
        sender: &str,
        window_ms: i64,
        now: UnixMillis,
    ) -> Result<bool> {
        let _g = self.write_guard().await;
        let row: Option<(String,)> = sqlx::query_as(
            "INSERT INTO mail_refusals_sent (sender, sent_at) VALUES ($1, $2) \
             ON CONFLICT (sender) DO UPDATE SET sent_at = excluded.sent_at \
             WHERE mail_refusals_sent.sent_at <= $3 RETURNING sender",
        )
        .bind(sender.trim().to_lowercase())
        .bind(now)
        .bind(now.saturating_sub(window_ms))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }
}
