//! Programmes, their scope tables, membership of private programmes and
//! invitations.

use crate::{Result, Store, StoreError};
use rampart_core::{
    AssetType, BountyTable, ResponseTargets, Role, ScopeItem, Severity, UnixMillis, Visibility,
};

/// A stored programme with its scope table.
#[derive(Debug, Clone, PartialEq)]
pub struct Programme {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub summary: String,
    /// Markdown, rendered safely on the programme page.
    pub policy: String,
    /// Rules of engagement, Markdown.
    pub rules: String,
    pub safe_harbour: String,
    pub visibility: Visibility,
    /// The programme's security@ address, for mail intake.
    pub email: Option<String>,
    pub currency: String,
    pub bounties: BountyTable,
    pub budget: Option<i64>,
    pub targets: ResponseTargets,
    pub pause_on_breach: bool,
    pub submissions_paused: bool,
    pub needs_info_close_days: i64,
    pub launched_at: Option<UnixMillis>,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
    pub scope: Vec<ScopeItem>,
}

/// What an admin supplies to create or replace a programme's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgrammeSettings {
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub policy: String,
    pub rules: String,
    pub safe_harbour: String,
    pub visibility: Visibility,
    pub email: Option<String>,
    pub currency: String,
    pub bounties: BountyTable,
    pub budget: Option<i64>,
    pub targets: ResponseTargets,
    pub pause_on_breach: bool,
    pub needs_info_close_days: i64,
    pub scope: Vec<ScopeItem>,
}

