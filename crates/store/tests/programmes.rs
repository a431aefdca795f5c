#![allow(clippy::unwrap_used)]
//! Programmes and reports, on every backend (SQLite always, PostgreSQL when
//! `TEST_DATABASE_URL` is set; CI requires it).

use rampart_core::{
    AssetType, BountyTable, DEFAULT_SAFE_HARBOUR, Mover, ReportState, ResponseTargets, Role,
    ScopeItem, Severity, Visibility,
};
use rampart_store::testkit;
use rampart_store::{
    InvitationProblem, NewReport, ProgrammeSettings, ReportFilter, StateChange, StateChangeError,
    Store, StoreError,
};

const T0: i64 = 1_800_000_000_000;
const HOUR: i64 = 3_600_000;

fn settings(slug: &str, visibility: Visibility) -> ProgrammeSettings {
    ProgrammeSettings {
        slug: slug.into(),
        name: format!("Programme {slug}"),
        summary: "Our web shop and its API.".into(),
        policy: "# Policy\nBe nice.".into(),
        rules: "No denial of service.".into(),
        safe_harbour: DEFAULT_SAFE_HARBOUR.into(),
        visibility,
        email: Some(format!("security+{slug}@example.com")),
        currency: "USD".into(),
        bounties: BountyTable {
            critical: 5000,
            high: 2000,
            medium: 500,
            low: 100,
        },
        budget: Some(10_000),
        targets: ResponseTargets::default(),
        pause_on_breach: false,
        needs_info_close_days: 30,
        scope: vec![
            ScopeItem {
                asset_type: AssetType::WildcardDomain,
                identifier: "*.example.com".into(),
                in_scope: true,
                max_severity: Some(Severity::Critical),
                note: "Production".into(),
            },
            ScopeItem {
                asset_type: AssetType::Domain,
                identifier: "blog.example.com".into(),
                in_scope: false,
                max_severity: None,
                note: "Hosted by a third party".into(),
            },
        ],
    }
}

async fn people(s: &Store) -> (i64, i64, i64) {
    let admin = s
        .create_user("admin@example.com", Role::Admin, None, T0)
        .await
        .unwrap();
    let alice = s
        .create_user("alice@researchers.test", Role::Researcher, None, T0)
        .await
        .unwrap();
    let bob = s
        .create_user("bob@researchers.test", Role::Researcher, None, T0)
        .await
        .unwrap();
    (admin.id, alice.id, bob.id)
}

