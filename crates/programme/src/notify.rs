//! The one notification interface. The programme says *what* happened and
//! *to whom*; channels decide how it reaches them. The in-app list is always
//! on; email, Slack and webhooks plug in as further [`Notifier`]s.

use rampart_core::UnixMillis;
use rampart_store::{Store, StoreError};
use std::future::Future;
use std::pin::Pin;

/// What happened, for the message and for channels that filter by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// A new report arrived (to the team).
    ReportReceived,
    /// The report's acknowledgement (to its researcher).
    Acknowledged,
    /// A researcher-visible comment.
    Comment,
    /// The report's state changed.
    StateChanged,
    /// A retest was requested.
    RetestRequested,
    BountyAwarded,
    /// An invitation to a private programme.
    Invited,
    /// A report was marked a duplicate; its reporter now follows the original.
    Duplicate,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::ReportReceived => "report_received",
            NoticeKind::Acknowledged => "acknowledged",
            NoticeKind::Comment => "comment",
            NoticeKind::StateChanged => "state_changed",
            NoticeKind::RetestRequested => "retest_requested",
            NoticeKind::BountyAwarded => "bounty_awarded",
            NoticeKind::Invited => "invited",
            NoticeKind::Duplicate => "duplicate",
        }
    }
}

/// One message to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub user_id: i64,
    pub report_id: Option<i64>,
    pub kind: NoticeKind,
    /// One sentence for lists and subjects.
    pub message: String,
    pub at: UnixMillis,
    /// The Message-ID (without angle brackets) this notice answers: for the
    /// acknowledgement of a report that came by mail, the researcher's own
    /// message, so that their mail client shows one conversation.
    pub in_reply_to: Option<String>,
}

/// A delivery channel. Implementations must not lose a notice they accept:
/// a channel that can fail (mail, webhooks) queues and retries.
pub trait Notifier: Send + Sync {
    /// The channel's name for logs.
    fn name(&self) -> &'static str;
    fn deliver<'a>(
        &'a self,
        notice: &'a Notice,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;
}

/// The in-app notification list (always on).
pub struct InApp {
    pub store: Store,
}

impl Notifier for InApp {
    fn name(&self) -> &'static str {
        "in-app"
    }

    fn deliver<'a>(
        &'a self,
        n: &'a Notice,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>> {
        Box::pin(async move {
            self.store
                .notify(n.user_id, n.report_id, n.kind.as_str(), &n.message, n.at)
                .await
        })
    }
}
