#![allow(clippy::unwrap_used)]
//! The programme service on both databases: submission, scope flags,
//! acknowledgement, findings, notifications, the budget.

use rampart_core::{BountyTable, ReportState, Role, Severity};
use rampart_programme::input::{ProgrammeInput, ReportInput, ScopeInput};
use rampart_programme::{Actor, Service, ServiceError};
use rampart_store::testkit;
use rampart_store::{FindingFilter, ReportFilter};

const T0: i64 = 1_796_029_200_000; // Monday 2026-11-30 09:00 UTC

fn programme_input() -> ProgrammeInput {
    ProgrammeInput {
        name: "Acme Shop".into(),
        slug: "acme".into(),
        visibility: "private".into(),
        policy: Some("Test only your own accounts.".into()),
        scope: Some(vec![
            ScopeInput {
                asset_type: "wildcard_domain".into(),
                identifier: "*.acme.test".into(),
                in_scope: true,
                max_severity: Some("critical".into()),
                note: None,
            },
            ScopeInput {
                asset_type: "domain".into(),
                identifier: "blog.acme.test".into(),
                in_scope: false,
                max_severity: None,
                note: Some("Third-party hosting".into()),
            },
        ]),
        bounties: Some(BountyTable {
            critical: 3000,
            high: 1000,
            medium: 300,
            low: 100,
        }),
        budget: Some(1200),
        ..Default::default()
    }
}

fn xss(asset: &str) -> ReportInput {
    ReportInput {
        title: "Stored XSS in profile name".into(),
        description: "The profile name is rendered without escaping.".into(),
        steps: Some("1. Set name to <img src=x onerror=alert(1)>".into()),
        impact: Some("Account takeover of viewers".into()),
        asset: Some(asset.into()),
        cwe: Some(79),
        cvss_vector: Some("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:N".into()),
    }
}

#[tokio::test]
async fn a_submission_is_acknowledged_becomes_a_finding_and_reaches_the_team() {
    for s in testkit::all().await {
        let admin = s
            .create_user("admin@acme.test", Role::Admin, None, T0)
            .await
            .unwrap();
        let alice = s
            .create_user("alice@r.test", Role::Researcher, None, T0)
            .await
            .unwrap();
        let svc = Service::new(s.store.clone());
        let p = svc.create_programme(&programme_input(), T0).await.unwrap();

        let checked = xss("shop.acme.test").validate().unwrap();
        assert_eq!(checked.severity, Some(Severity::High));
        let r = svc
            .submit_report(&p, alice.id, &checked, "web", T0)
            .await
            .unwrap();
        assert!(!r.out_of_scope, "{}", s.label);
        let thread = s.report_events(r.id, false).await.unwrap();
        let ack = &thread[0].body;
        assert!(ack.contains(&format!("#{}", r.id)), "{ack}");
        assert!(ack.contains("1 business day (by 2026-12-01)"), "{ack}");
        assert!(ack.contains("2 business days (by 2026-12-02)"), "{ack}");

        // The report is a finding with source `report`.
        let findings = s
            .list_findings(
                &FindingFilter {
                    source: Some("report".into()),
                    ..Default::default()
                },
                1,
                50,
            )
            .await
            .unwrap();
        assert_eq!(findings.items.len(), 1);
        assert_eq!(r.finding_id, Some(findings.items[0].id));
        assert_eq!(findings.items[0].severity, Severity::High);

        assert_eq!(s.notifications(admin.id, 10).await.unwrap().len(), 1);
        assert_eq!(s.notifications(alice.id, 10).await.unwrap().len(), 1);

        // Out of scope is taken, but flagged.
        let blog = svc
            .submit_report(
                &p,
                alice.id,
                &xss("blog.acme.test").validate().unwrap(),
                "api",
                T0,
            )
            .await
            .unwrap();
        assert!(blog.out_of_scope);
        let elsewhere = svc
            .submit_report(
                &p,
                alice.id,
                &xss("other.example").validate().unwrap(),
                "api",
                T0,
            )
            .await
            .unwrap();
        assert!(elsewhere.out_of_scope);
        assert_eq!(
            s.list_reports(&ReportFilter {
                visible_to_researcher: Some(alice.id),
                ..Default::default()
            })
            .await
            .unwrap()
            .len(),
            3
        );
    }
}