fn report(programme_id: i64, researcher_id: i64, title: &str) -> NewReport {
    NewReport {
        programme_id,
        researcher_id,
        title: title.into(),
        description: "Reflected XSS in the search box.".into(),
        steps: "1. Open /search?q=<svg onload=alert(1)>".into(),
        impact: "Session theft.".into(),
        asset: Some("shop.example.com".into()),
        cvss_vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N".into()),
        researcher_severity: Some(Severity::Medium),
        cwe: Some(79),
        received_via: "web".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn programmes_keep_their_scope_and_launch_once() {
    for s in testkit::all().await {
        let p = s
            .create_programme(&settings("acme", Visibility::Private), T0)
            .await
            .unwrap();
        assert_eq!(p.scope.len(), 2, "{}", s.label);
        assert_eq!(p.scope[0].max_severity, Some(Severity::Critical));
        assert!(!p.scope[1].in_scope);
        assert_eq!(p.launched_at, None);
        assert_eq!(p.bounties.high, 2000);
        assert_eq!(s.programme_by_slug("acme").await.unwrap().id, p.id);
        assert_eq!(
            s.programme_by_email("SECURITY+acme@example.com")
                .await
                .unwrap()
                .id,
            p.id
        );
        let dup = s
            .create_programme(&settings("acme", Visibility::Public), T0)
            .await
            .unwrap_err();
        assert!(matches!(dup, StoreError::Conflict(_)), "{}: {dup}", s.label);

        // Anonymous visitors never see a private programme; staff do.
        assert!(s.programmes_visible_to(None).await.unwrap().is_empty());
        assert!(!s.can_see_programme(&p, None).await.unwrap());
        s.launch_programme(p.id, T0 + HOUR).await.unwrap();
        s.launch_programme(p.id, T0 + 2 * HOUR).await.unwrap();
        let launched = s.programme_by_id(p.id).await.unwrap();
        assert_eq!(launched.visibility, Visibility::Public);
        assert_eq!(launched.launched_at, Some(T0 + HOUR), "first launch kept");
        assert_eq!(s.programmes_visible_to(None).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn invitations_admit_only_the_invited_address_once_before_expiry() {
    for s in testkit::all().await {
        let (admin, alice, bob) = people(&s).await;
        let p = s
            .create_programme(&settings("private", Visibility::Private), T0)
            .await
            .unwrap();
        let viewer = |id| Some((id, Role::Researcher));
        assert!(!s.can_see_programme(&p, viewer(alice)).await.unwrap());
        s.create_invitation(
            p.id,
            "Alice@Researchers.test",
            "h-alice",
            Some(admin),
            T0,
            T0 + HOUR,
        )
        .await
        .unwrap();
        s.create_invitation(
            p.id,
            "bob@researchers.test",
            "h-bob",
            Some(admin),
            T0,
            T0 + HOUR,
        )
        .await
        .unwrap();
        assert_eq!(
            s.pending_invitations_for("alice@researchers.test", T0)
                .await
                .unwrap()
                .len(),
            1
        );
        // Bob cannot use Alice's link.
        let wrong = s
            .answer_invitation("h-alice", bob, "bob@researchers.test", true, T0)
            .await
            .unwrap();
        assert_eq!(wrong, Err(InvitationProblem::OtherAddress), "{}", s.label);
        let ok = s
            .answer_invitation("h-alice", alice, "alice@researchers.test", true, T0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ok.answer.as_deref(), Some("accepted"));
        assert!(s.can_see_programme(&p, viewer(alice)).await.unwrap());
        assert!(!s.can_see_programme(&p, viewer(bob)).await.unwrap());
        let again = s
            .answer_invitation("h-alice", alice, "alice@researchers.test", true, T0)
            .await
            .unwrap();
        assert_eq!(again, Err(InvitationProblem::AlreadyAnswered));
        let late = s
            .answer_invitation("h-bob", bob, "bob@researchers.test", true, T0 + HOUR)
            .await
            .unwrap();
        assert_eq!(late, Err(InvitationProblem::Expired));
        assert_eq!(
            s.answer_invitation("nope", bob, "bob@researchers.test", true, T0)
                .await
                .unwrap(),
            Err(InvitationProblem::Unknown)
        );
        assert_eq!(
            s.programmes_visible_to(viewer(alice)).await.unwrap().len(),
            1
        );
        assert!(
            s.programmes_visible_to(viewer(bob))
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn a_report_walks_the_workflow_with_its_thread_and_clocks() {
    for s in testkit::all().await {
        let (admin, alice, _bob) = people(&s).await;
        let p = s
            .create_programme(&settings("flow", Visibility::Public), T0)
            .await
            .unwrap();
        let r = s
            .create_report(
                &report(p.id, alice, "XSS in search"),
                |_| "Thanks!".to_owned(),
                T0,
            )
            .await
            .unwrap();
        assert_eq!(r.state, ReportState::New, "{}", s.label);
        assert_eq!(r.researcher_severity, Some(Severity::Medium));

        // The team asks for more; the researcher answers; the clock paused.
        s.change_report_state(
            r.id,
            &StateChange {
                to: ReportState::NeedsMoreInfo,
                mover: Mover::Team,
                author_id: Some(admin),
                reason: "Which browser?",
                duplicate_of: None,
            },
            T0 + HOUR,
        )
        .await
        .unwrap();
        s.add_report_comment(
            r.id,
            admin,
            Role::Admin,
            "Internal: looks real",
            true,
            T0 + HOUR,
        )
        .await
        .unwrap();
        s.add_report_comment(
            r.id,
            alice,
            Role::Researcher,
            "Firefox 140",
            false,
            T0 + 3 * HOUR,
        )
        .await
        .unwrap();
        let r1 = s.report(r.id).await.unwrap();
        assert_eq!(r1.state, ReportState::New, "answer hands it back");
        assert_eq!(r1.paused_ms, 2 * HOUR, "{}", s.label);
        assert_eq!(r1.first_response_at, Some(T0 + HOUR));

        // A researcher may not triage their own report.
        let refused = s
            .change_report_state(
                r.id,
                &StateChange {
                    to: ReportState::Triaged,
                    mover: Mover::Researcher,
                    author_id: Some(alice),
                    reason: "",
                    duplicate_of: None,
                },
                T0 + 4 * HOUR,
            )
            .await
            .unwrap_err();
        assert!(matches!(refused, StateChangeError::Transition(_)));

        for (to, who, by) in [
            (ReportState::Triaged, Mover::Team, admin),
            (ReportState::Retesting, Mover::Team, admin),
            (ReportState::Resolved, Mover::Researcher, alice),
        ] {
            s.change_report_state(
                r.id,
                &StateChange {
                    to,
                    mover: who,
                    author_id: Some(by),
                    reason: "",
                    duplicate_of: None,
                },
                T0 + 5 * HOUR,
            )
            .await
            .unwrap();
        }
        let done = s.report(r.id).await.unwrap();
        assert_eq!(done.state, ReportState::Resolved);
        assert_eq!(done.triaged_at, Some(T0 + 5 * HOUR));
        assert_eq!(done.resolved_at, Some(T0 + 5 * HOUR));

        // The researcher's view of the thread has no internal notes.
        let public = s.report_events(r.id, false).await.unwrap();
        assert!(public.iter().all(|e| !e.internal), "{}", s.label);
        assert!(public.iter().all(|e| e.body != "Internal: looks real"));
        assert_eq!(public[0].kind, "ack");
        let all = s.report_events(r.id, true).await.unwrap();
        assert_eq!(all.len(), public.len() + 1);
        assert!(
            public
                .iter()
                .any(|e| e.to_state == Some(ReportState::Triaged))
        );

        // Bounties count against the budget.
        s.award_bounty(r.id, "bounty", 500, 50, admin, T0 + 6 * HOUR)
            .await
            .unwrap();
        s.award_bounty(r.id, "retest", 50, 0, admin, T0 + 6 * HOUR)
            .await
            .unwrap();
        assert_eq!(s.programme_bounty_total(p.id).await.unwrap(), 600);
        let b = s.report_bounties(r.id).await.unwrap();
        assert_eq!(b[0].status, "pending");
        s.mark_bounty_paid(b[0].id, "wire 42", T0 + 7 * HOUR)
            .await
            .unwrap();
        assert_eq!(s.report_bounties(r.id).await.unwrap()[0].status, "paid");
        assert_eq!(s.report(r.id).await.unwrap().bounty_at, Some(T0 + 6 * HOUR));
    }
}

#[tokio::test]
async fn researchers_see_only_their_own_reports_and_followed_originals() {
    for s in testkit::all().await {
        let (admin, alice, bob) = people(&s).await;
        let p = s
            .create_programme(&settings("dups", Visibility::Public), T0)
            .await
            .unwrap();
        let original = s
            .create_report(
                &report(p.id, alice, "XSS in search"),
                |_| "Thanks!".to_owned(),
                T0,
            )
            .await
            .unwrap();
        let dup = s
            .create_report(
                &report(p.id, bob, "Search box XSS"),
                |_| "Thanks!".to_owned(),
                T0 + HOUR,
            )
            .await
            .unwrap();
        let mine = |u| ReportFilter {
            visible_to_researcher: Some(u),
            ..Default::default()
        };
        assert_eq!(s.list_reports(&mine(alice)).await.unwrap().len(), 1);
        assert!(
            !s.can_see_report(&original, bob, Role::Researcher)
                .await
                .unwrap()
        );
        assert!(
            !s.can_see_report(&original, admin, Role::Engineer)
                .await
                .unwrap()
        );

        // A duplicate without its original is refused with the field named.
        let missing = s
            .change_report_state(
                dup.id,
                &StateChange {
                    to: ReportState::Duplicate,
                    mover: Mover::Team,
                    author_id: Some(admin),
                    reason: "",
                    duplicate_of: None,
                },
                T0 + 2 * HOUR,
            )
            .await
            .unwrap_err();
        assert!(missing.to_string().contains("duplicate_of"), "{missing}");
        s.change_report_state(
            dup.id,
            &StateChange {
                to: ReportState::Duplicate,
                mover: Mover::Team,
                author_id: Some(admin),
                reason: "Reported earlier by another researcher.",
                duplicate_of: Some(original.id),
            },
            T0 + 2 * HOUR,
        )
        .await
        .unwrap();
        // Bob now follows the original, read-only.
        assert!(
            s.can_see_report(&original, bob, Role::Researcher)
                .await
                .unwrap()
        );
        assert_eq!(
            s.list_reports(&mine(bob)).await.unwrap().len(),
            2,
            "{}",
            s.label
        );
        assert_eq!(s.duplicates_of(original.id).await.unwrap().len(), 1);
        assert_eq!(s.report_participants(original.id).await.unwrap(), vec![bob]);
        assert_eq!(
            s.report(dup.id).await.unwrap().duplicate_of,
            Some(original.id)
        );
        // No chains: the original may not be marked a duplicate of its duplicate.
        let chain = s
            .change_report_state(
                original.id,
                &StateChange {
                    to: ReportState::Duplicate,
                    mover: Mover::Team,
                    author_id: Some(admin),
                    reason: "",
                    duplicate_of: Some(dup.id),
                },
                T0 + 3 * HOUR,
            )
            .await
            .unwrap_err();
        assert!(
            chain.to_string().contains("is itself a duplicate"),
            "{chain}"
        );
        // Reopening the duplicate ends Bob's access to the original.
        s.change_report_state(
            dup.id,
            &StateChange {
                to: ReportState::Triaged,
                mover: Mover::Team,
                author_id: Some(admin),
                reason: "Not the same bug after all",
                duplicate_of: None,
            },
            T0 + 4 * HOUR,
        )
        .await
        .unwrap();
        assert!(
            !s.can_see_report(&original, bob, Role::Researcher)
                .await
                .unwrap(),
            "{}",
            s.label
        );
        // Mark it again for the checks below.
        s.change_report_state(
            dup.id,
            &StateChange {
                to: ReportState::Duplicate,
                mover: Mover::Team,
                author_id: Some(admin),
                reason: "It is the same bug",
                duplicate_of: Some(original.id),
            },
            T0 + 5 * HOUR,
        )
        .await
        .unwrap();

        // Notifications are per person.
        s.notify(
            alice,
            Some(original.id),
            "state",
            "Your report was triaged",
            T0,
        )
        .await
        .unwrap();
        assert_eq!(s.notifications(alice, 10).await.unwrap().len(), 1);
        assert!(s.notifications(bob, 10).await.unwrap().is_empty());
        s.mark_notifications_read(alice, T0).await.unwrap();
        assert!(
            s.notifications(alice, 10).await.unwrap()[0]
                .read_at
                .is_some()
        );
    }
}

#[tokio::test]
async fn silent_needs_more_info_reports_are_found_for_closing() {
    for s in testkit::all().await {
        let (admin, alice, _) = people(&s).await;
        let p = s
            .create_programme(&settings("stale", Visibility::Public), T0)
            .await
            .unwrap();
        let r = s
            .create_report(
                &report(p.id, alice, "Open redirect"),
                |_| "Thanks!".to_owned(),
                T0,
            )
            .await
            .unwrap();
        s.change_report_state(
            r.id,
            &StateChange {
                to: ReportState::NeedsMoreInfo,
                mover: Mover::Team,
                author_id: Some(admin),
                reason: "Please send a video.",
                duplicate_of: None,
            },
            T0,
        )
        .await
        .unwrap();
        let day = 24 * HOUR;
        assert!(
            s.stale_needs_info_reports(T0 + 29 * day)
                .await
                .unwrap()
                .is_empty()
        );
        let stale = s.stale_needs_info_reports(T0 + 31 * day).await.unwrap();
        assert_eq!(stale.len(), 1, "{}", s.label);
    }
}
