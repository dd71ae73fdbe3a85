//! The session secret (the JWT): kept in the OS secret store through `keyring` (Secret
//! Service on Linux, Credential Manager on Windows, the Keychain on macOS), or, when none is
//! reachable, in memory for this run only. Never written to a plain file.

use std::collections::HashMap;
use std::sync::Mutex;

use keyring::credential::{CredentialBuilder, CredentialPersistence};

use crate::types::SecretStorage;

/// Where secrets go: the OS store, with an in-memory fallback.
pub struct Secrets {
    service: String,
    memory: Mutex<HashMap<String, String>>,
    /// The OS store; `None` when refused outright (tests, headless runs).
    store: Option<Box<CredentialBuilder>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("service", &self.service)
            .field("os_store", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

fn keyring_error(e: &keyring::Error) -> String {
    match e {
        keyring::Error::PlatformFailure(inner) => format!("secret store failure: {inner}"),
        keyring::Error::NoStorageAccess(inner) => format!("no secret store access: {inner}"),
        other => other.to_string(),
    }
}

impl Secrets {
    /// With `keyring_enabled`, the store this build of `keyring` has for the OS.
    pub fn new(service: &str, keyring_enabled: bool) -> Self {
        let store = keyring_enabled.then(keyring::default::default_credential_builder);
        Secrets::with_store(service, store)
    }

    /// With a store of the caller's choosing (`None`: memory only).
    pub fn with_store(service: &str, store: Option<Box<CredentialBuilder>>) -> Self {
        Secrets {
            service: service.to_owned(),
            memory: Mutex::new(HashMap::new()),
            store,
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, account: &str) -> keyring::Result<keyring::Entry> {
        let store = self.store.as_ref().ok_or_else(|| {
            keyring::Error::NoStorageAccess("OS secret store disabled by configuration".into())
        })?;
        let credential = store.build(None, &self.service, account)?;
        Ok(keyring::Entry::new_with_credential(credential))
    }

    /// Stores the secret; tells where it ended up. Blocking (D-Bus): call off the runtime.
    pub fn store(&self, account: &str, secret: &str) -> SecretStorage {
        match self.store_in_os(account, secret) {
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

    /// A store counts only if it keeps the secret beyond this process: `keyring` without a
    /// platform feature falls back to a mock that keeps it inside one `Entry`, which accepts
    /// and returns it and then forgets it. Refused twice over: by the store's own word on
    /// its persistence, and by reading back through a *new* entry.
    fn store_in_os(&self, account: &str, secret: &str) -> keyring::Result<()> {
        if let Some(store) = &self.store {
            let lasts = match store.persistence() {
                CredentialPersistence::UntilDelete => None,
                CredentialPersistence::EntryOnly => Some("inside one entry (EntryOnly)"),
                CredentialPersistence::ProcessOnly => Some("for this process (ProcessOnly)"),
                CredentialPersistence::UntilReboot => Some("until reboot (UntilReboot)"),
                _ => Some("for an unknown time"),
            };
            if let Some(lasts) = lasts {
                return Err(keyring::Error::NoStorageAccess(
                    format!("the secret store keeps secrets only {lasts}").into(),
                ));
            }
        }
        self.entry(account)?.set_password(secret)?;
        let back = match self.entry(account)?.get_password() {
            Ok(back) => back,
            Err(keyring::Error::NoEntry) => {
                return Err(keyring::Error::NoStorageAccess(
                    "the secret store forgot the secret at once".into(),
                ));
            }
            Err(e) => return Err(e),
        };
        if back == secret {
            Ok(())
        } else {
            Err(keyring::Error::Invalid(
                "read back".into(),
                "secret store returned another value".into(),
            ))
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
        self.store.as_ref()?;
        match self.entry(account).and_then(|e| e.get_password()) {
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
        if self.store.is_none() {
            return;
        }
        match self.entry(account).and_then(|e| e.delete_credential()) {
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

    /// The store `keyring` falls back to without a platform feature: refused, on every OS.
    #[test]
    fn the_mock_store_is_refused() {
        let s = Secrets::with_store(
            "itv-desk-test",
            Some(keyring::mock::default_credential_builder()),
        );
        match s.store("a", "tok") {
            SecretStorage::Memory { reason } => assert!(reason.contains("EntryOnly"), "{reason}"),
            other => panic!("the mock store was accepted: {other:?}"),
        }
        assert_eq!(s.load("a").map(|x| x.0).as_deref(), Some("tok"));
    }

    /// A store that claims to persist but keeps the secret in one entry (the mock, lying
    /// about itself) is caught by the read-back through a new entry.
    #[test]
    fn a_store_that_forgets_between_entries_is_refused() {
        #[derive(Debug)]
        struct ClaimsToPersist(Box<CredentialBuilder>);
        impl keyring::credential::CredentialBuilderApi for ClaimsToPersist {
            fn build(
                &self,
                target: Option<&str>,
                service: &str,
                user: &str,
            ) -> keyring::Result<Box<keyring::credential::Credential>> {
                self.0.build(target, service, user)
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
            fn persistence(&self) -> CredentialPersistence {
                CredentialPersistence::UntilDelete
            }
        }
        let liar = ClaimsToPersist(keyring::mock::default_credential_builder());
        let s = Secrets::with_store("itv-desk-test", Some(Box::new(liar)));
        match s.store("a", "tok") {
            SecretStorage::Memory { reason } => assert!(reason.contains("forgot"), "{reason}"),
            other => panic!("a forgetful store was accepted: {other:?}"),
        }
    }

    /// The real store of the platform this runs on, where a test can reach one without a
    /// desktop session: Windows' Credential Manager (also under Wine). Linux's Secret Service
    /// is tested with a real gnome-keyring in `tests/`.
    #[cfg(windows)]
    #[test]
    fn windows_credential_manager_keeps_the_secret_across_instances() {
        let service = format!("itv-desk-test-{}", std::process::id());
        let first = Secrets::new(&service, true);
        assert_eq!(first.store("a", "tok"), SecretStorage::Keyring);
        let second = Secrets::new(&service, true);
        assert_eq!(
            second.load("a"),
            Some(("tok".to_owned(), SecretStorage::Keyring))
        );
        second.delete("a");
        assert_eq!(Secrets::new(&service, true).load("a"), None);
    }
}
