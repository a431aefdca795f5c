use crate::{Result, Store, StoreError};
use rampart_core::{Role, ScopeSet, UnixMillis};

/// An API token as listed (never with its secret, which is not stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    /// The account the token acts as; `None` for a service token made on the
    /// command line without `--user`.
    pub user_id: Option<i64>,
    pub name: String,
    pub scopes: ScopeSet,
    pub created_at: UnixMillis,
    pub last_used_at: Option<UnixMillis>,
    pub revoked_at: Option<UnixMillis>,
}

/// A live token with what its owner may do.
#[derive(Debug, Clone)]
pub struct ApiTokenWithOwner {
    pub token: ApiToken,
    /// The owner's email, or `None` for a service token.
    pub owner_email: Option<String>,
    /// The owner's role; a service token acts with the admin role, narrowed
    /// by its scopes.
    pub role: Role,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    user_id: Option<i64>,
    name: String,
    scopes: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<ApiToken> {
        Ok(ApiToken {
            id: r.id,
            user_id: r.user_id,
            name: r.name,
            scopes: ScopeSet::parse(&r.scopes).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TokenOwnerRow {
    id: i64,
    user_id: Option<i64>,
    name: String,
    scopes: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
    email: Option<String>,
    role: Option<String>,
    disabled: Option<i64>,
}

struct OwnerRow {
    email: Option<String>,
    role: Option<String>,
    disabled: Option<i64>,
}

impl Store {
    /// Stores a new token by the SHA-256 of its secret.
    pub async fn create_api_token(
        &self,
        user_id: Option<i64>,
        name: &str,
        token_hash: &str,
        scopes: &ScopeSet,
        now: UnixMillis,
    ) -> Result<ApiToken> {
        let _g = self.write_guard().await;
        let row: TokenRow = sqlx::query_as(
            "INSERT INTO api_tokens (user_id, name, token_hash, scopes, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, user_id, name, scopes, created_at, last_used_at, revoked_at",
        )
        .bind(user_id)
        .bind(name.to_owned())
        .bind(token_hash.to_owned())
        .bind(scopes.to_string())
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| StoreError::from_insert(e, "token collision; try again"))?;
        row.try_into()
    }

    /// Finds a live (unrevoked) token by hash, with its owner's role. Tokens
    /// of disabled accounts are treated as unknown.
    pub async fn api_token_by_hash(&self, token_hash: &str) -> Result<ApiTokenWithOwner> {
        // One round trip: every API request starts here.
        let row: Option<TokenOwnerRow> = sqlx::query_as(
            "SELECT t.id, t.user_id, t.name, t.scopes, t.created_at, t.last_used_at, t.revoked_at, \
             u.email, u.role, u.disabled \
             FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        let row = row.ok_or(StoreError::NotFound)?;
        let owner = OwnerRow {
            email: row.email,
            role: row.role,
            disabled: row.disabled,
        };
        let token: ApiToken = TokenRow {
            id: row.id,
            user_id: row.user_id,
            name: row.name,
            scopes: row.scopes,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        }
        .try_into()?;
        let (owner_email, role) = match token.user_id {
            None => (None, Role::Admin),
            Some(_) => {
                // A token whose owner is gone or disabled is no token.
                if owner.role.is_none() || owner.disabled.unwrap_or(0) != 0 {
                    return Err(StoreError::NotFound);
                }
                let role =
                    owner.role.unwrap_or_default().parse().map_err(
                        |e: rampart_core::UnknownRole| StoreError::Corrupt(e.to_string()),
                    )?;
                (owner.email, role)
            }
        };
        Ok(ApiTokenWithOwner {
            token,
            owner_email,
            role,
        })
    }

    /// Notes that a token was used; best effort, at most once a minute per
    /// token so busy CI jobs don't turn every read into a write.
    pub async fn touch_api_token(&self, id: i64, now: UnixMillis) -> Result<()> {
        let _g = self.bookkeeping_guard().await;
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 \
             AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(now)
        .bind(id)
        .bind(now - 60_000)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Tokens of one user (`Some`), or every token (`None`, for admins).
    pub async fn list_api_tokens(&self, user_id: Option<i64>) -> Result<Vec<ApiToken>> {
        let rows: Vec<TokenRow> = match user_id {
            Some(uid) => {
                sqlx::query_as(
                    "SELECT id, user_id, name, scopes, created_at, last_used_at, revoked_at \
                     FROM api_tokens WHERE user_id = $1 ORDER BY id DESC",
                )
                .bind(uid)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(
                    "SELECT id, user_id, name, scopes, created_at, last_used_at, revoked_at \
                     FROM api_tokens ORDER BY id DESC",
                )
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.into_iter().map(ApiToken::try_from).collect()
    }

    /// Revokes a token. With `owner`, only if it belongs to that user, so one
    /// user can never revoke (or learn of) another's token.
    pub async fn revoke_api_token(
        &self,
        id: i64,
        owner: Option<i64>,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let r = match owner {
            Some(uid) => {
                sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(id)
                .bind(uid)
                .execute(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?
            }
        };
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
