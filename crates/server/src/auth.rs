//! Who is calling: the `AuthUser` extractor every protected handler takes, from a
//! bearer token whose session must still be alive, and role checks.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::Utc;
use itv_core::Role;

use crate::error::ApiError;
use crate::sessions::{LiveSession, SessionError};
use crate::state::AppState;
use crate::store::User;

pub const MSG_NO_TOKEN: &str = "Authentification requise";
pub const MSG_BAD_TOKEN: &str = "Session invalide ou expirée, veuillez vous reconnecter";
pub const MSG_BAD_CREDENTIALS: &str = "Email ou mot de passe incorrect";
pub const MSG_DISABLED: &str = "Ce compte est désactivé ; contactez un administrateur";

/// The signed-in caller: their user as the store has it now, and their session.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    pub session_id: String,
}

impl AuthUser {
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    pub fn id(&self) -> &str {
        &self.user.id
    }

    pub fn role(&self) -> Role {
        self.user.role
    }
}

impl From<SessionError> for ApiError {
    fn from(e: SessionError) -> ApiError {
        match e {
            SessionError::Unknown => ApiError::Unauthorized(MSG_BAD_TOKEN),
            SessionError::Ended(reason) => ApiError::SessionEnded(reason),
            SessionError::Store(s) => s.into(),
        }
    }
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Checks a token and its session: the signature, then the store (through the
/// sessions cache, which answers without a thread hop when it can).
pub async fn authenticate(state: &AppState, token: &str) -> Result<LiveSession, ApiError> {
    let claims = state
        .keys
        .verify(token)
        .map_err(|_| ApiError::Unauthorized(MSG_BAD_TOKEN))?;
    let now = Utc::now();
    if let Some(live) = state.sessions.cached(&claims.session_id, now) {
        return Ok(live);
    }
    let sessions = state.sessions.clone();
    let live =
        tokio::task::spawn_blocking(move || sessions.check(&claims.session_id, now)).await??;
    Ok(live)
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(ApiError::Unauthorized(MSG_NO_TOKEN))?;
        let live = authenticate(state, token).await?;
        Ok(AuthUser {
            user: live.user,
            session_id: live.session_id,
        })
    }
}