#[tokio::test]
async fn bounties_follow_the_table_and_warn_before_the_budget_is_exceeded() {
    for s in testkit::all().await {
        let admin = s
            .create_user("admin@acme.test", Role::Admin, None, T0)
            .await
            .unwrap();
        let alice = s
            .create_user("alice@r.test", Role::Researcher, None, T0)
            .await
            .unwrap();
        let team = Actor {
            user_id: admin.id,
            role: Role::Admin,
        };
        let svc = Service::new(s.store.clone());
        let p = svc.create_programme(&programme_input(), T0).await.unwrap();
        let r = svc
            .submit_report(
                &p,
                alice.id,
                &xss("shop.acme.test").validate().unwrap(),
                "web",
                T0,
            )
            .await
            .unwrap();
        // No bounty before triage.
        let early = svc
            .award_bounty(&p, &r, team, "bounty", 1000, 0, false, T0)
            .await
            .unwrap_err();
        assert!(matches!(early, ServiceError::Refused(_)), "{early}");
        let r = svc
            .change_state(&r, team, ReportState::Triaged, "Confirmed", None, T0)
            .await
            .unwrap();
        assert_eq!(Service::suggested_bounty(&p, &r), 1000);
        // The report's finding follows the workflow.
        let f = s.finding(r.finding_id.unwrap()).await.unwrap();
        assert_eq!(
            f.status,
            rampart_core::FindingStatus::Triaged,
            "{}",
            s.label
        );
        svc.award_bounty(&p, &r, team, "bounty", 1000, 0, false, T0)
            .await
            .unwrap();
        // 1000 of 1200 spent: another 300 needs confirmation.
        let over = svc
            .award_bounty(&p, &r, team, "bounty", 300, 0, false, T0)
            .await
            .unwrap_err();
        assert!(
            matches!(
                over,
                ServiceError::OverBudget {
                    would_be: 1300,
                    budget: 1200,
                    ..
                }
            ),
            "{}: {over}",
            s.label
        );
        // Going past the budget is an admin's call, not a triager's.
        let triager = s
            .create_user("tri@acme.test", Role::Triager, None, T0)
            .await
            .unwrap();
        let tri = Actor {
            user_id: triager.id,
            role: Role::Triager,
        };
        assert!(matches!(
            svc.award_bounty(&p, &r, tri, "bounty", 300, 0, true, T0)
                .await
                .unwrap_err(),
            ServiceError::OverBudget { .. }
        ));
        svc.award_bounty(&p, &r, team, "bounty", 300, 0, true, T0)
            .await
            .unwrap();
        assert_eq!(s.programme_bounty_total(p.id).await.unwrap(), 1300);
        // Researchers cannot award themselves anything.
        let me = Actor {
            user_id: alice.id,
            role: Role::Researcher,
        };
        assert!(
            svc.award_bounty(&p, &r, me, "bounty", 1, 0, true, T0)
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn internal_notes_and_followers_cannot_be_abused() {
    for s in testkit::all().await {
        let alice = s
            .create_user("alice@r.test", Role::Researcher, None, T0)
            .await
            .unwrap();
        let bob = s
            .create_user("bob@r.test", Role::Researcher, None, T0)
            .await
            .unwrap();
        let svc = Service::new(s.store.clone());
        let p = svc.create_programme(&programme_input(), T0).await.unwrap();
        let r = svc
            .submit_report(
                &p,
                alice.id,
                &xss("shop.acme.test").validate().unwrap(),
                "web",
                T0,
            )
            .await
            .unwrap();
        let as_alice = Actor {
            user_id: alice.id,
            role: Role::Researcher,
        };
        let as_bob = Actor {
            user_id: bob.id,
            role: Role::Researcher,
        };
        assert!(svc.comment(&r, as_alice, "secret", true, T0).await.is_err());
        assert!(svc.comment(&r, as_bob, "hello", false, T0).await.is_err());
        assert!(
            svc.change_state(&r, as_bob, ReportState::Resolved, "", None, T0)
                .await
                .is_err()
        );
        svc.comment(
            &r,
            as_alice,
            "More detail: it also works on mobile",
            false,
            T0,
        )
        .await
        .unwrap();
        assert_eq!(s.report_events(r.id, false).await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn silence_closes_and_breaches_pause_submissions() {
    for s in testkit::all().await {
        let admin = s
            .create_user("admin@acme.test", Role::Admin, None, T0)
            .await
            .unwrap();
        let alice = s
            .create_user("alice@r.test", Role::Researcher, None, T0)
            .await
            .unwrap();
        let team = Actor {
            user_id: admin.id,
            role: Role::Admin,
        };
        let svc = Service::new(s.store.clone());
        let p = svc
            .create_programme(
                &ProgrammeInput {
                    pause_on_breach: Some(true),
                    ..programme_input()
                },
                T0,
            )
            .await
            .unwrap();
        let r = svc
            .submit_report(
                &p,
                alice.id,
                &xss("shop.acme.test").validate().unwrap(),
                "web",
                T0,
            )
            .await
            .unwrap();
        let day = 86_400_000;
        // Within a business day nothing happens; after it, submissions pause.
        assert!(
            svc.enforce_response_targets(T0 + 3_600_000)
                .await
                .unwrap()
                .is_empty()
        );
        let changed = svc.enforce_response_targets(T0 + 2 * day).await.unwrap();
        assert_eq!(changed, vec![("acme".to_owned(), true)], "{}", s.label);
        let paused = s.programme_by_id(p.id).await.unwrap();
        let refused = svc
            .submit_report(
                &paused,
                alice.id,
                &xss("shop.acme.test").validate().unwrap(),
                "web",
                T0,
            )
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("not taking new reports"),
            "{refused}"
        );
        // The team answers by asking for more; the clock pauses, submissions resume.
        svc.change_state(
            &r,
            team,
            ReportState::NeedsMoreInfo,
            "More please",
            None,
            T0 + 2 * day,
        )
        .await
        .unwrap();
        let changed = svc.enforce_response_targets(T0 + 2 * day).await.unwrap();
        assert_eq!(changed, vec![("acme".to_owned(), false)]);
        // Thirty silent days later the report closes itself.
        assert_eq!(svc.close_silent_reports(T0 + 20 * day).await.unwrap(), 0);
        assert_eq!(svc.close_silent_reports(T0 + 33 * day).await.unwrap(), 1);
        assert_eq!(
            s.report(r.id).await.unwrap().state,
            ReportState::NotApplicable
        );
    }
}

#[tokio::test]
async fn duplicates_and_known_issues_are_suggested() {
    for s in testkit::all().await {
        let alice = s
            .create_user("alice@r.test", Role::Researcher, None, T0)
            .await
            .unwrap();
        let bob = s
            .create_user("bob@r.test", Role::Researcher, None, T0)
            .await
            .unwrap();
        let svc = Service::new(s.store.clone());
        let p = svc.create_programme(&programme_input(), T0).await.unwrap();
        let original = svc
            .submit_report(
                &p,
                alice.id,
                &xss("shop.acme.test").validate().unwrap(),
                "web",
                T0,
            )
            .await
            .unwrap();
        let known = svc
            .add_known_issue(
                &rampart_store::NewKnownIssue {
                    programme_id: p.id,
                    title: "Missing rate limit on the password reset endpoint".into(),
                    description: "POST /api/password/reset can be called without limit.".into(),
                    public: true,
                    ..Default::default()
                },
                T0,
            )
            .await
            .unwrap();
        // Loaded from the store on first use; later submissions are indexed.
        let first = svc.duplicate_candidates(&original, 5).await.unwrap();
        assert!(
            first
                .iter()
                .all(|c| c.report_id != original.id || c.kind != rampart_dedup::DocKind::Report)
        );
        let again = ReportInput {
            title: "XSS via the profile name field".into(),
            description: "Profile name is not escaped when shown: <img src=x onerror=alert(1)>"
                .into(),
            asset: Some("shop.acme.test".into()),
            cwe: Some(79),
            ..Default::default()
        };
        let dup = svc
            .submit_report(&p, bob.id, &again.validate().unwrap(), "web", T0)
            .await
            .unwrap();
        let found = svc.duplicate_candidates(&dup, 5).await.unwrap();
        assert_eq!(found[0].report_id, original.id, "{}: {found:?}", s.label);
        assert_eq!(found[0].kind, rampart_dedup::DocKind::Report);
        let reset = ReportInput {
            title: "No rate limiting on password reset".into(),
            description: "I sent 10,000 requests to /api/password/reset in a minute.".into(),
            ..Default::default()
        };
        let r3 = svc
            .submit_report(&p, bob.id, &reset.validate().unwrap(), "web", T0)
            .await
            .unwrap();
        let found = svc.duplicate_candidates(&r3, 5).await.unwrap();
        assert_eq!(
            (found[0].kind, found[0].report_id),
            (rampart_dedup::DocKind::KnownIssue, known.id),
            "{found:?}"
        );
        svc.remove_known_issue(known.id).await.unwrap();
        let found = svc.duplicate_candidates(&r3, 5).await.unwrap();
        assert!(
            found
                .iter()
                .all(|c| c.kind != rampart_dedup::DocKind::KnownIssue)
        );
    }
}
