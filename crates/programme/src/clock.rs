//! Response-target clocks: when each target of a report falls due, whether
//! it was met, and how close a running one is to breaching. The same figures
//! feed the report page, the triage dashboard and the programme's public
//! response-efficiency numbers.

use rampart_core::{ReportState, ResponseTargets, UnixMillis, add_business_days};
use rampart_store::Report;

/// One of the four response targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    FirstResponse,
    Triage,
    Bounty,
    Resolution,
}

impl Target {
    pub fn label(self) -> &'static str {
        match self {
            Target::FirstResponse => "First response",
            Target::Triage => "Triage",
            Target::Bounty => "Bounty",
            Target::Resolution => "Resolution",
        }
    }
}

/// Where one clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    /// Done before the target.
    Met,
    /// Done, but late.
    Missed,
    /// Running; due at the given time.
    Running { due: UnixMillis },
    /// Running and past due.
    Breached { due: UnixMillis },
    /// Waiting on the researcher: the clock does not run.
    Paused,
    /// Does not apply (a closed report never triaged has no resolution clock).
    NotApplicable,
}

/// One target's clock on one report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub target: Target,
    pub state: ClockState,
}

/// Within this long of its due time a running clock counts as "about to
/// breach" on the dashboard.
pub const SOON_MS: i64 = 4 * 3_600_000;

fn clock(
    target: Target,
    start: Option<UnixMillis>,
    done: Option<UnixMillis>,
    days: u32,
    paused_ms: i64,
    running: bool,
    now: UnixMillis,
) -> Clock {
    let state = match (start, done) {
        (None, _) => ClockState::NotApplicable,
        (Some(s), Some(d)) => {
            if d <= add_business_days(s, days) + paused_ms {
                ClockState::Met
            } else {
                ClockState::Missed
            }
        }
        (Some(s), None) => {
            let due = add_business_days(s, days) + paused_ms;
            if !running {
                ClockState::Paused
            } else if now > due {
                ClockState::Breached { due }
            } else {
                ClockState::Running { due }
            }
        }
    };
    Clock { target, state }
}

/// The four clocks of `report` under `targets` at `now`.
pub fn clocks(report: &Report, targets: &ResponseTargets, now: UnixMillis) -> [Clock; 4] {
    let running = report.state.clock_runs();
    let closed_untriaged = !report.state.is_open() && report.triaged_at.is_none();
    // A report closed without triage answered the researcher by closing.
    let closed_at = (!report.state.is_open()).then_some(report.state_since);
    let first_done = report.first_response_at.or(closed_at);
    let triage_done = report.triaged_at.or(closed_at.filter(|_| closed_untriaged));
    let pays = report.state.is_valid_issue() || report.bounty_at.is_some();
    [
        clock(
            Target::FirstResponse,
            Some(report.created_at),
            first_done,
            targets.first_response_days,
            0,
            report.state != ReportState::NeedsMoreInfo,
            now,
        ),
        clock(
            Target::Triage,
            Some(report.created_at),
            triage_done,
            targets.triage_days,
            report.paused_ms,
            running,
            now,
        ),
        clock(
            Target::Bounty,
            report.triaged_at.filter(|_| pays),
            report.bounty_at,
            targets.bounty_days,
            0,
            true,
            now,
        ),
        clock(
            Target::Resolution,
            report.triaged_at,
            report.resolved_at.or(closed_at),
            targets.resolution_days,
            0,
            report.state == ReportState::Triaged,
            now,
        ),
    ]
}

/// The worst clock of a report: breached first, then the one due soonest.
pub fn most_urgent(clocks: &[Clock]) -> Option<Clock> {
    clocks
        .iter()
        .filter(|c| {
            matches!(
                c.state,
                ClockState::Running { .. } | ClockState::Breached { .. }
            )
        })
        .min_by_key(|c| match c.state {
            ClockState::Breached { due } => (0, due),
            ClockState::Running { due } => (1, due),
            _ => (2, 0),
        })
        .copied()
}

