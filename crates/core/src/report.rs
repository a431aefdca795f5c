//! Vulnerability reports from researchers: the workflow states researchers
//! know from the large platforms, the one table of allowed transitions, and
//! whose turn it is.
//!
//! The vocabulary follows HackerOne's (new, triaged, needs more info,
//! retesting, resolved, informative, duplicate, not applicable, spam) with
//! Bugcrowd's extra closing states (out of scope, not reproducible, won't
//! fix), because researchers move between platforms and should not have to
//! learn new words here.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a report is in its life.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Submitted, not yet looked at by the team.
    New,
    /// The team asked the researcher for more; the response clocks pause.
    NeedsMoreInfo,
    /// Confirmed as a valid issue; the fix is on the team.
    Triaged,
    /// The team believes it is fixed and asked the researcher to check.
    Retesting,
    /// Fixed (and verified, by a retest or by the team).
    Resolved,
    /// Correct but not a security issue worth acting on.
    Informative,
    /// The same issue as an earlier report.
    Duplicate,
    /// Not a vulnerability.
    NotApplicable,
    /// Against an asset the programme excludes.
    OutOfScope,
    /// The team could not reproduce it.
    NotReproducible,
    /// Accepted as real, but the company will not fix it.
    WontFix,
    /// Abuse of the programme.
    Spam,
}

/// A state name Rampart does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown report state {0:?}: use new, needs_more_info, triaged, retesting, resolved, informative, duplicate, not_applicable, out_of_scope, not_reproducible, wont_fix or spam"
)]
pub struct UnknownReportState(pub String);

/// Who moves a report from one state to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    /// A triager or admin.
    Team,
    /// The report's own researcher.
    Researcher,
    /// Rampart itself (answers reopening a needs-more-info report, the
    /// automatic close after a silence).
    System,
}

/// Whose move it is: shown on every report so nobody waits on nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Turn {
    Team,
    Researcher,
    /// Closed: nobody owes anything.
    Nobody,
}

/// A transition the table does not allow, in words for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a report cannot go from {from} to {to}{hint}")]
pub struct TransitionError {
    pub from: ReportState,
    pub to: ReportState,
    hint: &'static str,
}

impl ReportState {
    pub const ALL: [ReportState; 12] = [
        ReportState::New,
        ReportState::NeedsMoreInfo,
        ReportState::Triaged,
        ReportState::Retesting,
        ReportState::Resolved,
        ReportState::Informative,
        ReportState::Duplicate,
        ReportState::NotApplicable,
        ReportState::OutOfScope,
        ReportState::NotReproducible,
        ReportState::WontFix,
        ReportState::Spam,
    ];

