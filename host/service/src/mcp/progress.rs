//! `notifications/progress` for a submission whose caller gave a `progressToken`:
//! queued (1 of 3), evaluating (2 of 3), decided (3 of 3).

use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::{Peer, RequestContext};
use tokio::sync::oneshot;

use crate::service::{Decided, Service};

/// How often the phase of a queued submission is looked at.
const POLL: Duration = Duration::from_millis(100);

/// Where progress of one call goes.
pub(super) struct Progress {
    peer: Peer<RoleServer>,
    token: ProgressToken,
}

impl Progress {
    /// The progress channel of a call, when its caller asked for one.
    pub(super) fn of(context: &RequestContext<RoleServer>) -> Option<Progress> {
        let token = context.meta.get_progress_token()?;
        Some(Progress { peer: context.peer.clone(), token })
    }

    async fn notify(&self, step: f64, message: &str) {
        let param = ProgressNotificationParam::new(self.token.clone(), step).with_total(3.0).with_message(message);
        if let Err(e) = self.peer.notify_progress(param).await {
            tracing::debug!("progress notification not delivered: {e}");
        }
    }

    /// Waits for the decision of `id`'s submission, telling the caller when it is
    /// queued, when its evaluation starts and when it is decided.
    pub(super) async fn follow(
        self,
        service: &std::sync::Arc<Service>,
        id: &str,
        mut answer: oneshot::Receiver<Result<Decided, String>>,
    ) -> Result<Result<Decided, String>, oneshot::error::RecvError> {
        self.notify(1.0, "queued").await;
        let mut evaluating = false;
        let result = loop {
            tokio::select! {
                result = &mut answer => break result,
                () = tokio::time::sleep(POLL), if !evaluating => {
                    if service.phase(id).as_deref() == Some("evaluating") {
                        evaluating = true;
                        self.notify(2.0, "evaluating").await;
                    }
                }
            }
        };
        if let Ok(Ok(decided)) = &result {
            self.notify(3.0, &format!("{}: decision recorded", decided.status)).await;
        }
        result
    }
}