/// The median of some durations, or `None` for too few to mean anything
/// (the public page shows figures only once there are enough reports).
pub fn median(mut values: Vec<i64>, at_least: usize) -> Option<i64> {
    if values.len() < at_least.max(1) {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2
    } else {
        values[mid]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONDAY_9: i64 = 1_796_115_600_000 - 86_400_000; // 2026-11-30 09:00 UTC
    const HOUR: i64 = 3_600_000;

    fn report(state: ReportState) -> Report {
        Report {
            id: 1,
            programme_id: 1,
            researcher_id: 2,
            title: "t".into(),
            description: "d".into(),
            steps: String::new(),
            impact: String::new(),
            asset: None,
            out_of_scope: false,
            cwe: None,
            cvss_vector: None,
            researcher_severity: None,
            final_severity: None,
            final_cvss_vector: None,
            state,
            duplicate_of: None,
            assignee_id: None,
            tracker_url: None,
            received_via: "web".into(),
            known_issue: false,
            finding_id: None,
            created_at: MONDAY_9,
            updated_at: MONDAY_9,
            state_since: MONDAY_9,
            paused_ms: 0,
            first_response_at: None,
            triaged_at: None,
            bounty_at: None,
            resolved_at: None,
            disclosure: "none".into(),
            disclosed_at: None,
        }
    }

    #[test]
    fn a_new_report_runs_its_first_clocks_and_breaches_after_a_business_day() {
        let t = ResponseTargets::default();
        let r = report(ReportState::New);
        let c = clocks(&r, &t, MONDAY_9 + HOUR);
        assert_eq!(
            c[0].state,
            ClockState::Running {
                due: MONDAY_9 + 24 * HOUR
            }
        );
        assert_eq!(c[2].state, ClockState::NotApplicable);
        let late = clocks(&r, &t, MONDAY_9 + 25 * HOUR);
        assert!(matches!(late[0].state, ClockState::Breached { .. }));
        assert_eq!(
            most_urgent(&late).map(|c| c.target),
            Some(Target::FirstResponse)
        );
    }

    #[test]
    fn waiting_on_the_researcher_pauses_and_extends_the_triage_clock() {
        let t = ResponseTargets::default();
        let mut r = report(ReportState::NeedsMoreInfo);
        r.first_response_at = Some(MONDAY_9 + HOUR);
        let c = clocks(&r, &t, MONDAY_9 + 100 * HOUR);
        assert_eq!(c[0].state, ClockState::Met);
        assert_eq!(c[1].state, ClockState::Paused);
        // Back with the team after 72 paused hours: the due time moves.
        r.state = ReportState::New;
        r.paused_ms = 72 * HOUR;
        let c = clocks(&r, &t, MONDAY_9 + 60 * HOUR);
        assert_eq!(
            c[1].state,
            ClockState::Running {
                due: MONDAY_9 + 48 * HOUR + 72 * HOUR
            }
        );
    }

    #[test]
    fn closed_reports_have_met_or_missed_clocks() {
        let t = ResponseTargets::default();
        let mut r = report(ReportState::Resolved);
        r.first_response_at = Some(MONDAY_9 + HOUR);
        r.triaged_at = Some(MONDAY_9 + 2 * HOUR);
        r.resolved_at = Some(MONDAY_9 + 90 * 24 * HOUR);
        r.bounty_at = Some(MONDAY_9 + 3 * HOUR);
        let c = clocks(&r, &t, MONDAY_9 + 100 * 24 * HOUR);
        assert_eq!(
            c.map(|c| c.state),
            [
                ClockState::Met,
                ClockState::Met,
                ClockState::Met,
                ClockState::Missed
            ]
        );
        assert_eq!(most_urgent(&c), None);
    }

    #[test]
    fn medians_need_enough_values() {
        assert_eq!(median(vec![3, 1, 2], 3), Some(2));
        assert_eq!(median(vec![4, 1, 2, 3], 3), Some(2));
        assert_eq!(median(vec![1, 2], 3), None);
    }
}