    /// The closing states the team picks from when it turns a report down.
    pub const REJECTIONS: [ReportState; 7] = [
        ReportState::Informative,
        ReportState::Duplicate,
        ReportState::NotApplicable,
        ReportState::OutOfScope,
        ReportState::NotReproducible,
        ReportState::WontFix,
        ReportState::Spam,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::New => "new",
            ReportState::NeedsMoreInfo => "needs_more_info",
            ReportState::Triaged => "triaged",
            ReportState::Retesting => "retesting",
            ReportState::Resolved => "resolved",
            ReportState::Informative => "informative",
            ReportState::Duplicate => "duplicate",
            ReportState::NotApplicable => "not_applicable",
            ReportState::OutOfScope => "out_of_scope",
            ReportState::NotReproducible => "not_reproducible",
            ReportState::WontFix => "wont_fix",
            ReportState::Spam => "spam",
        }
    }

    /// A label for people, in the platforms' words.
    pub fn label(self) -> &'static str {
        match self {
            ReportState::New => "New",
            ReportState::NeedsMoreInfo => "Needs more info",
            ReportState::Triaged => "Triaged",
            ReportState::Retesting => "Retesting",
            ReportState::Resolved => "Resolved",
            ReportState::Informative => "Informative",
            ReportState::Duplicate => "Duplicate",
            ReportState::NotApplicable => "Not applicable",
            ReportState::OutOfScope => "Out of scope",
            ReportState::NotReproducible => "Not reproducible",
            ReportState::WontFix => "Won't fix",
            ReportState::Spam => "Spam",
        }
    }

    /// Open reports still need someone to act.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ReportState::New
                | ReportState::NeedsMoreInfo
                | ReportState::Triaged
                | ReportState::Retesting
        )
    }

    /// Whether a report in this state counts as a valid finding for the
    /// researcher (thanks page, reputation, bounty eligibility).
    pub fn is_valid_issue(self) -> bool {
        matches!(
            self,
            ReportState::Triaged | ReportState::Retesting | ReportState::Resolved
        )
    }

    /// Whose turn it is in this state.
    pub fn turn(self) -> Turn {
        match self {
            ReportState::New | ReportState::Triaged => Turn::Team,
            ReportState::NeedsMoreInfo | ReportState::Retesting => Turn::Researcher,
            _ => Turn::Nobody,
        }
    }

    /// Whether response clocks run in this state. They pause while the team
    /// waits on the researcher, as the large platforms do, so a silent
    /// researcher does not count against the team's figures.
    pub fn clock_runs(self) -> bool {
        matches!(self, ReportState::New | ReportState::Triaged)
    }

    /// The states `mover` may move a report in this state to.
    ///
    /// This is the whole workflow; every state change in Rampart goes
    /// through [`ReportState::check_transition`], which reads this table.
    pub fn next_states(self, mover: Mover) -> &'static [ReportState] {
        use ReportState::*;
        match (mover, self) {
            (Mover::Team, New) => &[
                Triaged,
                NeedsMoreInfo,
                Informative,
                Duplicate,
                NotApplicable,
                OutOfScope,
                NotReproducible,
                WontFix,
                Spam,
            ],
            (Mover::Team, NeedsMoreInfo) => &[
                New,
                Triaged,
                Informative,
                Duplicate,
                NotApplicable,
                OutOfScope,
                NotReproducible,
                WontFix,
                Spam,
            ],
            // Resolving asks for verification: a retest by the researcher,
            // or the team's own (straight to resolved).
            (Mover::Team, Triaged) => &[
                NeedsMoreInfo,
                Retesting,
                Resolved,
                Informative,
                Duplicate,
                WontFix,
            ],
            // The team may cancel a retest or judge it itself.
            (Mover::Team, Retesting) => &[Triaged, Resolved],
            // Reopen: any closed report can be looked at again.
            (
                Mover::Team,
                Resolved | Informative | Duplicate | NotApplicable | OutOfScope | NotReproducible
                | WontFix | Spam,
            ) => &[New, Triaged],
            // The researcher answers a request for information (back to the
            // team) and passes or fails a retest. Nothing else: a researcher
            // never closes or triages their own report.
            (Mover::Researcher, NeedsMoreInfo) => &[New],
            (Mover::Researcher, Retesting) => &[Resolved, Triaged],
            (Mover::Researcher, _) => &[],
            // Rampart closes a needs-more-info report after the configured
            // silence, and moves a report back when its researcher answers.
            (Mover::System, NeedsMoreInfo) => &[New, Triaged, NotApplicable],
            (Mover::System, _) => &[],
        }
    }

    /// Checks one transition against the table, explaining a refusal.
    pub fn check_transition(self, to: ReportState, mover: Mover) -> Result<(), TransitionError> {
        if self.next_states(mover).contains(&to) {
            return Ok(());
        }
        let hint = match (mover, self, to) {
            (_, a, b) if a == b => ": it is already there",
            (Mover::Researcher, _, _) => {
                ": researchers answer requests for information and retests; the team changes everything else"
            }
            (Mover::Team, ReportState::New | ReportState::NeedsMoreInfo, ReportState::Resolved) => {
                ": triage it first"
            }
            (
                Mover::Team,
                ReportState::New | ReportState::NeedsMoreInfo,
                ReportState::Retesting,
            ) => ": triage it first; a retest checks a fix",
            (Mover::Team, from, _) if !from.is_open() => ": reopen it first (to new or triaged)",
            _ => "",
        };
        Err(TransitionError {
            from: self,
            to,
            hint,
        })
    }
}

