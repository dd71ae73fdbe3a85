//! What the engine does when the server ends its session, once, from wherever it learns it
//! (the feed's `session_ended` frame, a 401 from the API or the outbox): stop syncing, forget
//! the secret, tell the UI, raise one critical notification. And the engine's calls about
//! sessions and accounts (own sessions, password, sign-out, the admins' accounts screen).

use std::sync::Arc;
use std::time::Duration;

use crate::accounts::{Account, AccountPatch, NewAccount, SessionEnd, SessionInfo, SignOutOutcome};
use crate::engine::{Engine, Inner, SessionCtx};
use crate::error::{Error, Result};
use crate::notify::Notice;
use crate::secrets::account_key;
use crate::types::{ConnectionState, EngineEvent};

/// How long sign-out waits for the server before forgetting the session locally anyway.
const LOGOUT_TIMEOUT: Duration = Duration::from_secs(5);

/// The session of `ctx` is over. Only the first caller for that token acts (the feed and
/// the outbox may both notice): it stops the sync, forgets the secret, emits
/// `SessionChanged(None)` and `SessionEnded`, and shows the critical notice.
pub(crate) async fn session_lost(inner: &Arc<Inner>, ctx: &SessionCtx, end: SessionEnd) {
    let token = ctx.api.token().map(str::to_owned);
    let mine = inner.session_tx.send_if_modified(|cur| {
        let same = cur
            .as_ref()
            .is_some_and(|c| c.api.token().map(str::to_owned) == token);
        if same {
            *cur = None;
        }
        same
    });
    if !mine {
        return; // already handled, or another session took its place
    }
    // The sync task that noticed may be cancelled by the very change above (it waits on the
    // session watch): finish in a task of its own so the UI and the alert always follow.
    let (inner, ctx) = (inner.clone(), ctx.clone());
    let finish = tokio::spawn(async move {
        tracing::warn!(code = %end.code, reason = ?end.reason, message = %end.message, "session ended by the server");
        *inner.session.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let key = account_key(ctx.api.base(), &ctx.user.email);
        let inner2 = inner.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || inner2.secrets.delete(&key)).await {
            tracing::warn!(error = %e, "could not forget the session secret");
        }
        inner.set_connection(ConnectionState::SignedOut);
        inner.emit(EngineEvent::SessionChanged { session: None });
        inner.emit(EngineEvent::SessionEnded { end: end.clone() });
        let (summary, body) = end.notice_text();
        let notice = Notice {
            key: format!("session-ended:{}", crate::engine::unix_now()),
            request_id: None,
            critical: true,
            summary,
            body,
            acknowledge: false,
        };
        crate::delivery::show(&inner, notice).await;
    });
    let _ = finish.await;
}

/// Passes `result` through; when it says the session is over, ends it first.
pub(crate) async fn checked<T>(
    inner: &Arc<Inner>,
    ctx: &SessionCtx,
    result: Result<T>,
) -> Result<T> {
    if let Err(e) = &result
        && let Some(end) = SessionEnd::from_error(e)
    {
        session_lost(inner, ctx, end).await;
    }
    result
}

impl Engine {
    fn signed_in(&self) -> Result<SessionCtx> {
        self.inner().ctx().ok_or(Error::NotSignedIn)
    }

    /// The user's live sessions, this one marked `current`.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>> {
        let ctx = self.signed_in()?;
        checked(self.inner(), &ctx, ctx.api.sessions().await).await
    }

    /// Ends one of the user's sessions (another device). Ending this one is signing out.
    pub async fn end_session(&self, id: &str) -> Result<()> {
        let ctx = self.signed_in()?;
        let current = self
            .sessions()
            .await?
            .into_iter()
            .any(|s| s.current && s.id == id);
        if current {
            self.sign_out().await?;
            return Ok(());
        }
        checked(self.inner(), &ctx, ctx.api.end_session(id).await).await
    }

    /// Changes the user's password; the server ends every other session. A wrong current
    /// password or a weak new one comes back as a refusal naming the field.
    pub async fn change_password(&self, current: &str, new: &str) -> Result<String> {
        let ctx = self.signed_in()?;
        checked(
            self.inner(),
            &ctx,
            ctx.api.change_password(current, new).await,
        )
        .await
    }

    /// Every account (admins).
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        let ctx = self.signed_in()?;
        checked(self.inner(), &ctx, ctx.api.accounts().await).await
    }

    pub async fn create_account(&self, new: NewAccount) -> Result<Account> {
        let new = NewAccount {
            name: new.name.trim().to_owned(),
            email: new.email.trim().to_owned(),
            ..new
        };
        let ctx = self.signed_in()?;
        checked(self.inner(), &ctx, ctx.api.create_account(&new).await).await
    }

    /// Renames, changes the role of, deactivates or reactivates an account (admins).
    pub async fn update_account(&self, id: &str, patch: AccountPatch) -> Result<Account> {
        let ctx = self.signed_in()?;
        checked(self.inner(), &ctx, ctx.api.update_account(id, &patch).await).await
    }

    /// Sets a new password on an account (admins); that account's sessions end.
    pub async fn reset_password(&self, id: &str, password: &str) -> Result<String> {
        let ctx = self.signed_in()?;
        checked(
            self.inner(),
            &ctx,
            ctx.api.reset_password(id, password).await,
        )
        .await
    }

    /// Signs out: stops syncing, asks the server to end the session (`POST /api/auth/logout`,
    /// a few seconds at most), and forgets the secret (OS store and memory) whatever the
    /// server said. Offline, the session is forgotten here and the outcome says the server
    /// was not told. The cache stays (read-only) until another account signs in.
    pub async fn sign_out(&self) -> Result<SignOutOutcome> {
        let inner = self.inner();
        let ctx = inner.session_tx.send_replace(None);
        *inner.session.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let outcome = match &ctx {
            None => SignOutOutcome {
                ended_on_server: false,
                detail: None,
            },
            Some(ctx) => match tokio::time::timeout(LOGOUT_TIMEOUT, ctx.api.logout()).await {
                Ok(Ok(())) => SignOutOutcome {
                    ended_on_server: true,
                    detail: None,
                },
                // Already ended there: nothing left to end.
                Ok(Err(e)) if SessionEnd::from_error(&e).is_some() => SignOutOutcome {
                    ended_on_server: true,
                    detail: None,
                },
                Ok(Err(e)) => SignOutOutcome {
                    ended_on_server: false,
                    detail: Some(e.to_string()),
                },
                Err(_) => SignOutOutcome {
                    ended_on_server: false,
                    detail: Some("server did not answer in time".into()),
                },
            },
        };
        let account = inner.cache().account()?;
        if let Some(a) = account {
            let key = account_key(&a.server_url, &a.user.email);
            let inner2 = inner.clone();
            tokio::task::spawn_blocking(move || inner2.secrets.delete(&key)).await?;
        }
        inner.set_connection(ConnectionState::SignedOut);
        inner.emit(EngineEvent::SessionChanged { session: None });
        tracing::info!(?outcome, "signed out");
        Ok(outcome)
    }
}
