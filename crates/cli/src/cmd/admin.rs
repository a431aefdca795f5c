use crate::cli::AdminCommand;
use crate::cmd::{app_state, audit_cli, open_store};
use crate::output::{emit, now_ms, time};
use anyhow::{Context, Result, bail};
use rampart_auth::{PasswordHasher, check_password_policy};
use rampart_core::Role;
use serde_json::json;
use std::io::BufRead;
use std::process::ExitCode;

pub async fn run(cmd: AdminCommand) -> Result<ExitCode> {
    match cmd {
        AdminCommand::CreateUser {
            data,
            email,
            role,
            password_stdin,
            format,
        } => {
            let role: Role = role.parse()?;
            if !email.contains('@') {
                bail!("--email {email:?} is not an email address");
            }
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("could not read the password from standard input")?;
                let pw = line.trim_end_matches(['\r', '\n']).to_owned();
                check_password_policy(&pw).map_err(|e| anyhow::anyhow!("password refused: {e}"))?;
                Some(pw)
            } else {
                None
            };
            let (settings, store) = open_store(&data).await?;
            let hash = match password {
                Some(pw) => Some(
                    tokio::task::spawn_blocking(move || PasswordHasher::owasp().hash(&pw))
                        .await??,
                ),
                None => None,
            };
            let user = store
                .create_user(&email, role, hash.as_deref(), now_ms())
                .await
                .map_err(|e| match e {
                    rampart_store::StoreError::Conflict(_) => anyhow::anyhow!(
                        "an account for {email} already exists (use `rampart admin reset-password --email {email}` for a new password link)"
                    ),
                    other => other.into(),
                })?;
            audit_cli(
                &store,
                "user.create",
                ("user", user.id.to_string()),
                format!("{} as {role}", user.email),
            )
            .await?;
            let link = if hash.is_none() {
                let state = app_state(&settings, store.clone())?;
                Some(rampart_web::set_password_link(&state, user.id).await?)
            } else {
                None
            };
            emit(
                format,
                json!({"id": user.id, "email": user.email, "role": role, "set_password_link": link}),
                || match &link {
                    Some(l) => format!(
                        "Created {} ({role}). Send them this one-time link to choose a password (valid 72 hours):\n{l}\n",
                        user.email
                    ),
                    None => format!("Created {} ({role}) with the password given.\n", user.email),
                },
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::ResetPassword {
            data,
            email,
            format,
        } => {
            let (settings, store) = open_store(&data).await?;
            let user = store
                .user_by_email(&email)
                .await
                .map_err(|_| anyhow::anyhow!("no account has the email address {email}"))?;
            let state = app_state(&settings, store.clone())?;
            let link = rampart_web::set_password_link(&state, user.id).await?;
            audit_cli(
                &store,
                "user.password_link",
                ("user", user.id.to_string()),
                String::new(),
            )
            .await?;
            emit(
                format,
                json!({"email": user.email, "set_password_link": link}),
                || {
                    format!(
                        "One-time link for {} to choose a new password (valid 72 hours):\n{link}\n",
                        user.email
                    )
                },
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::ListUsers { data, format } => {
            let (_, store) = open_store(&data).await?;
            let users = store.list_users().await?;
            let rows: Vec<_> = users
                .iter()
                .map(|u| {
                    json!({"id": u.id, "email": u.email, "role": u.role, "two_factor": u.totp_enabled,
                           "disabled": u.disabled, "created_at": time(u.created_at)})
                })
                .collect();
            emit(format, json!(rows), || {
                let mut out = format!(
                    "{:<5} {:<32} {:<11} {:<4} {}\n",
                    "ID", "EMAIL", "ROLE", "2FA", "STATE"
                );
                for u in &users {
                    out.push_str(&format!(
                        "{:<5} {:<32} {:<11} {:<4} {}\n",
                        u.id,
                        u.email,
                        u.role,
                        if u.totp_enabled { "on" } else { "off" },
                        if u.disabled { "disabled" } else { "active" }
                    ));
                }
                out
            });
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}