impl fmt::Display for ReportState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for ReportState {
    type Err = UnknownReportState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReportState::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownReportState(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReportState::*;

    #[test]
    fn names_round_trip() {
        for s in ReportState::ALL {
            assert_eq!(s.as_str().parse::<ReportState>(), Ok(s));
            let json = serde_json::to_string(&s).expect("serialises");
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert!("closed".parse::<ReportState>().is_err());
    }

    #[test]
    fn the_happy_path_of_a_report_is_allowed() {
        let path = [
            (New, NeedsMoreInfo, Mover::Team),
            (NeedsMoreInfo, New, Mover::Researcher),
            (New, Triaged, Mover::Team),
            (Triaged, Retesting, Mover::Team),
            (Retesting, Resolved, Mover::Researcher),
        ];
        for (from, to, who) in path {
            assert_eq!(from.check_transition(to, who), Ok(()), "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn researchers_cannot_triage_close_or_reopen() {
        for from in ReportState::ALL {
            for to in [
                Triaged,
                Informative,
                Duplicate,
                NotApplicable,
                Spam,
                WontFix,
            ] {
                if from == Retesting && to == Triaged {
                    continue; // a failed retest reopens
                }
                assert!(
                    from.check_transition(to, Mover::Researcher).is_err(),
                    "researcher moved {from:?} -> {to:?}"
                );
            }
        }
    }

    #[test]
    fn a_failed_retest_reopens_and_any_closed_report_can_be_reopened() {
        assert_eq!(
            Retesting.check_transition(Triaged, Mover::Researcher),
            Ok(())
        );
        for closed in ReportState::ALL.into_iter().filter(|s| !s.is_open()) {
            assert_eq!(closed.check_transition(Triaged, Mover::Team), Ok(()));
            assert_eq!(closed.check_transition(New, Mover::Team), Ok(()));
            let refusal = closed
                .check_transition(Retesting, Mover::Team)
                .expect_err("closed reports are reopened first");
            assert!(refusal.to_string().contains("reopen"), "{refusal}");
        }
    }

    #[test]
    fn nothing_moves_to_its_own_state_and_untriaged_reports_are_not_resolved() {
        for s in ReportState::ALL {
            for who in [Mover::Team, Mover::Researcher, Mover::System] {
                assert!(!s.next_states(who).contains(&s), "{s:?} -> itself");
            }
        }
        let refusal = New
            .check_transition(Resolved, Mover::Team)
            .expect_err("must be triaged first");
        assert_eq!(
            refusal.to_string(),
            "a report cannot go from New to Resolved: triage it first"
        );
    }

    #[test]
    fn clocks_pause_while_waiting_on_the_researcher() {
        assert!(New.clock_runs() && Triaged.clock_runs());
        assert!(!NeedsMoreInfo.clock_runs() && !Retesting.clock_runs());
        assert_eq!(NeedsMoreInfo.turn(), Turn::Researcher);
        assert_eq!(New.turn(), Turn::Team);
        assert_eq!(Spam.turn(), Turn::Nobody);
    }

    #[test]
    fn every_state_is_reachable_from_new() {
        let mut seen = vec![New];
        let mut i = 0;
        while i < seen.len() {
            for who in [Mover::Team, Mover::Researcher, Mover::System] {
                for &n in seen[i].next_states(who) {
                    if !seen.contains(&n) {
                        seen.push(n);
                    }
                }
            }
            i += 1;
        }
        assert_eq!(seen.len(), ReportState::ALL.len());
    }
}
