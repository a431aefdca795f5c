#![allow(clippy::unwrap_used)]
//! The store's behaviour, checked on every backend: SQLite always, and
//! PostgreSQL when `TEST_DATABASE_URL` is set (CI requires it).

use rampart_core::{FindingStatus, NewFinding, Role, ScopeSet, Severity};
use rampart_store::testkit;
use rampart_store::{
    AssigneeFilter, FindingFilter, FindingSort, LinkPurpose, NewAuditEntry, StoreError,
};

const T0: i64 = 1_800_000_000_000;

fn finding(title: &str, sev: Severity, asset: &str) -> NewFinding {
    NewFinding::builder("sarif", title, sev)
        .asset(asset)
        .location("src/main.rs:1")
        .build()
}

#[tokio::test]
async fn users_are_unique_by_case_insensitive_email() {
    for s in testkit::all().await {
        let u = s
            .create_user("Alice@Example.com", Role::Admin, None, T0)
            .await
            .unwrap();
        assert_eq!(u.email, "alice@example.com", "{}", s.label);
        let err = s
            .create_user("alice@example.COM", Role::Triager, None, T0)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{}: {err}", s.label);
        assert_eq!(
            s.user_by_email(" ALICE@example.com ").await.unwrap().id,
            u.id
        );
        assert_eq!(s.count_users().await.unwrap(), 1);
        assert!(matches!(s.user_by_id(999).await, Err(StoreError::NotFound)));
    }
}

#[tokio::test]
async fn lockout_backs_off_after_repeated_failures() {
    for s in testkit::all().await {
        let u = s
            .create_user("bob@example.com", Role::Triager, None, T0)
            .await
            .unwrap();
        for i in 1..=4 {
            let f = s.record_login_failure(u.id, T0).await.unwrap();
            assert_eq!(f.failed_logins, i);
            assert_eq!(
                f.locked_until, 0,
                "{}: no lock before the fifth failure",
                s.label
            );
        }
        let f5 = s.record_login_failure(u.id, T0).await.unwrap();
        assert_eq!(f5.locked_until, T0 + 60_000, "{}", s.label);
        let f6 = s.record_login_failure(u.id, T0).await.unwrap();
        assert_eq!(f6.locked_until, T0 + 120_000, "{}", s.label);
        s.reset_login_failures(u.id).await.unwrap();
        let u = s.user_by_id(u.id).await.unwrap();
        assert_eq!((u.failed_logins, u.locked_until), (0, 0));
    }
}

#[tokio::test]
async fn sessions_expire_slide_and_revoke() {
    for s in testkit::all().await {
        let u = s
            .create_user("c@example.com", Role::Engineer, None, T0)
            .await
            .unwrap();
        s.create_session(
            "h1",
            u.id,
            "csrf",
            false,
            T0,
            1_000,
            10_000,
            "127.0.0.1",
            "test",
        )
        .await
        .unwrap();
        assert!(s.session_with_user("h1", T0 + 999).await.is_ok());
        assert!(matches!(
            s.session_with_user("h1", T0 + 1_000).await,
            Err(StoreError::NotFound)
        ));
        // Activity slides the idle expiry but never past the absolute limit.
        s.touch_session("h1", T0 + 900, 1_000).await.unwrap();
        assert!(
            s.session_with_user("h1", T0 + 1_500).await.is_ok(),
            "{}",
            s.label
        );
        s.touch_session("h1", T0 + 9_500, 1_000).await.unwrap();
        assert!(
            s.session_with_user("h1", T0 + 10_000).await.is_err(),
            "{}",
            s.label
        );

        s.create_session("h2", u.id, "csrf", false, T0, 1_000, 10_000, "", "")
            .await
            .unwrap();
        s.create_session("h3", u.id, "csrf", false, T0, 1_000, 10_000, "", "")
            .await
            .unwrap();
        assert_eq!(s.delete_other_sessions(u.id, Some("h2")).await.unwrap(), 2);
        assert!(s.session_with_user("h2", T0).await.is_ok());
        assert!(s.session_with_user("h3", T0).await.is_err());

        // Disabling an account ends its sessions.
        s.set_disabled(u.id, true, T0).await.unwrap();
        assert!(s.session_with_user("h2", T0).await.is_err(), "{}", s.label);
    }
}

