//! Who may do what: roles for people, scopes for API tokens, and the one
//! function that combines them. Object-level checks (is this finding assigned
//! to this engineer?) live with the objects; this module answers the coarse
//! question first so every handler asks it the same way.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A person's role. Ordered from most to least trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Configures programmes and users; can do everything.
    Admin,
    /// The security team: triages reports and findings.
    Triager,
    /// Sees and works on what is assigned to them.
    Engineer,
    /// An outside reporter: sees only their own reports.
    Researcher,
}

/// A role name that Rampart does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: use one of admin, triager, engineer, researcher")]
pub struct UnknownRole(pub String);

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Triager, Role::Engineer, Role::Researcher];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Triager => "triager",
            Role::Engineer => "engineer",
            Role::Researcher => "researcher",
        }
    }

    /// Whether people with this role belong to the company's own team (and so
    /// should be held to two-factor and internal-only views).
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Researcher)
    }

    /// What the role allows, before token scopes narrow it.
    pub fn allows(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Admin => true,
            Role::Triager => !matches!(action, ManageUsers | ReadAuditLog | WritePrograms),
            // Object checks narrow these to the engineer's own assignments.
            Role::Engineer => matches!(action, ReadFindings | UpdateFindings | ReadReports),
            Role::Researcher => matches!(action, ReadReports | WriteReports),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Something a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ReadFindings,
    /// Change status of a finding.
    UpdateFindings,
    /// Assign findings to people.
    AssignFindings,
    /// Create findings in bulk (JSON batches, SARIF).
    IngestFindings,
    ReadReports,
    WriteReports,
    /// Invite researchers to a private programme.
    InviteResearchers,
    WritePrograms,
    ManageUsers,
    ReadAuditLog,
}

impl Action {
    /// The token scope that grants this action.
    pub fn scope(self) -> Scope {
        match self {
            Action::ReadFindings => Scope::FindingsRead,
            Action::UpdateFindings | Action::AssignFindings | Action::IngestFindings => {
                Scope::FindingsWrite
            }
            Action::ReadReports => Scope::ReportsRead,
            Action::WriteReports => Scope::ReportsWrite,
            Action::WritePrograms | Action::InviteResearchers => Scope::ProgramsWrite,
            // Administration is never delegated to a narrow token.
            Action::ManageUsers | Action::ReadAuditLog => Scope::All,
        }
    }
}

/// A permission an API token carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Scope {
    #[serde(rename = "findings:read")]
    FindingsRead,
    #[serde(rename = "findings:write")]
    FindingsWrite,
    #[serde(rename = "reports:read")]
    ReportsRead,
    #[serde(rename = "reports:write")]
    ReportsWrite,
    #[serde(rename = "programs:write")]
    ProgramsWrite,
    /// Everything the token owner's role allows.
    #[serde(rename = "all")]
    All,
}

/// A scope name that Rampart does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown scope {0:?}: use findings:read, findings:write, reports:read, reports:write, programs:write or all"
)]
pub struct UnknownScope(pub String);

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::FindingsRead,
        Scope::FindingsWrite,
        Scope::ReportsRead,
        Scope::ReportsWrite,
        Scope::ProgramsWrite,
        Scope::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::FindingsRead => "findings:read",
            Scope::FindingsWrite => "findings:write",
            Scope::ReportsRead => "reports:read",
            Scope::ReportsWrite => "reports:write",
            Scope::ProgramsWrite => "programs:write",
            Scope::All => "all",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

/// The scopes of one token (or of a browser session, which has `all`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    pub fn all() -> Self {
        ScopeSet(vec![Scope::All])
    }

    pub fn new(mut scopes: Vec<Scope>) -> Self {
        scopes.sort();
        scopes.dedup();
        ScopeSet(scopes)
    }

    /// Parses the space-separated form stored in the database.
    pub fn parse(s: &str) -> Result<Self, UnknownScope> {
        let scopes = s
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ScopeSet::new(scopes))
    }

    pub fn grants(&self, scope: Scope) -> bool {
        self.0.contains(&Scope::All) || self.0.contains(&scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(" "))
    }
}

/// The one authorisation rule for coarse actions: the role must allow it and
/// the credential's scopes must grant it. A token never exceeds its owner.
pub fn permits(role: Role, scopes: &ScopeSet, action: Action) -> bool {
    role.allows(action) && scopes.grants(action.scope())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_never_exceeds_role() {
        let all = ScopeSet::all();
        assert!(!permits(Role::Researcher, &all, Action::ReadFindings));
        assert!(!permits(Role::Engineer, &all, Action::IngestFindings));
        assert!(!permits(Role::Triager, &all, Action::ManageUsers));
        assert!(permits(Role::Admin, &all, Action::ManageUsers));
        assert!(permits(Role::Triager, &all, Action::InviteResearchers));
        assert!(!permits(Role::Triager, &all, Action::WritePrograms));
        assert!(!permits(Role::Researcher, &all, Action::InviteResearchers));
        assert!(!permits(Role::Engineer, &all, Action::InviteResearchers));
    }

    #[test]
    fn scopes_narrow_roles() {
        let read = ScopeSet::parse("findings:read").unwrap();
        assert!(permits(Role::Admin, &read, Action::ReadFindings));
        assert!(!permits(Role::Admin, &read, Action::IngestFindings));
        assert!(!permits(Role::Admin, &read, Action::ManageUsers));
        let write = ScopeSet::parse("findings:write findings:write").unwrap();
        assert_eq!(write.to_string(), "findings:write");
        assert!(permits(Role::Triager, &write, Action::IngestFindings));
    }

    #[test]
    fn parse_rejects_unknown_scopes() {
        assert!(ScopeSet::parse("findings:read bogus").is_err());
        assert!(ScopeSet::parse("").unwrap().is_empty());
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
