//! The session secret (the JWT): kept in the OS secret store through `keyring`
//! (Secret Service on Linux), or, when none is reachable, in memory for this run
//! only. Never written to a plain file.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::types::SecretStorage;

/// Where secrets go: the OS store, with an in-memory fallback.
#[derive(Debug)]
pub struct Secrets {
    service: String,
    memory: Mutex<HashMap<String, String>>,
    /// Tests and headless runs can refuse the OS store outright.
    keyring_enabled: bool,
}

fn keyring_error(e: &keyring::Error) -> String {
    match e {
        keyring::Error::PlatformFailure(inner) => format!("secret store failure: {inner}"),
        keyring::Error::NoStorageAccess(inner) => format!("no secret store access: {inner}"),
        other => other.to_string(),
    }
}

impl Secrets {
    pub fn new(service: &str, keyring_enabled: bool) -> Self {
        Secrets {
            service: service.to_owned(),
            memory: Mutex::new(HashMap::new()),
            keyring_enabled,
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// Stores the secret; tells where it ended up. Blocking (D-Bus): call off the runtime.
    pub fn store(&self, account: &str, secret: &str) -> SecretStorage {
        let result = if self.keyring_enabled {
            keyring::Entry::new(&self.service, account).and_then(|entry| {
                entry.set_password(secret)?;
                // Read back: a store that accepts but cannot return is no store.
                let back = entry.get_password()?;
                if back == secret {
                    Ok(())
                } else {
                    Err(keyring::Error::Invalid(
                        "read back".into(),
                        "secret store returned another value".into(),
                    ))
                }
            })
        } else {
            Err(keyring::Error::NoStorageAccess(
                "OS secret store disabled by configuration".into(),
            ))
        };
        match result {
            Ok(()) => {
                self.lock().remove(account);
                tracing::info!(account, "session secret stored in the OS secret store");
                SecretStorage::Keyring
            }
            Err(e) => {
                let reason = keyring_error(&e);
                tracing::warn!(account, %reason, "no OS secret store: keeping the session in memory for this run");
                self.lock().insert(account.to_owned(), secret.to_owned());
                SecretStorage::Memory { reason }
            }
        }
    }

    /// Finds the secret: memory first (this run), then the OS store. Blocking.
    pub fn load(&self, account: &str) -> Option<(String, SecretStorage)> {
        if let Some(s) = self.lock().get(account) {
            return Some((
                s.clone(),
                SecretStorage::Memory {
                    reason: "kept in memory for this run".into(),
                },
            ));
        }
        if !self.keyring_enabled {
            return None;
        }
        match keyring::Entry::new(&self.service, account).and_then(|e| e.get_password()) {
            Ok(s) => Some((s, SecretStorage::Keyring)),
            Err(keyring::Error::NoEntry) => None,
            Err(e) => {
                tracing::warn!(account, error = %keyring_error(&e), "secret store unreadable");
                None
            }
        }
    }

    /// Removes the secret from memory and from the OS store. Blocking.
    pub fn delete(&self, account: &str) {
        self.lock().remove(account);
        if !self.keyring_enabled {
            return;
        }
        match keyring::Entry::new(&self.service, account).and_then(|e| e.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => {}
            Err(e) => {
                tracing::warn!(account, error = %keyring_error(&e), "could not delete the stored secret")
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The keyring account name of a user on a server.
pub fn account_key(server_url: &str, email: &str) -> String {
    format!("{email}@{server_url}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_store_falls_back_to_memory() {
        let s = Secrets::new("itv-desk-test", false);
        let where_ = s.store("a", "tok");
        assert!(matches!(where_, SecretStorage::Memory { .. }));
        assert_eq!(s.load("a").map(|x| x.0).as_deref(), Some("tok"));
        s.delete("a");
        assert!(s.load("a").is_none());
    }
}