#[tokio::test]
async fn api_tokens_are_scoped_revocable_and_owned() {
    for s in testkit::all().await {
        let a = s
            .create_user("a@example.com", Role::Engineer, None, T0)
            .await
            .unwrap();
        let b = s
            .create_user("b@example.com", Role::Triager, None, T0)
            .await
            .unwrap();
        let scopes = ScopeSet::parse("findings:read").unwrap();
        let t = s
            .create_api_token(Some(a.id), "ci", "hash-a", &scopes, T0)
            .await
            .unwrap();
        let found = s.api_token_by_hash("hash-a").await.unwrap();
        assert_eq!(found.role, Role::Engineer);
        assert_eq!(found.token.scopes, scopes);
        // Another user cannot revoke it, and is told nothing more than "not found".
        assert!(matches!(
            s.revoke_api_token(t.id, Some(b.id), T0).await,
            Err(StoreError::NotFound)
        ));
        s.revoke_api_token(t.id, Some(a.id), T0).await.unwrap();
        assert!(s.api_token_by_hash("hash-a").await.is_err(), "{}", s.label);
        // Service tokens (no user) act as admin, narrowed by scope.
        s.create_api_token(None, "svc", "hash-s", &ScopeSet::all(), T0)
            .await
            .unwrap();
        assert_eq!(
            s.api_token_by_hash("hash-s").await.unwrap().role,
            Role::Admin
        );
        assert_eq!(s.list_api_tokens(Some(a.id)).await.unwrap().len(), 1);
        assert_eq!(s.list_api_tokens(None).await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn one_time_links_work_once_and_expire() {
    for s in testkit::all().await {
        s.create_link("L", LinkPurpose::SetupAdmin, None, T0, 1_000)
            .await
            .unwrap();
        assert!(
            s.peek_link("L", LinkPurpose::SetPassword, T0)
                .await
                .is_err()
        );
        assert!(s.peek_link("L", LinkPurpose::SetupAdmin, T0).await.is_ok());
        assert!(
            s.take_link("L", LinkPurpose::SetupAdmin, T0 + 1_000)
                .await
                .is_err()
        );
        assert!(
            s.take_link("L", LinkPurpose::SetupAdmin, T0 + 10)
                .await
                .is_ok()
        );
        assert!(
            s.take_link("L", LinkPurpose::SetupAdmin, T0 + 20)
                .await
                .is_err(),
            "{}",
            s.label
        );
    }
}

#[tokio::test]
async fn totp_steps_cannot_be_replayed_and_recovery_codes_work_once() {
    for s in testkit::all().await {
        let u = s
            .create_user("t@example.com", Role::Admin, None, T0)
            .await
            .unwrap();
        s.set_pending_totp(u.id, "SECRET", T0).await.unwrap();
        s.enable_totp(u.id, 100, &["r1".into(), "r2".into()], T0)
            .await
            .unwrap();
        let u2 = s.user_by_id(u.id).await.unwrap();
        assert!(u2.totp_enabled);
        assert!(
            !s.advance_totp_step(u.id, 100).await.unwrap(),
            "{}",
            s.label
        );
        assert!(s.advance_totp_step(u.id, 101).await.unwrap());
        assert!(s.use_recovery_code(u.id, "r1", T0).await.unwrap());
        assert!(!s.use_recovery_code(u.id, "r1", T0).await.unwrap());
        assert_eq!(s.unused_recovery_codes(u.id).await.unwrap(), 1);
    }
}

#[tokio::test]
async fn same_fingerprint_updates_count_never_adds_a_row() {
    for s in testkit::all().await {
        let batch = vec![
            finding("SQL injection", Severity::High, "shop"),
            finding("XSS", Severity::Medium, "shop"),
        ];
        let first = s.ingest_findings(&batch, T0).await.unwrap();
        assert_eq!((first.created, first.updated), (2, 0), "{}", s.label);
        let again = s.ingest_findings(&batch, T0 + 5_000).await.unwrap();
        assert_eq!((again.created, again.updated), (0, 2), "{}", s.label);
        assert_eq!(first.ids, again.ids);
        let page = s
            .list_findings(&FindingFilter::default(), 1, 50)
            .await
            .unwrap();
        assert_eq!(page.total, 2);
        let f = s.finding(first.ids[0]).await.unwrap();
        assert_eq!(f.occurrences, 2);
        assert_eq!(f.first_seen, T0);
        assert_eq!(f.last_seen, T0 + 5_000);

        // A resolved finding that is seen again reopens; an accepted risk does not.
        s.set_finding_status(first.ids[0], FindingStatus::Resolved, T0)
            .await
            .unwrap();
        s.set_finding_status(first.ids[1], FindingStatus::RiskAccepted, T0)
            .await
            .unwrap();
        s.ingest_findings(&batch, T0 + 10_000).await.unwrap();
        assert_eq!(
            s.finding(first.ids[0]).await.unwrap().status,
            FindingStatus::Open
        );
        assert_eq!(
            s.finding(first.ids[1]).await.unwrap().status,
            FindingStatus::RiskAccepted
        );
    }
}

#[tokio::test]
async fn filters_paging_and_assignment() {
    for s in testkit::all().await {
        let eng = s
            .create_user("eng@example.com", Role::Engineer, None, T0)
            .await
            .unwrap();
        let mut batch = Vec::new();
        for i in 0..30 {
            let sev = if i % 3 == 0 {
                Severity::Critical
            } else {
                Severity::Low
            };
            let asset = if i % 2 == 0 { "api" } else { "web" };
            batch.push(finding(&format!("Finding {i} 100%_done"), sev, asset));
        }
        let ids = s.ingest_findings(&batch, T0).await.unwrap().ids;
        s.assign_finding(ids[0], Some(eng.id), T0).await.unwrap();
        s.assign_finding(ids[3], Some(eng.id), T0).await.unwrap();
        assert!(matches!(
            s.assign_finding(ids[1], Some(9_999), T0).await,
            Err(StoreError::Conflict(_))
        ));

        let crit = FindingFilter {
            severity: Some(Severity::Critical),
            ..Default::default()
        };
        assert_eq!(s.list_findings(&crit, 1, 50).await.unwrap().total, 10);
        let crit_api = FindingFilter {
            severity: Some(Severity::Critical),
            asset: Some("api".into()),
            ..Default::default()
        };
        assert_eq!(s.list_findings(&crit_api, 1, 50).await.unwrap().total, 5);

        let page2 = s
            .list_findings(&FindingFilter::default(), 2, 12)
            .await
            .unwrap();
        assert_eq!((page2.items.len(), page2.total, page2.pages()), (12, 30, 3));
        let page3 = s
            .list_findings(&FindingFilter::default(), 3, 12)
            .await
            .unwrap();
        assert_eq!(page3.items.len(), 6);

        let mine = FindingFilter {
            assignee: Some(AssigneeFilter::User(eng.id)),
            ..Default::default()
        };
        let got = s.list_findings(&mine, 1, 50).await.unwrap();
        assert_eq!(got.total, 2, "{}", s.label);
        assert_eq!(
            got.items[0].assignee_email.as_deref(),
            Some("eng@example.com")
        );
        let unassigned = FindingFilter {
            assignee: Some(AssigneeFilter::Unassigned),
            ..Default::default()
        };
        assert_eq!(s.list_findings(&unassigned, 1, 50).await.unwrap().total, 28);

        // Engineers' restriction applies on top of any other filter.
        let restricted = FindingFilter {
            restrict_to_assignee: Some(eng.id),
            severity: Some(Severity::Critical),
            ..Default::default()
        };
        assert_eq!(s.list_findings(&restricted, 1, 50).await.unwrap().total, 2);

        // Text search is case-insensitive and treats % and _ literally.
        let text = FindingFilter {
            text: Some("FINDING 1".into()),
            ..Default::default()
        };
        assert_eq!(
            s.list_findings(&text, 1, 50).await.unwrap().total,
            11,
            "{}",
            s.label
        );
        let literal = FindingFilter {
            text: Some("0%_d".into()),
            ..Default::default()
        };
        assert_eq!(s.list_findings(&literal, 1, 50).await.unwrap().total, 30);
        let wildcard = FindingFilter {
            text: Some("1_0".into()),
            ..Default::default()
        };
        assert_eq!(s.list_findings(&wildcard, 1, 50).await.unwrap().total, 0);

        let by_sev = FindingFilter {
            sort: FindingSort::Severity,
            ..Default::default()
        };
        let first = s.list_findings(&by_sev, 1, 1).await.unwrap();
        assert_eq!(first.items[0].severity, Severity::Critical);
        assert_eq!(
            s.finding_sources().await.unwrap(),
            vec!["sarif".to_string()]
        );
    }
}

#[tokio::test]
async fn audit_log_is_append_only() {
    for s in testkit::all().await {
        let e = NewAuditEntry {
            actor: "cli".into(),
            action: "user.create".into(),
            object_type: "user".into(),
            object_id: "1".into(),
            ..Default::default()
        };
        s.append_audit(&e, T0).await.unwrap();
        s.append_audit(&e, T0 + 1).await.unwrap();
        let page = s.list_audit(1, 10).await.unwrap();
        assert_eq!(page.total, 2);
        assert_eq!(page.items[0].at, T0 + 1, "newest first");
        assert_eq!(s.audit_for_object("user", "1").await.unwrap().len(), 2);
        // The database itself refuses to rewrite history.
        let upd = sqlx::query("UPDATE audit_log SET actor = 'mallory'")
            .execute(&raw_pool(&s).await)
            .await;
        assert!(upd.is_err(), "{}: update must be refused", s.label);
        let del = sqlx::query("DELETE FROM audit_log")
            .execute(&raw_pool(&s).await)
            .await;
        assert!(del.is_err(), "{}: delete must be refused", s.label);
    }
}

/// A second connection to the same database, outside the Store API, as an
/// attacker with SQL access through the application would have.
async fn raw_pool(s: &testkit::TestStore) -> sqlx::AnyPool {
    s.store.raw_pool_for_tests()
}

#[tokio::test]
async fn sqlite_online_backup_is_a_usable_database() {
    let s = testkit::sqlite().await;
    s.ingest_findings(&[finding("x", Severity::Low, "a")], T0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("backup.db");
    s.backup_to(&target).await.unwrap();
    assert!(matches!(
        s.backup_to(&target).await,
        Err(StoreError::Conflict(_))
    ));
    let copy = rampart_store::Store::connect(&format!("sqlite://{}", target.display()))
        .await
        .unwrap();
    assert_eq!(
        copy.list_findings(&FindingFilter::default(), 1, 10)
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        copy.applied_migrations().await.unwrap(),
        rampart_store::MIGRATION_VERSIONS
    );
}

#[tokio::test]
async fn postgres_has_no_builtin_backup() {
    if let Some(s) = testkit::postgres().await {
        let err = s
            .backup_to(std::path::Path::new("/tmp/x.db"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("pg_dump"));
    }
}

#[tokio::test]
async fn migrate_is_idempotent() {
    for s in testkit::all().await {
        s.migrate().await.unwrap();
        assert_eq!(
            s.applied_migrations().await.unwrap(),
            rampart_store::MIGRATION_VERSIONS
        );
    }
}

#[tokio::test]
async fn large_batches_with_repeats_count_every_sighting() {
    for s in testkit::all().await {
        // 1,203 items over several upsert chunks, with every finding twice.
        let mut batch: Vec<NewFinding> = (0..601)
            .map(|i| finding(&format!("F{i}"), Severity::Low, "big"))
            .collect();
        batch.extend(batch.clone());
        batch.push(finding("F0", Severity::High, "big"));
        let r = s.ingest_findings(&batch, T0).await.unwrap();
        assert_eq!((r.created, r.updated), (601, 602), "{}", s.label);
        assert_eq!(r.ids.len(), 1203);
        assert_eq!(r.ids[0], r.ids[601], "same fingerprint, same id");
        assert_eq!(r.ids[0], r.ids[1202]);
        let f0 = s.finding(r.ids[0]).await.unwrap();
        assert_eq!(f0.occurrences, 3);
        assert_eq!(
            f0.severity,
            Severity::High,
            "the latest sighting's severity wins"
        );
        assert_eq!(s.finding(r.ids[5]).await.unwrap().occurrences, 2);
        let again = s.ingest_findings(&batch[..601], T0 + 1).await.unwrap();
        assert_eq!((again.created, again.updated), (0, 601));
        assert_eq!(s.finding(r.ids[5]).await.unwrap().occurrences, 3);
        assert_eq!(
            s.list_findings(&FindingFilter::default(), 1, 10)
                .await
                .unwrap()
                .total,
            601
        );
    }
}

#[tokio::test]
async fn status_change_and_its_audit_entry_are_one_transaction() {
    for s in testkit::all().await {
        let id = s
            .ingest_findings(&[finding("x", Severity::Low, "a")], T0)
            .await
            .unwrap()
            .ids[0];
        let entry = NewAuditEntry {
            actor: "t@example.com".into(),
            action: "finding.status".into(),
            object_type: "finding".into(),
            object_id: id.to_string(),
            ..Default::default()
        };
        let prev = s
            .set_finding_status_audited(id, FindingStatus::Resolved, T0, Some(&entry))
            .await
            .unwrap();
        assert_eq!(prev, FindingStatus::Open);
        // Setting the same status again records nothing.
        s.set_finding_status_audited(id, FindingStatus::Resolved, T0, Some(&entry))
            .await
            .unwrap();
        let history = s
            .audit_for_object("finding", &id.to_string())
            .await
            .unwrap();
        assert_eq!(history.len(), 1, "{}", s.label);
        assert_eq!(history[0].detail, "open → resolved");
        assert!(matches!(
            s.set_finding_status_audited(9_999, FindingStatus::Open, T0, Some(&entry))
                .await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn counts_stop_at_the_cap_and_paging_goes_on() {
    for s in testkit::all().await {
        let batch: Vec<NewFinding> = (0..rampart_store::COUNT_CAP + 60)
            .map(|i| finding(&format!("F{i}"), Severity::Medium, "huge"))
            .collect();
        s.ingest_findings(&batch, T0).await.unwrap();
        let all = FindingFilter::default();
        let p = s.list_findings(&all, 1, 50).await.unwrap();
        assert_eq!(
            (p.total, p.total_exact),
            (rampart_store::COUNT_CAP, false),
            "{}",
            s.label
        );
        let last_counted = s.list_findings(&all, 200, 50).await.unwrap();
        assert!(last_counted.has_next(), "more beyond the cap");
        let beyond = s.list_findings(&all, 201, 50).await.unwrap();
        assert_eq!(beyond.items.len(), 50);
        let end = s.list_findings(&all, 202, 50).await.unwrap();
        assert_eq!(end.items.len(), 10);
        assert!(!end.has_next());
        let few = FindingFilter {
            text: Some("F10059".into()),
            ..Default::default()
        };
        let p = s.list_findings(&few, 1, 50).await.unwrap();
        assert!(p.total_exact);
        assert_eq!(p.total, 1);
    }
}
