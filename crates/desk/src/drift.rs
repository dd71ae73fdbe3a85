//! Schema drift: a feed event or a list row this build cannot decode (a server upgraded
//! before the desk) is set aside in the cache's quarantine, logged with its seq, counted in
//! the status bar, and retried at every start (after an update it decodes). An urgent
//! intervention among them still alerts, from what can be read of it.

use std::sync::Arc;

use serde_json::Value;

use crate::api::UndecodedRow;
use crate::cache::Undecoded;
use crate::engine::{Inner, SessionCtx, unix_now};
use crate::notify::{Notice, notices_for_missed};
use crate::types::{FeedEvent, Request};

/// This build, as recorded beside what it could not read.
const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Sets aside a feed event that did not decode.
pub(crate) fn set_aside_event(inner: &Arc<Inner>, seq: i64, raw: &str, error: &str) {
    tracing::warn!(seq, %error, "feed event this build cannot read: quarantined");
    let mut cache = inner.cache();
    let kept = cache.quarantine(
        &Undecoded::Event { seq },
        raw,
        error,
        APP_VERSION,
        unix_now(),
    );
    if let Err(e) = kept {
        tracing::error!(seq, error = %e, "could not quarantine an event");
    }
    if let Some(notice) = unreadable_urgent_notice(raw)
        && let Err(e) = cache.enqueue_notice(&notice, unix_now())
    {
        tracing::error!(seq, error = %e, "could not queue the urgent alert");
    }
    drop(cache);
    refresh_count(inner);
}

/// Sets aside the rows of a list page that did not decode.
pub(crate) fn set_aside_rows(inner: &Arc<Inner>, rows: &[UndecodedRow]) {
    if rows.is_empty() {
        return;
    }
    let cache = inner.cache();
    for row in rows {
        tracing::warn!(id = %row.request_id, error = %row.error, "row this build cannot read: quarantined");
        let what = Undecoded::Row {
            request_id: row.request_id.clone(),
        };
        if let Err(e) = cache.quarantine(&what, &row.raw, &row.error, APP_VERSION, unix_now()) {
            tracing::error!(error = %e, "could not quarantine a row");
        }
    }
    drop(cache);
    refresh_count(inner);
}

/// A row read fine by a later page clears its quarantined copy.
pub(crate) fn clear_rows_read(inner: &Arc<Inner>, rows: &[Request]) {
    let cache = inner.cache();
    let mut cleared = false;
    for r in rows {
        if let Ok(Some(id)) = cache.quarantined_row(&r.id) {
            cleared |= cache.release_quarantined(id).unwrap_or(false);
        }
    }
    drop(cache);
    if cleared {
        refresh_count(inner);
    }
}

/// Tries everything in quarantine again (at sign-in: this build may read what an older one
/// could not). What decodes is applied like a page of a sync (never over a newer copy) and
/// alerts if it still needs someone; what does not stays.
pub(crate) fn retry(inner: &Arc<Inner>, ctx: &SessionCtx) {
    let items = match inner.cache().quarantined() {
        Ok(items) => items,
        Err(e) => {
            tracing::error!(error = %e, "quarantine unreadable");
            return;
        }
    };
    for item in items {
        let decoded = match &item.what {
            Undecoded::Event { .. } => {
                serde_json::from_str::<FeedEvent>(&item.raw).map(|ev| ev.request)
            }
            Undecoded::Row { .. } => serde_json::from_str::<Request>(&item.raw),
        };
        let Ok(request) = decoded else { continue };
        let mut cache = inner.cache();
        let applied = cache
            .apply_sync_page_alerting(
                std::slice::from_ref(&request),
                0,
                true,
                |r| notices_for_missed(r, &ctx.user),
                unix_now(),
            )
            .and_then(|changed| cache.release_quarantined(item.id).map(|_| changed));
        drop(cache);
        match applied {
            Ok(changed) => {
                tracing::info!(what = ?item.what, "quarantined item now reads: applied");
                inner.emit_changed(changed);
            }
            Err(e) => tracing::error!(error = %e, "could not apply a quarantined item"),
        }
    }
    refresh_count(inner);
}

fn refresh_count(inner: &Arc<Inner>) {
    match inner.cache().quarantined_count() {
        Ok(n) => inner.update_health(|h| h.quarantined = n),
        Err(e) => tracing::error!(error = %e, "quarantine count"),
    }
}

/// An urgent intervention must not go unseen because one field is new to this build: what
/// can be read of it (its id, number, title) makes a critical alert asking to update. Its
/// key is the one the decoded event would use, so it never alerts twice.
fn unreadable_urgent_notice(raw: &str) -> Option<Notice> {
    let v: Value = serde_json::from_str(raw).ok()?;
    let r = v.get("request")?;
    let text = |k: &str| r.get(k).and_then(Value::as_str);
    let urgent = text("kind") == Some("intervention")
        && (text("priority") == Some("urgent") || text("type") == Some("urgent"));
    let finished = crate::types::is_terminal_status(text("status").unwrap_or_default());
    if !urgent || finished || v.get("type").and_then(Value::as_str) != Some("request.created") {
        return None;
    }
    let id = text("_id")?.to_owned();
    let reference = text("ticketNumber").or(text("title")).unwrap_or("?");
    Some(Notice {
        key: format!("urgent:{id}"),
        request_id: Some(id),
        critical: true,
        summary: format!("🚨 Intervention urgente — {reference}"),
        body: "Cette version de l'application ne peut pas l'afficher entièrement : \
               ouvrez-la dans le portail et mettez l'application à jour."
            .to_owned(),
        acknowledge: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_urgent_creation_still_alerts_and_nothing_else_does() {
        let event = |kind: &str, priority: &str, status: &str, ty: &str| {
            format!(
                r#"{{"seq":5,"type":"{ty}","request":{{"_id":"r1","kind":"{kind}",
                "ticketNumber":"INT-202612-0001","priority":"{priority}","status":"{status}",
                "severity":{{"new":"shape"}}}}}}"#
            )
        };
        let n =
            unreadable_urgent_notice(&event("intervention", "urgent", "open", "request.created"))
                .expect("urgent alerts");
        assert_eq!(n.key, "urgent:r1");
        assert!(n.critical);
        assert!(n.summary.contains("INT-202612-0001"));
        assert!(n.body.contains("mettez l'application à jour"));
        for quiet in [
            event("intervention", "high", "open", "request.created"),
            event("project", "urgent", "open", "request.created"),
            event("intervention", "urgent", "resolved", "request.created"),
            event("intervention", "urgent", "open", "message.created"),
            "not json".to_owned(),
        ] {
            assert_eq!(unreadable_urgent_notice(&quiet), None, "{quiet}");
        }
    }
}