#[derive(sqlx::FromRow)]
struct ProgrammeRow {
    id: i64,
    slug: String,
    name: String,
    summary: String,
    policy: String,
    rules: String,
    safe_harbour: String,
    visibility: String,
    email: Option<String>,
    currency: String,
    bounty_critical: i64,
    bounty_high: i64,
    bounty_medium: i64,
    bounty_low: i64,
    budget: Option<i64>,
    target_first_response: i64,
    target_triage: i64,
    target_bounty: i64,
    target_resolution: i64,
    pause_on_breach: i64,
    submissions_paused: i64,
    needs_info_close_days: i64,
    launched_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct ScopeRow {
    asset_type: String,
    identifier: String,
    in_scope: i64,
    max_severity: Option<String>,
    note: String,
}

const SELECT_PROGRAMME: &str = "SELECT id, slug, name, summary, policy, rules, safe_harbour, visibility, \
     email, currency, bounty_critical, bounty_high, bounty_medium, bounty_low, budget, \
     target_first_response, target_triage, target_bounty, target_resolution, pause_on_breach, \
     submissions_paused, needs_info_close_days, launched_at, created_at, updated_at FROM programmes";

fn corrupt<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn days(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl ProgrammeRow {
    fn into_programme(self, scope: Vec<ScopeItem>) -> Result<Programme> {
        Ok(Programme {
            id: self.id,
            slug: self.slug,
            name: self.name,
            summary: self.summary,
            policy: self.policy,
            rules: self.rules,
            safe_harbour: self.safe_harbour,
            visibility: self.visibility.parse().map_err(corrupt)?,
            email: self.email,
            currency: self.currency,
            bounties: BountyTable {
                critical: self.bounty_critical,
                high: self.bounty_high,
                medium: self.bounty_medium,
                low: self.bounty_low,
            },
            budget: self.budget,
            targets: ResponseTargets {
                first_response_days: days(self.target_first_response),
                triage_days: days(self.target_triage),
                bounty_days: days(self.target_bounty),
                resolution_days: days(self.target_resolution),
            },
            pause_on_breach: self.pause_on_breach != 0,
            submissions_paused: self.submissions_paused != 0,
            needs_info_close_days: self.needs_info_close_days,
            launched_at: self.launched_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            scope,
        })
    }
}

impl TryFrom<ScopeRow> for ScopeItem {
    type Error = StoreError;
    fn try_from(r: ScopeRow) -> Result<ScopeItem> {
        Ok(ScopeItem {
            asset_type: r.asset_type.parse::<AssetType>().map_err(corrupt)?,
            identifier: r.identifier,
            in_scope: r.in_scope != 0,
            max_severity: r
                .max_severity
                .map(|s| s.parse::<Severity>())
                .transpose()
                .map_err(corrupt)?,
            note: r.note,
        })
    }
}

/// An invitation to a private programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: i64,
    pub programme_id: i64,
    pub email: String,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
    pub answered_at: Option<UnixMillis>,
    /// `accepted` or `declined` once answered.
    pub answer: Option<String>,
    pub user_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct InvitationRow {
    id: i64,
    programme_id: i64,
    email: String,
    created_at: i64,
    expires_at: i64,
    answered_at: Option<i64>,
    answer: Option<String>,
    user_id: Option<i64>,
}

impl From<InvitationRow> for Invitation {
    fn from(r: InvitationRow) -> Self {
        Invitation {
            id: r.id,
            programme_id: r.programme_id,
            email: r.email,
            created_at: r.created_at,
            expires_at: r.expires_at,
            answered_at: r.answered_at,
            answer: r.answer,
            user_id: r.user_id,
        }
    }
}

/// Why an invitation cannot be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationProblem {
    Unknown,
    Expired,
    AlreadyAnswered,
    /// Sent to another address than the signed-in researcher's.
    OtherAddress,
}

const SELECT_INVITATION: &str = "SELECT id, programme_id, email, created_at, expires_at, answered_at, \
     answer, user_id FROM invitations";

impl Store {
    /// Creates a programme with its scope table. A slug or security@
    /// address already in use is a [`StoreError::Conflict`].
    pub async fn create_programme(
        &self,
        s: &ProgrammeSettings,
        now: UnixMillis,
    ) -> Result<Programme> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO programmes (slug, name, summary, policy, rules, safe_harbour, visibility, \
             email, currency, bounty_critical, bounty_high, bounty_medium, bounty_low, budget, \
             target_first_response, target_triage, target_bounty, target_resolution, \
             pause_on_breach, needs_info_close_days, launched_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19, $20, $21, $22, $22) RETURNING id",
        )
        .bind(s.slug.clone())
        .bind(s.name.clone())
        .bind(s.summary.clone())
        .bind(s.policy.clone())
        .bind(s.rules.clone())
        .bind(s.safe_harbour.clone())
        .bind(s.visibility.as_str())
        .bind(s.email.clone())
        .bind(s.currency.clone())
        .bind(s.bounties.critical)
        .bind(s.bounties.high)
        .bind(s.bounties.medium)
        .bind(s.bounties.low)
        .bind(s.budget)
        .bind(i64::from(s.targets.first_response_days))
        .bind(i64::from(s.targets.triage_days))
        .bind(i64::from(s.targets.bounty_days))
        .bind(i64::from(s.targets.resolution_days))
        .bind(i64::from(s.pause_on_breach))
        .bind(s.needs_info_close_days)
        .bind((s.visibility == Visibility::Public).then_some(now))
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            StoreError::from_insert(
                e,
                "a programme with this slug or security@ address already exists",
            )
        })?;
        insert_scope(&mut tx, id, &s.scope).await?;
        tx.commit().await?;
        drop(_g);
        self.programme_by_id(id).await
    }

    /// Replaces a programme's settings and scope. Launching (private to
    /// public) keeps the first launch time: history is not rewritten.
    pub async fn update_programme(
        &self,
        id: i64,
        s: &ProgrammeSettings,
        now: UnixMillis,
    ) -> Result<Programme> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let r = sqlx::query(
            "UPDATE programmes SET slug = $1, name = $2, summary = $3, policy = $4, rules = $5, \
             safe_harbour = $6, visibility = $7, email = $8, currency = $9, bounty_critical = $10, \
             bounty_high = $11, bounty_medium = $12, bounty_low = $13, budget = $14, \
             target_first_response = $15, target_triage = $16, target_bounty = $17, \
             target_resolution = $18, pause_on_breach = $19, needs_info_close_days = $20, \
             launched_at = CASE WHEN $7 = 'public' AND launched_at IS NULL THEN $21 ELSE launched_at END, \
             updated_at = $21 WHERE id = $22",
        )
        .bind(s.slug.clone())
        .bind(s.name.clone())
        .bind(s.summary.clone())
        .bind(s.policy.clone())
        .bind(s.rules.clone())
        .bind(s.safe_harbour.clone())
        .bind(s.visibility.as_str())
        .bind(s.email.clone())
        .bind(s.currency.clone())
        .bind(s.bounties.critical)
        .bind(s.bounties.high)
        .bind(s.bounties.medium)
        .bind(s.bounties.low)
        .bind(s.budget)
        .bind(i64::from(s.targets.first_response_days))
        .bind(i64::from(s.targets.triage_days))
        .bind(i64::from(s.targets.bounty_days))
        .bind(i64::from(s.targets.resolution_days))
        .bind(i64::from(s.pause_on_breach))
        .bind(s.needs_info_close_days)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            StoreError::from_insert(
                e,
                "a programme with this slug or security@ address already exists",
            )
        })?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM programme_scope WHERE programme_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        insert_scope(&mut tx, id, &s.scope).await?;
        tx.commit().await?;
        drop(_g);
        self.programme_by_id(id).await
    }

    /// Makes a private programme public (one action; its reports,
    /// members and history stay as they are).
    pub async fn launch_programme(&self, id: i64, now: UnixMillis) -> Result<()> {
        let _g = self.write_guard().await;
        let r = sqlx::query(
            "UPDATE programmes SET visibility = 'public', \
             launched_at = COALESCE(launched_at, $1), updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Pauses or resumes new submissions.
    pub async fn set_submissions_paused(
        &self,
        id: i64,
        paused: bool,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let r = sqlx::query(
            "UPDATE programmes SET submissions_paused = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(i64::from(paused))
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn programme_by_id(&self, id: i64) -> Result<Programme> {
        let row: Option<ProgrammeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_PROGRAMME} WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let row = row.ok_or(StoreError::NotFound)?;
        let scope = self.programme_scope(row.id).await?;
        row.into_programme(scope)
    }

    pub async fn programme_by_slug(&self, slug: &str) -> Result<Programme> {
        let row: Option<ProgrammeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_PROGRAMME} WHERE slug = $1"
        )))
        .bind(slug.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        let row = row.ok_or(StoreError::NotFound)?;
        let scope = self.programme_scope(row.id).await?;
        row.into_programme(scope)
    }

    /// The programme whose security@ address is `email` (mail intake).
    pub async fn programme_by_email(&self, email: &str) -> Result<Programme> {
        let row: Option<ProgrammeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_PROGRAMME} WHERE LOWER(email) = $1"
        )))
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        let row = row.ok_or(StoreError::NotFound)?;
        let scope = self.programme_scope(row.id).await?;
        row.into_programme(scope)
    }

    async fn programme_scope(&self, id: i64) -> Result<Vec<ScopeItem>> {
        let rows: Vec<ScopeRow> = sqlx::query_as(
            "SELECT asset_type, identifier, in_scope, max_severity, note FROM programme_scope \
             WHERE programme_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ScopeItem::try_from).collect()
    }

    /// Every programme's `(id, slug, name)`, by name: for menus, without
    /// the scope tables.
    pub async fn programme_names(&self) -> Result<Vec<(i64, String, String)>> {
        Ok(
            sqlx::query_as("SELECT id, slug, name FROM programmes ORDER BY name, id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Programmes, by name. With `public_only`, only those listed publicly.
    pub async fn list_programmes(&self, public_only: bool) -> Result<Vec<Programme>> {
        let filter = if public_only {
            " WHERE visibility = 'public'"
        } else {
            ""
        };
        let rows: Vec<ProgrammeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_PROGRAMME}{filter} ORDER BY name, id"
        )))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let scope = self.programme_scope(r.id).await?;
            out.push(r.into_programme(scope)?);
        }
        Ok(out)
    }

    /// Programmes a person may see: staff see all; a researcher (or an
    /// anonymous visitor, `None`) sees public ones and private ones they
    /// are a member of.
    pub async fn programmes_visible_to(
        &self,
        viewer: Option<(i64, Role)>,
    ) -> Result<Vec<Programme>> {
        match viewer {
            Some((_, role)) if role.is_staff() => self.list_programmes(false).await,
            Some((user_id, _)) => {
                let all = self.list_programmes(false).await?;
                let mut out = Vec::new();
                for p in all {
                    if p.visibility == Visibility::Public || self.is_member(p.id, user_id).await? {
                        out.push(p);
                    }
                }
                Ok(out)
            }
            None => self.list_programmes(true).await,
        }
    }

    /// Whether `viewer` may see programme `p` (the object check behind every
    /// programme route: a private programme is a 404 to anyone else).
    pub async fn can_see_programme(
        &self,
        p: &Programme,
        viewer: Option<(i64, Role)>,
    ) -> Result<bool> {
        Ok(match viewer {
            _ if p.visibility == Visibility::Public => true,
            Some((_, role)) if role.is_staff() => true,
            Some((user_id, _)) => self.is_member(p.id, user_id).await?,
            None => false,
        })
    }

    pub async fn is_member(&self, programme_id: i64, user_id: i64) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM programme_members WHERE programme_id = $1 AND user_id = $2",
        )
        .bind(programme_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Adds a researcher to a programme (idempotent).
    pub async fn add_member(&self, programme_id: i64, user_id: i64, now: UnixMillis) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query(
            "INSERT INTO programme_members (programme_id, user_id, joined_at) VALUES ($1, $2, $3) \
             ON CONFLICT (programme_id, user_id) DO NOTHING",
        )
        .bind(programme_id)
        .bind(user_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records an invitation by the SHA-256 of its secret link token.
    pub async fn create_invitation(
        &self,
        programme_id: i64,
        email: &str,
        token_hash: &str,
        invited_by: Option<i64>,
        now: UnixMillis,
        expires_at: UnixMillis,
    ) -> Result<Invitation> {
        let _g = self.write_guard().await;
        let row: InvitationRow = sqlx::query_as(
            "INSERT INTO invitations (programme_id, email, token_hash, invited_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, programme_id, email, created_at, \
             expires_at, answered_at, answer, user_id",
        )
        .bind(programme_id)
        .bind(email.trim().to_lowercase())
        .bind(token_hash.to_owned())
        .bind(invited_by)
        .bind(now)
        .bind(expires_at)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.into())
    }

    pub async fn invitation_by_token_hash(&self, token_hash: &str) -> Result<Invitation> {
        let row: Option<InvitationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_INVITATION} WHERE token_hash = $1"
        )))
        .bind(token_hash.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.ok_or(StoreError::NotFound)?.into())
    }

    /// A programme's invitations, newest first.
    pub async fn list_invitations(&self, programme_id: i64) -> Result<Vec<Invitation>> {
        let rows: Vec<InvitationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_INVITATION} WHERE programme_id = $1 ORDER BY created_at DESC, id DESC"
        )))
        .bind(programme_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Invitation::from).collect())
    }

    /// Open invitations for an address, for the researcher's own page.
    pub async fn pending_invitations_for(
        &self,
        email: &str,
        now: UnixMillis,
    ) -> Result<Vec<Invitation>> {
        let rows: Vec<InvitationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_INVITATION} WHERE email = $1 AND answered_at IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC"
        )))
        .bind(email.trim().to_lowercase())
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Invitation::from).collect())
    }

    /// Answers an invitation for the signed-in researcher. Accepting makes
    /// them a member; both answers are final.
    pub async fn answer_invitation(
        &self,
        token_hash: &str,
        user_id: i64,
        user_email: &str,
        accept: bool,
        now: UnixMillis,
    ) -> Result<std::result::Result<Invitation, InvitationProblem>> {
        let _g = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let row: Option<InvitationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_INVITATION} WHERE token_hash = $1"
        )))
        .bind(token_hash.to_owned())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(inv) = row.map(Invitation::from) else {
            return Ok(Err(InvitationProblem::Unknown));
        };
        // Someone else's link is as unknown as a wrong one, whatever its state.
        if inv.email != user_email.trim().to_lowercase() {
            return Ok(Err(InvitationProblem::OtherAddress));
        }
        if inv.answered_at.is_some() {
            return Ok(Err(InvitationProblem::AlreadyAnswered));
        }
        if inv.expires_at <= now {
            return Ok(Err(InvitationProblem::Expired));
        }
        let answer = if accept { "accepted" } else { "declined" };
        let r = sqlx::query(
            "UPDATE invitations SET answered_at = $1, answer = $2, user_id = $3 \
             WHERE id = $4 AND answered_at IS NULL",
        )
        .bind(now)
        .bind(answer)
        .bind(user_id)
        .bind(inv.id)
        .execute(&mut *tx)
        .await?;
        // Answered meanwhile by another request (PostgreSQL writers run
        // concurrently): both answers may not stand.
        if r.rows_affected() == 0 {
            return Ok(Err(InvitationProblem::AlreadyAnswered));
        }
        if accept {
            sqlx::query(
                "INSERT INTO programme_members (programme_id, user_id, joined_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (programme_id, user_id) DO NOTHING",
            )
            .bind(inv.programme_id)
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(Invitation {
            answered_at: Some(now),
            answer: Some(answer.to_owned()),
            user_id: Some(user_id),
            ..inv
        }))
    }
}

