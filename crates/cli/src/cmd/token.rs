use crate::cli::TokenCommand;
use crate::cmd::{audit_cli, open_store};
use crate::output::{emit, now_ms, time};
use anyhow::Result;
use rampart_auth::{TokenKind, new_token, token_digest};
use rampart_core::ScopeSet;
use serde_json::json;
use std::process::ExitCode;

pub async fn run(cmd: TokenCommand) -> Result<ExitCode> {
    match cmd {
        TokenCommand::Create {
            data,
            name,
            scopes,
            user,
        } => {
            let scopes = ScopeSet::parse(&scopes.join(" "))?;
            if name.trim().is_empty() {
                anyhow::bail!(
                    "--name must not be empty; name the job or person that uses the token"
                );
            }
            let (_, store) = open_store(&data).await?;
            let owner = match &user {
                Some(email) => Some(
                    store
                        .user_by_email(email)
                        .await
                        .map_err(|_| anyhow::anyhow!("no account has the email address {email}; create it first with `rampart admin create-user`"))?,
                ),
                None => None,
            };
            if owner.as_ref().is_some_and(|u| u.disabled) {
                anyhow::bail!("the account {} is disabled", user.unwrap_or_default());
            }
            let token = new_token(TokenKind::Api)?;
            let t = store
                .create_api_token(
                    owner.as_ref().map(|u| u.id),
                    name.trim(),
                    &token_digest(&token),
                    &scopes,
                    now_ms(),
                )
                .await?;
            let who = owner.map(|u| u.email).unwrap_or_else(|| "service".into());
            audit_cli(
                &store,
                "token.create",
                ("token", t.id.to_string()),
                format!("{} for {who} [{scopes}]", t.name),
            )
            .await?;
            // Only the token on stdout, so `TOKEN=$(rampart token create …)` works.
            println!("{token}");
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List { data, format } => {
            let (_, store) = open_store(&data).await?;
            let tokens = store.list_api_tokens(None).await?;
            let users = store.list_users().await?;
            let owner = |id: Option<i64>| {
                id.and_then(|id| users.iter().find(|u| u.id == id).map(|u| u.email.clone()))
                    .unwrap_or_else(|| "(service)".into())
            };
            let rows: Vec<_> = tokens
                .iter()
                .map(|t| {
                    json!({"id": t.id, "name": t.name, "user": owner(t.user_id), "scopes": t.scopes.to_string(),
                           "created_at": time(t.created_at), "last_used_at": t.last_used_at.map(time),
                           "revoked": t.revoked_at.is_some()})
                })
                .collect();
            emit(format, json!(rows), || {
                let mut out = format!(
                    "{:<5} {:<20} {:<28} {:<34} {}\n",
                    "ID", "NAME", "USER", "SCOPES", "STATE"
                );
                for t in &tokens {
                    out.push_str(&format!(
                        "{:<5} {:<20} {:<28} {:<34} {}\n",
                        t.id,
                        t.name,
                        owner(t.user_id),
                        t.scopes.to_string(),
                        if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        }
                    ));
                }
                out
            });
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { data, id } => {
            let (_, store) = open_store(&data).await?;
            store
                .revoke_api_token(id, None, now_ms())
                .await
                .map_err(|_| {
                    anyhow::anyhow!("no active token has id {id} (see `rampart token list`)")
                })?;
            audit_cli(
                &store,
                "token.revoke",
                ("token", id.to_string()),
                String::new(),
            )
            .await?;
            eprintln!("Token {id} revoked.");
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}
