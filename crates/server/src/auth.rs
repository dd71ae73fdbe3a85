//! Authentication: argon2 password hashes, JWT session tokens, the `AuthUser`
//! extractor every protected handler takes, and role checks.

use std::path::Path;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use itv_core::Role;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::error::ApiError;
use crate::store::User;

pub const MSG_NO_TOKEN: &str = "Authentification requise";
pub const MSG_BAD_TOKEN: &str = "Session invalide ou expirée, veuillez vous reconnecter";
pub const MSG_BAD_CREDENTIALS: &str = "Email ou mot de passe incorrect";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    name: String,
    email: String,
    role: Role,
    iat: i64,
    exp: i64,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl_hours: u64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    pub fn new(secret: &[u8], ttl_hours: u64) -> TokenKeys {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl_hours,
        }
    }

    pub fn issue(&self, user: &User) -> Result<String, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user.id.clone(),
            name: user.name.clone(),
            email: user.email.clone(),
            role: user.role,
            iat: now,
            exp: now + (self.ttl_hours as i64) * 3600,
        };
        encode(&Header::default(), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    pub fn verify(&self, token: &str) -> Result<User, ApiError> {
        let data = decode::<Claims>(token, &self.decoding, &Validation::default())
            .map_err(|_| ApiError::Unauthorized(MSG_BAD_TOKEN))?;
        Ok(User {
            id: data.claims.sub,
            name: data.claims.name,
            email: data.claims.email,
            role: data.claims.role,
        })
    }
}

/// The JWT secret: given, or read from the data dir, or generated there on first start.
pub fn load_or_create_secret(data_dir: &Path, given: Option<&str>) -> std::io::Result<Vec<u8>> {
    if let Some(s) = given {
        return Ok(s.as_bytes().to_vec());
    }
    let path = data_dir.join("jwt-secret");
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() >= 32 => Ok(bytes),
        _ => {
            let mut bytes = [0u8; 48];
            getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            std::fs::create_dir_all(data_dir)?;
            write_private(&path, hex.as_bytes())?;
            Ok(hex.into_bytes())
        }
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(e.to_string()))?;
    let salt = SaltString::encode_b64(&bytes).map_err(|e| ApiError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Checks a password; with no stored hash it still does the work, so a wrong email
/// and a wrong password take the same time.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default());
    let hash = stored.unwrap_or(dummy);
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && stored.is_some()
}

/// The signed-in caller, from `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

impl AuthUser {
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    pub fn id(&self) -> &str {
        &self.0.id
    }

    pub fn role(&self) -> Role {
        self.0.role
    }
}

pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized(MSG_NO_TOKEN))?;
        state.keys.verify(token).map(AuthUser)
    }
}