async fn insert_scope(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    programme_id: i64,
    scope: &[ScopeItem],
) -> Result<()> {
    for (i, item) in scope.iter().enumerate() {
        sqlx::query(
            "INSERT INTO programme_scope (programme_id, position, asset_type, identifier, in_scope, \
             max_severity, note) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(programme_id)
        .bind(i as i64)
        .bind(item.asset_type.as_str())
        .bind(item.identifier.clone())
        .bind(i64::from(item.in_scope))
        .bind(item.max_severity.map(|s| s.as_str().to_owned()))
        .bind(item.note.clone())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A researcher's public profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResearcherProfile {
    pub handle: Option<String>,
    pub show_in_thanks: bool,
    pub email_verified: bool,
}

/// One line of a programme's thanks page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thanks {
    pub handle: String,
    /// Valid reports (triaged, retesting or resolved).
    pub valid_reports: i64,
}

impl Store {
    /// Sets a researcher's public handle and thanks-page choice. A handle
    /// already taken (ignoring case) is a [`StoreError::Conflict`].
    pub async fn set_researcher_profile(
        &self,
        user_id: i64,
        handle: &str,
        show_in_thanks: bool,
        now: UnixMillis,
    ) -> Result<()> {
        let _g = self.write_guard().await;
        let r = sqlx::query(
            "UPDATE users SET handle = $1, show_in_thanks = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(handle.trim().to_owned())
        .bind(i64::from(show_in_thanks))
        .bind(now)
        .bind(user_id)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_insert(e, "this handle is taken; choose another"))?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Whether a public handle is taken (ignoring case).
    pub async fn handle_taken(&self, handle: &str) -> Result<bool> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM users WHERE LOWER(handle) = LOWER($1)")
                .bind(handle.trim().to_owned())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    pub async fn researcher_profile(&self, user_id: i64) -> Result<ResearcherProfile> {
        let row: Option<(Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT handle, show_in_thanks, email_verified FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        let (handle, thanks, verified) = row.ok_or(StoreError::NotFound)?;
        Ok(ResearcherProfile {
            handle,
            show_in_thanks: thanks != 0,
            email_verified: verified != 0,
        })
    }

    /// Marks an address verified (by an admin until outbound mail exists).
    pub async fn set_email_verified(&self, user_id: i64, now: UnixMillis) -> Result<()> {
        let _g = self.write_guard().await;
        sqlx::query("UPDATE users SET email_verified = 1, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Researchers who opted in, with their count of valid reports in the
    /// programme, most first.
    pub async fn programme_thanks(&self, programme_id: i64) -> Result<Vec<Thanks>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT u.handle, COUNT(*) FROM reports r JOIN users u ON u.id = r.researcher_id \
             WHERE r.programme_id = $1 AND u.show_in_thanks = 1 AND u.handle IS NOT NULL \
             AND r.state IN ('triaged', 'retesting', 'resolved') \
             GROUP BY u.handle ORDER BY COUNT(*) DESC, u.handle",
        )
        .bind(programme_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(handle, valid_reports)| Thanks {
                handle,
                valid_reports,
            })
            .collect())
    }
}

/// A weakness the company already knows of, for one programme.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KnownIssue {
    pub id: i64,
    pub programme_id: i64,
    pub title: String,
    pub description: String,
    pub asset: Option<String>,
    pub cwe: Option<i64>,
    pub finding_id: Option<i64>,
    pub report_id: Option<i64>,
    /// Listed on the programme page (as not eligible for a bounty).
    pub public: i64,
    pub created_at: i64,
}

/// A known issue to record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewKnownIssue {
    pub programme_id: i64,
    pub title: String,
    pub description: String,
    pub asset: Option<String>,
    pub cwe: Option<i64>,
    pub finding_id: Option<i64>,
    pub report_id: Option<i64>,
    pub public: bool,
}

