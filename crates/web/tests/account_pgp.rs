#![allow(clippy::unwrap_used)]
//! The account page's OpenPGP key (mail to its owner is encrypted to it):
//! a key made by GnuPG is saved and its fingerprint shown, bad keys and
//! secret keys are refused with the fix, the forms are CSRF-checked and
//! audited, and the key can be removed. On both engines. Without gpg the
//! test skips, unless CI or RAMPART_REQUIRE_MAIL is set.

mod harness;

use axum::http::StatusCode;
use harness::{App, csrf_of};
use rampart_core::Role;
use rampart_store::testkit;
use std::path::Path;
use std::process::Command;

fn gpg(home: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("gpg")
        .arg("--homedir")
        .arg(home)
        .args([
            "--batch",
            "--yes",
            "--no-tty",
            "--pinentry-mode",
            "loopback",
        ])
        .args(args)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "gpg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

/// (public key, secret key, fingerprint) of a new key pair, or `None`
/// without gpg.
fn key_pair(home: &Path, email: &str) -> Option<(String, String, String)> {
    let uid = format!("R <{email}>");
    if gpg(
        home,
        &[
            "--passphrase",
            "",
            "--quick-gen-key",
            &uid,
            "future-default",
            "default",
            "never",
        ],
    )
    .is_none()
    {
        let required = std::env::var("CI").is_ok_and(|v| !v.is_empty())
            || std::env::var("RAMPART_REQUIRE_MAIL").as_deref() == Ok("1");
        assert!(
            !required,
            "gpg is required here: run scripts/test-services.sh"
        );
        eprintln!("skipping: no gpg");
        return None;
    }
    let public = gpg(home, &["--armor", "--export", email])?;
    let secret = gpg(
        home,
        &["--passphrase", "", "--armor", "--export-secret-keys", email],
    )?;
    let fpr = gpg(home, &["--with-colons", "--fingerprint", email])?
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .unwrap()
        .trim_matches(':')
        .to_owned();
    Some((public, secret, fpr))
}

fn grouped(f: &str) -> String {
    f.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn a_user_saves_and_removes_their_openpgp_key() {
    let home = tempfile::tempdir().unwrap();
    let Some((public, secret, fpr)) = key_pair(home.path(), "r@example.com") else {
        return;
    };
    for s in testkit::all().await {
        let label = s.label;
        let app = App::new(s).await;
        let rid = app.user("r@example.com", Role::Researcher).await;
        let mut b = app.login("r@example.com").await;
        let page = app.get(&mut b, "/account").await;
        assert!(page.body.contains("Encrypted email (OpenPGP)"), "{label}");
        assert!(!page.body.contains("Remove key"), "{label}");
        let csrf = csrf_of(&page.body);

        // Forged CSRF: refused, nothing stored.
        let r = app
            .post_form(
                &mut b,
                "/account/pgp-key",
                &[("csrf", "forged"), ("key", &public)],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{label}");
        assert!(
            app.store.user_pgp_key(rid).await.unwrap().is_none(),
            "{label}"
        );

        // Not a key, and a secret key: refused with what to paste instead.
        let r = app
            .post_form(
                &mut b,
                "/account/pgp-key",
                &[("csrf", &csrf), ("key", "hello")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{label}");
        assert!(
            r.body.contains("gpg --export --armor"),
            "{label}: {}",
            r.body
        );
        let r = app
            .post_form(
                &mut b,
                "/account/pgp-key",
                &[("csrf", &csrf), ("key", &secret)],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{label}");
        assert!(
            r.body.contains("secret (private) key"),
            "{label}: {}",
            r.body
        );
        assert!(
            app.store.user_pgp_key(rid).await.unwrap().is_none(),
            "{label}"
        );

        // The public key: saved, fingerprint shown in groups of four, audited.
        let r = app
            .post_form(
                &mut b,
                "/account/pgp-key",
                &[("csrf", &csrf), ("key", &public)],
            )
            .await;
        assert_eq!(r.location(), "/account?done=pgp-key", "{label}: {}", r.body);
        let k = app.store.user_pgp_key(rid).await.unwrap().unwrap();
        assert_eq!(k.fingerprint, fpr, "{label}");
        assert_eq!(k.armored, public.trim(), "{label}");
        let page = app.get(&mut b, "/account?done=pgp-key").await;
        assert!(page.body.contains(&grouped(&fpr)), "{label}");
        assert!(page.body.contains("Remove key"), "{label}");
        let log = app
            .store
            .audit_for_object("user", &rid.to_string())
            .await
            .unwrap();
        assert!(
            log.iter()
                .any(|e| e.action == "user.pgp_key_saved" && e.detail == fpr),
            "{label}: {log:?}"
        );

        // Removal: CSRF-checked, audited, gone.
        let r = app
            .post_form(&mut b, "/account/pgp-key/remove", &[("csrf", "forged")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{label}");
        assert!(
            app.store.user_pgp_key(rid).await.unwrap().is_some(),
            "{label}"
        );
        let r = app
            .post_form(&mut b, "/account/pgp-key/remove", &[("csrf", &csrf)])
            .await;
        assert_eq!(r.location(), "/account?done=pgp-key-removed", "{label}");
        assert!(
            app.store.user_pgp_key(rid).await.unwrap().is_none(),
            "{label}"
        );
        let log = app
            .store
            .audit_for_object("user", &rid.to_string())
            .await
            .unwrap();
        assert!(
            log.iter().any(|e| e.action == "user.pgp_key_removed"),
            "{label}"
        );
        let page = app.get(&mut b, "/account").await;
        assert!(!page.body.contains(&grouped(&fpr)), "{label}");

        // Team members have the same choice.
        app.user("t@example.com", Role::Triager).await;
        let mut t = app.login("t@example.com").await;
        let page = app.get(&mut t, "/account").await;
        assert!(page.body.contains("Encrypted email (OpenPGP)"), "{label}");
    }
}
