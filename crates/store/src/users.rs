use crate::{Result, Store, StoreError};
use rampart_core::{Role, UnixMillis};

/// A person with an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub password_hash: Option<String>,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    /// The last TOTP time step accepted, so a code cannot be replayed.
    pub totp_last_step: i64,
    pub failed_logins: i64,
    pub locked_until: UnixMillis,
    pub disabled: bool,
    pub created_at: UnixMillis,
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    email: String,
    role: String,
    password_hash: Option<String>,
    totp_secret: Option<String>,
    totp_enabled: i64,
    totp_last_step: i64,
    failed_logins: i64,
    locked_until: i64,
    disabled: i64,
    created_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<User> {
        Ok(User {
            id: r.id,
            role: r
                .role
                .parse()
                .map_err(|e: rampart_core::UnknownRole| StoreError::Corrupt(e.to_string()))?,
            email: r.email,
            password_hash: r.password_hash,
            totp_secret: r.totp_secret,
            totp_enabled: r.totp_enabled != 0,
            totp_last_step: r.totp_last_step,
            failed_logins: r.failed_logins,
            locked_until: r.locked_until,
            disabled: r.disabled != 0,
            created_at: r.created_at,
        })
    }
}

/// The outcome of recording a failed login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailure {
    pub failed_logins: i64,
    pub locked_until: UnixMillis,
}

/// Email addresses are compared case-insensitively everywhere; storing them
/// lower-cased makes the UNIQUE constraint do the same.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Store {
    /// Creates an account. Fails with [`StoreError::Conflict`] when the email
    /// address is taken.
    pub async fn create_user(
        &self,
        email: &str,
        role: Role,
        password_hash: Option<&str>,
        now: UnixMillis,
    ) -> Result<User> {
        let _g = self.write_guard().await;
        let row: UserRow = sqlx::query_as(
            "INSERT INTO users (email, role, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) \
             RETURNING id, email, role, password_hash, totp_secret, totp_enabled, \
             totp_last_step, failed_logins, locked_until, disabled, created_at",
        )
        .bind(normalise_email(email))
        .bind(role.as_str())
        .bind(password_hash.map(str::to_owned))
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| {
            StoreError::from_insert(e, "an account with this email address already exists")
        })?;
        row.try_into()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<User> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, email, role, password_hash, totp_secret, totp_enabled, \
             totp_last_step, failed_logins, locked_until, disabled, created_at FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    pub async fn user_by_email(&self, email: &str) -> Result<User> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, email, role, password_hash, totp_secret, totp_enabled, \
             totp_last_step, failed_logins, locked_until, disabled, created_at FROM users WHERE email = $1",
        )
        .bind(normalise_email(email))
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Every account, oldest first.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(
            "SELECT id, email, role, password_hash, totp_secret, totp_enabled, \
             totp_last_step, failed_logins, locked_until, disabled, created_at FROM users ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(User::try_from).collect()
    }

    /// Staff accounts that findings can be assigned to.
    pub async fn list_assignable_users(&self) -> Result<Vec<User>> {
        Ok(self
            .list_users()
            .await?
            .into_iter()
            .filter(|u| u.role.is_staff() && !u.disabled)
            .collect())
    }

    pub async fn count_users(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    pub async fn set_password_hash(&self, user_id: i64, hash: &str, now: UnixMillis) -> Result<()> {
        let _g = self.write_guard().await;
        let r = sqlx::query(
            "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = 0, updated_at = $2 WHERE id = $3",
        )
        .bind(hash.to_owned())
        .bind(now)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn set_role(&self, user_id: i64, role: Role, now: UnixMillis) -> Result<()> {
        let _g = self.write_guard().await;
        let r = sqlx::query("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3")
            .bind(role.as_str())
            .bind(now)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Disables or re-enables an account; disabling also ends its sessions.
    pub async fn set_disabled(&self, user_id: i64, disabled: bool, now: UnixMillis) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let r = sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(disabled))
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Counts a failed password or second-factor attempt. From the fifth
    /// consecutive failure the account locks for a period that doubles with
    /// each further failure (1 minute, 2, 4, … capped at one hour): slow
    /// enough to stop guessing, short enough that an attacker cannot lock a
    /// real user out for long.
    pub async fn record_login_failure(
        &self,
        user_id: i64,
        now: UnixMillis,
    ) -> Result<LoginFailure> {
        const FREE_ATTEMPTS: i64 = 4;
        let _g = self.write_guard().await;
        let (failed,): (i64,) = sqlx::query_as(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        let locked_until = if failed > FREE_ATTEMPTS {
            let exp = (failed - FREE_ATTEMPTS - 1).min(6) as u32;
            let lock_ms = (60_000i64 * 2i64.pow(exp)).min(3_600_000);
            now + lock_ms
        } else {
            0
        };
        sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2")
            .bind(locked_until)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(LoginFailure {
            failed_logins: failed,
            locked_until,
        })
    }

    pub async fn reset_login_failures(&self, user_id: i64) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a TOTP secret that is not yet confirmed (enrolment step one).
    pub async fn set_pending_totp(
        &self,
        user_id: i64,
        secret: &str,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query(
            "UPDATE users SET totp_secret = $1, totp_enabled = 0, updated_at = $2 WHERE id = $3",
        )
        .bind(secret.to_owned())
        .bind(now)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Turns two-factor on after the user proved they hold the secret, and
    /// replaces their recovery codes (hashes) in the same transaction.
    pub async fn enable_totp(
        &self,
        user_id: i64,
        accepted_step: i64,
        recovery_code_hashes: &[String],
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE users SET totp_enabled = 1, totp_last_step = $1, updated_at = $2 WHERE id = $3 AND totp_secret IS NOT NULL",
        )
        .bind(accepted_step)
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for h in recovery_code_hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id)
                .bind(h.clone())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn disable_totp(&self, user_id: i64, now: UnixMillis) -> Result<()> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE users SET totp_enabled = 0, totp_secret = NULL, updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that a TOTP step was used, only if it is newer than the last
    /// one. Returns false for a replayed (or older) code.
    pub async fn advance_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let _g = self.write_guard().await;
        let r = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Consumes a recovery code (given as its hash). True if it was valid and
    /// unused; it can never be used again.
    pub async fn use_recovery_code(
        &self,
        user_id: i64,
        code_hash: &str,
        now: UnixMillis,
    ) -> Result<bool> {
        let _g = self.write_guard().await;
        let r = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .bind(code_hash.to_owned())
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn unused_recovery_codes(&self, user_id: i64) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }
}
