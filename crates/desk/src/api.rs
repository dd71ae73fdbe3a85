//! HTTP client for the server's REST API (docs/api.md): login, paginated
//! request listing, request detail, feed head and the staff actions.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result, ServerRefusal};
use crate::outbox::Action;
use crate::quote::QuoteDoc;
use crate::types::{ChatMessage, HistoryEntry, Request, User};

/// A thin, cloneable client bound to one server and (optionally) one token.
#[derive(Clone, Debug)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginAnswer {
    pub token: String,
    pub user: User,
    /// The server-side session the token names (absent from older servers).
    #[serde(default)]
    pub session: Option<crate::accounts::SessionInfo>,
}

/// One page of `GET /api/requests`. Rows are decoded one by one: a row this build cannot
/// read (a new field type after a server upgrade) is handed back in `undecoded` instead of
/// failing the page, and with it every full sync.
#[derive(Debug)]
pub struct RequestsPage {
    pub requests: Vec<Request>,
    pub undecoded: Vec<UndecodedRow>,
    pub next_cursor: Option<String>,
    /// Not in the contract yet (see docs/notes-desk-needs.md); used when present.
    pub total: Option<u64>,
}

/// A row of a page that did not decode: its id when it has one, the text, the error.
#[derive(Debug, Clone, PartialEq)]
pub struct UndecodedRow {
    pub request_id: String,
    pub raw: String,
    pub error: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPage {
    requests: Vec<Value>,
    #[serde(default)]
    next_cursor: Option<String>,
    #[serde(default)]
    total: Option<u64>,
}

impl RequestsPage {
    fn decode(v: Value) -> Result<RequestsPage> {
        let raw: RawPage = serde_json::from_value(v)?;
        let mut requests = Vec::with_capacity(raw.requests.len());
        let mut undecoded = Vec::new();
        for row in raw.requests {
            let request_id = row
                .get("_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let text = row.to_string();
            match serde_json::from_value::<Request>(row) {
                Ok(r) => requests.push(r),
                Err(e) => undecoded.push(UndecodedRow {
                    request_id,
                    raw: text,
                    error: e.to_string(),
                }),
            }
        }
        Ok(RequestsPage {
            requests,
            undecoded,
            next_cursor: raw.next_cursor,
            total: raw.total,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailAnswer {
    pub request: Request,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    #[serde(default)]
    pub messages: Vec<ChatMessage>,
    /// Staff see it while it is prepared; a client only once sent.
    #[serde(default)]
    pub quote: Option<QuoteDoc>,
}

/// What a successful staff action returned.
#[derive(Debug, Clone, Default)]
pub struct ActionAnswer {
    pub request: Option<Request>,
    pub chat_message: Option<ChatMessage>,
    /// The stored quote, when the action prepared one.
    pub quote: Option<QuoteDoc>,
}

/// The feed's head: the last seq of the server's log, and the log's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedHead {
    pub seq: i64,
    pub epoch: Option<String>,
}

/// Normalises a user-typed server URL ("host:port", trailing slash, `HTTPS://Desk.Example`,
/// a default port…) so that one server always has one spelling: comparing two spellings
/// of the same server must not look like another account and clear the cache.
pub fn normalize_url(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    if url.is_empty() {
        return Err(Error::Invalid("empty server URL".into()));
    }
    let lower = url.to_ascii_lowercase();
    let with_scheme = if lower.starts_with("http://") || lower.starts_with("https://") {
        url.to_owned()
    } else {
        format!("https://{url}")
    };
    // The URL parser lowercases the scheme and host and drops a default port; the path keeps
    // its case (a server behind a path prefix may care).
    let parsed = reqwest::Url::parse(&with_scheme)
        .map_err(|e| Error::Invalid(format!("server URL: {e}")))?;
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// The feed's WebSocket URL for a given HTTP base URL, from `since` in log `epoch` (a server
/// whose log is another answers `resync_required` at once, before replaying anything).
pub fn feed_url(base: &str, since: Option<i64>, epoch: Option<&str>) -> String {
    let ws = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    };
    match (since, epoch) {
        (Some(n), Some(e)) => format!("{ws}/api/feed?since={n}&epoch={}", encode_query(e)),
        (Some(n), None) => format!("{ws}/api/feed?since={n}"),
        (None, _) => format!("{ws}/api/feed"),
    }
}

impl Api {
    pub fn new(base: &str, token: Option<String>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(crate::accounts::user_agent())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Api {
            http,
            base: normalize_url(base)?,
            token,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Value> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| Error::Network(e.to_string()))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error::Network(e.to_string()))?;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        let mut err = refusal(status, &value);
        if let Error::Server(r) = &mut err {
            r.retry_after = retry_after;
        }
        Err(err)
    }

    /// `POST /api/auth/login`, naming this device so the user recognises the session.
    pub async fn login(&self, email: &str, password: &str) -> Result<LoginAnswer> {
        let body = serde_json::json!({
            "email": email,
            "password": password,
            "device": crate::accounts::device_label(),
        });
        let v = self
            .call(Method::POST, "/api/auth/login", Some(&body), None)
            .await?;
        Ok(serde_json::from_value(v)?)
    }

    pub async fn me(&self) -> Result<User> {
        let v = self.call(Method::GET, "/api/auth/me", None, None).await?;
        Ok(serde_json::from_value(
            v.get("user").cloned().unwrap_or(Value::Null),
        )?)
    }

    /// `GET /api/staff/technicians` (admins).
    pub async fn technicians(&self) -> Result<Vec<User>> {
        let v = self
            .call(Method::GET, "/api/staff/technicians", None, None)
            .await?;
        Ok(serde_json::from_value(
            v.get("technicians").cloned().unwrap_or(Value::Null),
        )?)
    }

    pub async fn feed_head(&self) -> Result<FeedHead> {
        let v = self.call(Method::GET, "/api/feed/head", None, None).await?;
        let seq = v
            .get("seq")
            .and_then(Value::as_i64)
            .ok_or_else(|| Error::Protocol("feed head without seq".into()))?;
        let epoch = v.get("epoch").and_then(Value::as_str).map(str::to_owned);
        Ok(FeedHead { seq, epoch })
    }

    pub async fn list_requests(&self, cursor: Option<&str>, limit: u32) -> Result<RequestsPage> {
        let mut path = format!("/api/requests?limit={limit}");
        if let Some(c) = cursor {
            path.push_str("&cursor=");
            path.push_str(&encode_query(c));
        }
        let v = self.call(Method::GET, &path, None, None).await?;
        RequestsPage::decode(v)
    }

    pub async fn request_detail(&self, id: &str) -> Result<DetailAnswer> {
        let v = self
            .call(Method::GET, &format!("/api/requests/{id}"), None, None)
            .await?;
        Ok(serde_json::from_value(v)?)
    }

    /// `POST /api/requests/{id}/ack`: takes the intervention (a second time changes nothing).
    pub async fn acknowledge(&self, id: &str, idempotency_key: &str) -> Result<Request> {
        let path = format!("/api/requests/{}/ack", encode_query(id));
        let v = self
            .call(
                Method::POST,
                &path,
                Some(&serde_json::json!({})),
                Some(idempotency_key),
            )
            .await?;
        Ok(serde_json::from_value(
            v.get("request").cloned().unwrap_or(Value::Null),
        )?)
    }

    /// `GET /api/staff/metrics?from=&to=` (admins): the period's figures, as the server
    /// words them. An empty date is left out, so the server picks its default (today, and
    /// the Monday 11 weeks before `to`'s week).
    pub async fn metrics(&self, from: &str, to: &str) -> Result<Value> {
        let mut path = String::from("/api/staff/metrics");
        let mut sep = '?';
        for (name, value) in [("from", from.trim()), ("to", to.trim())] {
            if !value.is_empty() {
                path.push(sep);
                path.push_str(name);
                path.push('=');
                path.push_str(&encode_query(value));
                sep = '&';
            }
        }
        self.call(Method::GET, &path, None, None).await
    }

    /// Sends one staff action with its idempotency key.
    pub async fn perform(&self, action: &Action, idempotency_key: &str) -> Result<ActionAnswer> {
        let (method, path, body) = action.endpoint();
        let v = self
            .call(method, &path, Some(&body), Some(idempotency_key))
            .await?;
        let request = v
            .get("request")
            .cloned()
            .and_then(|r| serde_json::from_value(r).ok());
        let chat_message = v
            .get("chatMessage")
            .cloned()
            .and_then(|m| serde_json::from_value(m).ok());
        let quote = v
            .get("quote")
            .cloned()
            .and_then(|q| serde_json::from_value(q).ok());
        Ok(ActionAnswer {
            request,
            chat_message,
            quote,
        })
    }
}

pub(crate) fn refusal(status: StatusCode, body: &Value) -> Error {
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut message = s("message").unwrap_or_else(|| status.to_string());
    let mut fields = std::collections::BTreeMap::new();
    if let Some(errors) = body.get("errors").and_then(Value::as_object) {
        for (k, v) in errors {
            fields.insert(k.clone(), v.as_str().unwrap_or_default().to_owned());
        }
        let detail: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        if !detail.is_empty() {
            message = format!("{message} ({})", detail.join(", "));
        }
    }
    Error::Server(Box::new(ServerRefusal {
        status: status.as_u16(),
        code: s("code").unwrap_or_else(|| format!("http_{}", status.as_u16())),
        message,
        current_status: s("currentStatus"),
        reason: s("reason"),
        fields,
        retry_after: None,
    }))
}

fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            normalize_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_url("desk.example.sn").unwrap(),
            "https://desk.example.sn"
        );
        assert!(normalize_url("  ").is_err());
        // One server, one spelling: case of scheme and host, default port, trailing slash.
        for typed in [
            "HTTPS://Desk.Example.SN/",
            "https://desk.example.sn:443",
            " desk.EXAMPLE.sn ",
        ] {
            assert_eq!(normalize_url(typed).unwrap(), "https://desk.example.sn");
        }
        assert_eq!(
            normalize_url("http://LOCALHOST:80/itv/").unwrap(),
            "http://localhost/itv"
        );
        assert!(normalize_url("https://exa mple").is_err());
        assert_eq!(
            feed_url("http://h:1", Some(7), None),
            "ws://h:1/api/feed?since=7"
        );
        assert_eq!(
            feed_url("http://h:1", Some(7), Some("ab12")),
            "ws://h:1/api/feed?since=7&epoch=ab12"
        );
        assert_eq!(feed_url("https://h", None, None), "wss://h/api/feed");
        assert_eq!(encode_query("a b/+="), "a%20b%2F%2B%3D");
    }

    #[test]
    fn refusal_keeps_reason_and_current_status() {
        let body = serde_json::json!({"success": false, "code": "invalid_transition",
            "message": "Transition impossible", "currentStatus": "active"});
        match refusal(StatusCode::CONFLICT, &body) {
            Error::Server(r) => {
                assert_eq!(r.status, 409);
                assert_eq!(r.code, "invalid_transition");
                assert_eq!(r.current_status.as_deref(), Some("active"));
            }
            other => panic!("{other:?}"),
        }
    }
}
