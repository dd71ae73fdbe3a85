//! `itv://request/{id}` links, from an e-mail or a chat: they open the request in the running
//! window. The installers register the scheme (Windows registry, the .deb's desktop entry,
//! the macOS bundle's Info.plist); a second launch with a link hands it to the running app
//! through the single-instance plugin. A link that starts the app waits until the window
//! has painted its inbox.

use std::sync::Mutex;

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Url};

/// The event the window opens a request on.
pub const OPEN_REQUEST_EVENT: &str = "desk://open-request";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OpenRequest {
    pub request_id: String,
}

/// The request a link names, if it is one of ours: `itv://request/<id>` (a trailing slash,
/// a query or a fragment are ignored). Ids are the server's (UUIDs): letters, digits, `-`.
pub fn request_id(link: &str) -> Option<String> {
    let url = Url::parse(link.trim()).ok()?;
    if url.scheme() != "itv" || url.host_str() != Some("request") {
        return None;
    }
    let id = url.path().trim_matches('/');
    let valid = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then(|| id.to_owned())
}

/// Whether the window can open links yet, and the link that waits for it. One lock for
/// both, so a link arriving while the inbox paints is either opened or waits, never lost.
#[derive(Debug, Default)]
pub struct Pending(Mutex<LinkState>);

#[derive(Debug, Default)]
struct LinkState {
    painted: bool,
    waiting: Option<String>,
}

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, LinkState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Opens what `links` name: now if the window is ready, else once it is (`window_ready`).
pub fn open(app: &AppHandle, links: &[Url]) {
    for link in links {
        let Some(id) = request_id(link.as_str()) else {
            tracing::warn!(%link, "not a link this app opens");
            continue;
        };
        tracing::info!(request = %id, "opening a link");
        crate::shell::show_main(app);
        let Some(pending) = app.try_state::<Pending>() else {
            continue;
        };
        let ready = {
            let mut state = pending.lock();
            if !state.painted {
                state.waiting = Some(id.clone());
            }
            state.painted
        };
        if ready {
            emit(app, id);
        }
    }
}

/// The window has painted its inbox: from now on links open at once, and the one that
/// started the app opens now. Later paints change nothing.
pub fn window_ready(app: &AppHandle) {
    let Some(pending) = app.try_state::<Pending>() else {
        return;
    };
    let waiting = {
        let mut state = pending.lock();
        if state.painted {
            return;
        }
        state.painted = true;
        state.waiting.take()
    };
    if let Some(id) = waiting {
        emit(app, id);
    }
}

fn emit(app: &AppHandle, request_id: String) {
    if let Err(e) = app.emit(OPEN_REQUEST_EVENT, OpenRequest { request_id }) {
        tracing::warn!(error = %e, "could not ask the window to open a request");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_links_name_their_request() {
        let id = "0193a4b2-7c1e-7d3f-9a10-2b3c4d5e6f70";
        assert_eq!(
            request_id(&format!("itv://request/{id}")).as_deref(),
            Some(id)
        );
        assert_eq!(
            request_id(&format!("itv://request/{id}/")).as_deref(),
            Some(id)
        );
        assert_eq!(
            request_id(&format!(" itv://request/{id}?from=mail#x ")).as_deref(),
            Some(id)
        );
        assert_eq!(request_id("ITV://request/abc").as_deref(), Some("abc"));
    }

    #[test]
    fn other_links_are_refused() {
        for link in [
            "itv://request/",
            "itv://request",
            "itv://quote/abc",
            "https://request/abc",
            "itv://request/a/b",
            "itv://request/%3Cscript%3E",
            "itv://request/abc;rm",
            "not a link",
        ] {
            assert_eq!(request_id(link), None, "{link}");
        }
        assert_eq!(
            request_id(&format!("itv://request/{}", "a".repeat(65))),
            None
        );
    }
}