const SELECT_KNOWN: &str = "SELECT id, programme_id, title, description, asset, cwe, finding_id, \
     report_id, public, created_at FROM known_issues";

impl Store {
    pub async fn add_known_issue(&self, k: &NewKnownIssue, now: UnixMillis) -> Result<KnownIssue> {
        let _g = self.write_guard().await;
        let row: KnownIssue = sqlx::query_as(
            "INSERT INTO known_issues (programme_id, title, description, asset, cwe, finding_id, \
             report_id, public, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             RETURNING id, programme_id, title, description, asset, cwe, finding_id, report_id, \
             public, created_at",
        )
        .bind(k.programme_id)
        .bind(k.title.clone())
        .bind(k.description.clone())
        .bind(k.asset.clone())
        .bind(k.cwe)
        .bind(k.finding_id)
        .bind(k.report_id)
        .bind(i64::from(k.public))
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(row)
    }

    /// Known issues of one programme, or of all (`None`), oldest first.
    pub async fn known_issues(&self, programme_id: Option<i64>) -> Result<Vec<KnownIssue>> {
        let rows = match programme_id {
            Some(p) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{SELECT_KNOWN} WHERE programme_id = $1 ORDER BY id"
                )))
                .bind(p)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_KNOWN} ORDER BY id")))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        Ok(rows)
    }

    pub async fn known_issue(&self, id: i64) -> Result<KnownIssue> {
        let row: Option<KnownIssue> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_KNOWN} WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.ok_or(StoreError::NotFound)
    }

    pub async fn delete_known_issue(&self, id: i64) -> Result<()> {
        let _g = self.write_guard().await;
        let r = sqlx::query("DELETE FROM known_issues WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
