//! Session tokens: a signed JWT that names its session. The token proves who signed
//! in and when; whether the session is still alive is the store's to say (`sessions`).

use std::path::Path;

use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::store::SessionRecord;

/// Shorter secrets are refused: HS256 wants at least 256 bits of key.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The user's id.
    sub: String,
    /// The session's id.
    sid: String,
    iat: i64,
    exp: i64,
}

/// What a valid signature vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    pub user_id: String,
    pub session_id: String,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not valid")]
    Invalid,
    #[error("cannot sign a token: {0}")]
    Sign(String),
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> TokenKeys {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// A token for `session`, valid until the session's longest life (`hard_end`).
    pub fn issue(
        &self,
        session: &SessionRecord,
        hard_end: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, TokenError> {
        let claims = Claims {
            sub: session.user_id.clone(),
            sid: session.id.clone(),
            iat: session.created_at.timestamp(),
            exp: hard_end.timestamp(),
        };
        encode(&Header::default(), &claims, &self.encoding)
            .map_err(|e| TokenError::Sign(e.to_string()))
    }

    pub fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let data = decode::<Claims>(token, &self.decoding, &Validation::default())
            .map_err(|_| TokenError::Invalid)?;
        Ok(TokenClaims {
            user_id: data.claims.sub,
            session_id: data.claims.sid,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the JWT secret must be at least {MIN_SECRET_BYTES} bytes long (given: {0})")]
    TooShort(usize),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The data dir's file holding the generated JWT secret.
pub const SECRET_FILE: &str = "jwt-secret";

/// The JWT secret kept in the data dir, generated there on first start (mode 0600).
pub fn load_or_create_secret(data_dir: &Path) -> std::io::Result<Vec<u8>> {
    let path = data_dir.join(SECRET_FILE);
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() >= MIN_SECRET_BYTES => Ok(bytes),
        _ => {
            let hex = new_secret()?;
            create_private_dir(data_dir)?;
            write_private(&path, hex.as_bytes())?;
            Ok(hex.into_bytes())
        }
    }
}

/// A secret given by the operator, refused if too short to be one.
pub fn given_secret(s: &str) -> Result<Vec<u8>, SecretError> {
    if s.len() < MIN_SECRET_BYTES {
        return Err(SecretError::TooShort(s.len()));
    }
    Ok(s.as_bytes().to_vec())
}

/// 48 random bytes, in hex.
pub fn new_secret() -> std::io::Result<String> {
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Creates the data dir readable by its owner only (0700 on Unix).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
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

/// A random id of 128 bits, hex: session ids are not guessable from time.
pub fn random_id() -> Result<String, std::io::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
