use rampart_core::{Action, Role, ScopeSet, permits};

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Via {
    /// A browser session (cookie). `id_hash` identifies the session row.
    Session { id_hash: String, csrf: String },
    /// An API token sent as `Authorization: Bearer`.
    Token { id: i64, name: String },
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account, or `None` for a service token.
    pub user_id: Option<i64>,
    /// A label for logs and the audit trail: the email, or `token:NAME`.
    pub label: String,
    pub email: Option<String>,
    pub role: Role,
    pub scopes: ScopeSet,
    pub via: Via,
}

impl Principal {
    /// The coarse check: role and scopes both allow the action.
    pub fn can(&self, action: Action) -> bool {
        permits(self.role, &self.scopes, action)
    }

    /// Whether an engineer's view must be narrowed to their assignments.
    pub fn sees_only_assigned(&self) -> bool {
        self.role == Role::Engineer
    }

    pub fn session_csrf(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf, .. } => Some(csrf),
            Via::Token { .. } => None,
        }
    }

    pub fn session_id_hash(&self) -> Option<&str> {
        match &self.via {
            Via::Session { id_hash, .. } => Some(id_hash),
            Via::Token { .. } => None,
        }
    }

    pub fn actor_label(&self) -> String {
        match &self.via {
            Via::Session { .. } => self.label.clone(),
            Via::Token { name, .. } => match &self.email {
                Some(e) => format!("{e} (token {name})"),
                None => format!("token:{name}"),
            },
        }
    }
}
