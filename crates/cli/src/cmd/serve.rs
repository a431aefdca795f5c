use crate::cli::ServeArgs;
use crate::cmd::open_store;
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

pub async fn run(args: ServeArgs) -> Result<ExitCode> {
    let (mut settings, store) = open_store(&args.data).await?;
    if let Some(l) = args.listen {
        settings.listen = l;
    }
    if let Some(u) = args.public_url {
        settings.public_url = u;
    }
    if let (Some(c), Some(k)) = (args.tls_cert, args.tls_key) {
        settings.tls.cert = Some(c);
        settings.tls.key = Some(k);
    }
    let addr: SocketAddr = settings.listen.parse().with_context(|| {
        format!(
            "--listen {:?} is not ADDR:PORT, e.g. 127.0.0.1:8080",
            settings.listen
        )
    })?;
    if settings.database_url.is_empty() {
        std::fs::create_dir_all(settings.data_dir.join("attachments"))
            .context("could not create the attachment store in the data directory")?;
    }

    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .context("could not set up metrics")?;
    let state =
        rampart_web::AppState::new(store.clone(), settings.web_config()?).with_metrics(metrics);
    // Mail out, Slack and webhooks: their notifiers, and the delivery worker.
    let state = crate::cmd::outbound::start(&settings, &store, state)?;
    // Mail in: sender checks for POST /api/v1/mail/inbound and the IMAP worker.
    let check_mode = crate::cmd::mailgate::settings_check_mode(&settings)?;
    let state = match crate::cmd::mailgate::sender_checks(check_mode)? {
        Some(checks) => state.with_mail_checks(checks),
        None => state,
    };
    if let Some(imap) = &settings.mail.imap {
        let cfg = imap.to_config().context("[mail.imap]")?;
        // The web layer's intake: the same programme service (and so the
        // same notifications) as reports made on the web.
        let intake = state.mail_intake();
        println!(
            "Taking mail from the IMAP mailbox {}@{}:{}/{} ({}).",
            cfg.username, cfg.host, cfg.port, cfg.folder, cfg.after
        );
        tokio::spawn(async move {
            rampart_mail::imap::watch(
                &intake,
                &cfg,
                std::future::pending::<()>(),
                crate::cmd::mailgate::log_pass,
            )
            .await;
        });
    }

    if let Some(link) = rampart_web::first_admin_link(&state).await? {
        println!(
            "Rampart has no accounts yet. Open this one-time link to create the first administrator\n(valid for 24 hours; restart Rampart for a new one):\n\n    {link}\n"
        );
    }

    // Background WAL checkpoints for SQLite (see Store::checkpoint).
    let cp = store.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(e) = cp.checkpoint().await {
                tracing::warn!(error = %e, "Checkpoint failed");
            }
        }
    });

    // Housekeeping: expired sessions and idle rate-limit entries.
    let hk = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let now = crate::output::now_ms();
            if let Err(e) = hk.store.purge_expired_sessions(now).await {
                tracing::warn!(error = %e, "Could not purge expired sessions");
            }
            hk.limits.housekeeping();
            // The programme's clocks: silent needs-more-info reports close,
            // and programmes that asked pause while they breach targets.
            match hk.programmes.close_silent_reports(now).await {
                Ok(n) if n > 0 => tracing::info!(closed = n, "Closed silent reports"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "Could not close silent reports"),
            }
            match hk.programmes.enforce_response_targets(now).await {
                Ok(changed) => {
                    for (slug, paused) in changed {
                        tracing::info!(programme = %slug, paused, "Submissions pause changed by response targets");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "Could not check response targets"),
            }
            if let Err(e) = hk.purge_staged_files().await {
                tracing::warn!(error = %e, "Could not purge abandoned uploads");
            }
            if let Err(e) = hk.store.optimize().await {
                tracing::warn!(error = %e, "Could not refresh query statistics");
            }
        }
    });

    let app = rampart_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let public = settings.public_url();
    if settings.tls_enabled() {
        let (Some(cert), Some(key)) = (&settings.tls.cert, &settings.tls.key) else {
            unreachable!("tls_enabled checked both");
        };
        let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
            .await
            .with_context(|| {
                format!(
                    "could not load the TLS certificate {} and key {}",
                    cert.display(),
                    key.display()
                )
            })?;
        let handle = axum_server::Handle::new();
        let h = handle.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            h.graceful_shutdown(Some(Duration::from_secs(10)));
        });
        println!("Rampart is serving HTTPS on {addr} ({public}). Press Ctrl+C to stop.");
        tracing::info!(%addr, backend = store.backend().name(), "Listening with TLS");
        axum_server::bind_rustls(addr, tls)
            .handle(handle)
            .serve(app)
            .await
            .with_context(|| format!("could not serve on {addr}"))?;
    } else {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("could not listen on {addr}: is another program using the port? Choose another with --listen")
        })?;
        println!("Rampart is serving on http://{addr} ({public}). Press Ctrl+C to stop.");
        tracing::info!(%addr, backend = store.backend().name(), "Listening");
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("the server stopped with an error")?;
    }
    store.close().await;
    tracing::info!("Stopped");
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl+C or SIGTERM, so in-flight requests can finish.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("Shutting down; finishing requests in flight");
}
