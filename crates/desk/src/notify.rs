//! Native notifications: who is told what for which feed event (pure rules),
//! how a catch-up burst becomes one summary, when an unacknowledged urgent
//! intervention alerts again, and the `Notifier` that shows them (notify-rust).

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

use crate::settings::Settings;
use crate::types::{FeedEvent, Request, RequestKind, Role, User};

/// Label of the action that opens the request.
pub const OPEN_LABEL: &str = "Ouvrir";
/// Action key sent with `OPEN_LABEL`.
pub const OPEN_ACTION: &str = "open";

/// One notification to show. `key` identifies it forever (dedupe across restarts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    pub key: String,
    pub request_id: Option<String>,
    pub critical: bool,
    pub summary: String,
    pub body: String,
}

/// Receives `Some(request_id)` (or `None` for a summary) when the user clicks `Ouvrir`.
pub type ClickSender = UnboundedSender<Option<String>>;

/// Shows notifications. Blocking: the engine calls it off the async runtime.
pub trait Notifier: Send + Sync + 'static {
    fn show(&self, notice: &Notice, clicks: ClickSender) -> Result<(), String>;
}

fn client_and_site(r: &Request) -> String {
    let client = if r.client_name.is_empty() {
        "Client"
    } else {
        &r.client_name
    };
    if r.site.is_empty() {
        client.to_owned()
    } else {
        format!("{client} — {}", r.site)
    }
}

fn label(r: &Request) -> String {
    match &r.ticket_number {
        Some(t) => format!("{t} · {}", r.title),
        None => r.title.clone(),
    }
}

/// The critical notice of an urgent intervention.
pub fn urgent_notice(key: String, r: &Request, reminder: bool) -> Notice {
    let prefix = if reminder { "🚨 Rappel : " } else { "🚨 " };
    Notice {
        key,
        request_id: Some(r.id.clone()),
        critical: true,
        summary: format!("{prefix}Intervention urgente"),
        body: format!("{}\n{}", client_and_site(r), label(r)),
    }
}

/// What a request first seen by a resync (the feed log no longer held its events) deserves:
/// an urgent intervention still active alerts staff as if the feed had brought it (same key,
/// so never twice); anything else waits in the inbox, marked unread.
pub fn notices_for_missed(r: &Request, me: &User) -> Vec<Notice> {
    let staff = matches!(me.role, Role::Admin | Role::Technician);
    if staff && r.is_urgent_intervention() && !r.is_terminal() {
        vec![urgent_notice(format!("urgent:{}", r.id), r, false)]
    } else {
        Vec::new()
    }
}

/// Which notices one feed event deserves for this user (before dedupe).
pub fn notices_for_event(ev: &FeedEvent, me: &User, s: &Settings) -> Vec<Notice> {
    let r = &ev.request;
    let staff = matches!(me.role, Role::Admin | Role::Technician);
    let mut out = Vec::new();
    match ev.event_type.as_str() {
        "request.created" => match r.kind {
            RequestKind::Intervention if r.is_urgent_intervention() => {
                if staff {
                    out.push(urgent_notice(format!("urgent:{}", r.id), r, false));
                }
            }
            RequestKind::Intervention => {
                if staff && s.notify_planned_interventions {
                    out.push(Notice {
                        key: format!("created:{}", r.id),
                        request_id: Some(r.id.clone()),
                        critical: false,
                        summary: "Nouvelle demande d'intervention".into(),
                        body: format!("{}\n{}", client_and_site(r), label(r)),
                    });
                }
            }
            RequestKind::Project => {
                if me.role == Role::Admin && s.notify_projects {
                    out.push(Notice {
                        key: format!("created:{}", r.id),
                        request_id: Some(r.id.clone()),
                        critical: false,
                        summary: "Nouvelle Demande de Projet".into(),
                        body: format!(
                            "{} a demandé un nouveau projet : {}",
                            client_and_site(r),
                            r.title
                        ),
                    });
                }
            }
            RequestKind::Quote => {
                if me.role == Role::Admin && s.notify_quotes {
                    out.push(Notice {
                        key: format!("created:{}", r.id),
                        request_id: Some(r.id.clone()),
                        critical: false,
                        summary: "Nouvelle demande de devis".into(),
                        body: format!("{}\n{}", client_and_site(r), label(r)),
                    });
                }
            }
        },
        "request.assigned" => {
            let mine = r.assignee_id.as_deref() == Some(me.id.as_str());
            let urgent = r.is_urgent_intervention();
            if me.role == Role::Technician && mine && (urgent || s.notify_assignments) {
                out.push(Notice {
                    key: format!("assigned:{}:{}", r.id, me.id),
                    request_id: Some(r.id.clone()),
                    critical: urgent,
                    summary: if urgent {
                        "🚨 Intervention urgente assignée".into()
                    } else {
                        "Intervention assignée".into()
                    },
                    body: format!("{}\n{}", client_and_site(r), label(r)),
                });
            }
        }
        _ => {}
    }
    out
}

/// Turns the pending notices of one catch-up into what is actually shown:
/// all of them when they are few, otherwise one summary.
pub fn plan_delivery(pending: &[Notice], threshold: usize) -> Vec<Notice> {
    if pending.len() <= threshold {
        return pending.to_vec();
    }
    let urgent: Vec<&Notice> = pending.iter().filter(|n| n.critical).collect();
    let summary = if urgent.is_empty() {
        format!("{} nouvelles notifications", pending.len())
    } else {
        format!(
            "🚨 {} nouvelles notifications dont {} urgentes",
            pending.len(),
            urgent.len()
        )
    };
    let mut lines: Vec<String> = pending
        .iter()
        .filter(|n| n.critical)
        .chain(pending.iter().filter(|n| !n.critical))
        .take(4)
        .map(|n| format!("• {}", n.body.lines().last().unwrap_or_default()))
        .collect();
    if pending.len() > 4 {
        lines.push(format!("… et {} autres", pending.len() - 4));
    }
    let request_id = match urgent.as_slice() {
        [only] => only.request_id.clone(),
        _ => None,
    };
    vec![Notice {
        key: format!(
            "summary:{}:{}",
            pending.first().map(|n| n.key.as_str()).unwrap_or_default(),
            pending.len()
        ),
        request_id,
        critical: !urgent.is_empty(),
        summary,
        body: lines.join("\n"),
    }]
}

/// An urgent intervention being watched until someone acknowledges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrgentWatch {
    pub request_id: String,
    /// Unix seconds of the last alert shown.
    pub last_alert_at: i64,
    pub alerts: u32,
    /// Opened locally, or no longer `open` (assigned, cancelled...).
    pub acknowledged: bool,
}

/// The watches due for another alert at `now` (unix seconds).
pub fn due_reminders(watches: &[UrgentWatch], now: i64, interval_secs: i64) -> Vec<&UrgentWatch> {
    watches
        .iter()
        .filter(|w| !w.acknowledged && now - w.last_alert_at >= interval_secs)
        .collect()
}

/// A notification body for servers that read it as freedesktop body markup (a small
/// HTML subset: `<b>`, `<i>`, `<a>`…): `&`, `<` and `>` become entities, so a client's
/// "<b>Caméra</b> & NVR" shows as typed instead of bold text or a dropped body.
/// Only the text handed to the notification server changes; the feed's payload does not.
pub fn escape_body_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The real notifier: freedesktop notifications over D-Bus through notify-rust.
#[derive(Debug, Default, Clone)]
pub struct DesktopNotifier {
    pub app_name: String,
}

impl DesktopNotifier {
    pub fn new(app_name: &str) -> Self {
        DesktopNotifier {
            app_name: app_name.to_owned(),
        }
    }
}

impl Notifier for DesktopNotifier {
    fn show(&self, notice: &Notice, clicks: ClickSender) -> Result<(), String> {
        use notify_rust::{Hint, Notification, Timeout, Urgency};
        let mut n = Notification::new();
        n.appname(&self.app_name)
            .summary(&notice.summary)
            .body(&escape_body_markup(&notice.body))
            .action(OPEN_ACTION, OPEN_LABEL);
        if notice.critical {
            n.urgency(Urgency::Critical)
                .timeout(Timeout::Never)
                .hint(Hint::SoundName("alarm-clock-elapsed".into()))
                .hint(Hint::Category("im.received".into()));
        } else {
            n.urgency(Urgency::Normal);
        }
        let handle = n.show().map_err(|e| e.to_string())?;
        let request_id = notice.request_id.clone();
        std::thread::Builder::new()
            .name("itv-notif-action".into())
            .spawn(move || {
                handle.wait_for_action(|action| {
                    if action == OPEN_ACTION || action == "default" {
                        let _ = clicks.send(request_id);
                    }
                });
            })
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Priority;

    pub(crate) fn request(kind: RequestKind, id: &str, urgent: bool) -> Request {
        let mut extra = serde_json::Map::new();
        if kind == RequestKind::Intervention {
            extra.insert(
                "type".into(),
                (if urgent { "urgent" } else { "planned" }).into(),
            );
        }
        Request {
            id: id.into(),
            kind,
            ticket_number: Some("INT-202511-0001".into()),
            title: "Caméra HS".into(),
            description: "d".into(),
            site: "Siège".into(),
            status: "open".into(),
            priority: if urgent {
                Priority::Urgent
            } else {
                Priority::Medium
            },
            client_id: "c".into(),
            client_name: "Client XYZ".into(),
            assignee_id: None,
            assignee_name: None,
            created_at: "2025-11-19T10:00:00Z".into(),
            updated_at: "2025-11-19T10:00:00Z".into(),
            version: 1,
            extra,
        }
    }

    fn event(t: &str, r: Request) -> FeedEvent {
        FeedEvent {
            seq: 1,
            event_type: t.into(),
            kind: r.kind,
            id: r.id.clone(),
            ticket_number: r.ticket_number.clone(),
            at: r.updated_at.clone(),
            request: r,
            chat_message: None,
            notification: None,
        }
    }

    fn user(role: Role) -> User {
        User {
            id: "me".into(),
            name: "Moi".into(),
            email: "m@x".into(),
            role,
        }
    }

    #[test]
    fn urgent_intervention_is_critical_for_staff_only() {
        let ev = event(
            "request.created",
            request(RequestKind::Intervention, "r1", true),
        );
        let all_off = Settings {
            notify_projects: false,
            notify_quotes: false,
            notify_planned_interventions: false,
            notify_assignments: false,
            ..Settings::default()
        };
        for role in [Role::Admin, Role::Technician] {
            let n = notices_for_event(&ev, &user(role), &all_off);
            assert_eq!(n.len(), 1, "{role:?}");
            assert!(n[0].critical);
            assert!(n[0].summary.contains('🚨'));
            assert!(n[0].body.contains("Client XYZ") && n[0].body.contains("Siège"));
            assert_eq!(n[0].key, "urgent:r1");
        }
        assert!(notices_for_event(&ev, &user(Role::Client), &Settings::default()).is_empty());
    }

    #[test]
    fn settings_silence_non_urgent_kinds() {
        let s = Settings {
            notify_projects: false,
            ..Settings::default()
        };
        let p = event("request.created", request(RequestKind::Project, "p", false));
        assert!(notices_for_event(&p, &user(Role::Admin), &s).is_empty());
        let q = event("request.created", request(RequestKind::Quote, "q", false));
        assert_eq!(notices_for_event(&q, &user(Role::Admin), &s).len(), 1);
        // Technicians are not told about quotes.
        assert!(notices_for_event(&q, &user(Role::Technician), &s).is_empty());
        assert!(!notices_for_event(&q, &user(Role::Admin), &s)[0].critical);
    }

    #[test]
    fn a_missed_urgent_intervention_alerts_staff_if_still_active() {
        let admin = user(Role::Admin);
        let mut r = request(RequestKind::Intervention, "r9", true);
        let n = notices_for_missed(&r, &admin);
        assert_eq!(n.len(), 1);
        assert!(n[0].critical);
        assert_eq!(
            n[0].key,
            format!("urgent:{}", r.id),
            "the feed's key: never twice"
        );
        r.status = "closed".into();
        assert!(notices_for_missed(&r, &admin).is_empty(), "already handled");
        r.status = "open".into();
        assert!(notices_for_missed(&r, &user(Role::Client)).is_empty());
        let planned = request(RequestKind::Intervention, "r10", false);
        assert!(notices_for_missed(&planned, &admin).is_empty());
        assert_eq!(notices_for_missed(&r, &user(Role::Technician)).len(), 1);
    }

    #[test]
    fn assignment_only_for_the_assignee() {
        let mut r = request(RequestKind::Intervention, "r2", false);
        r.assignee_id = Some("me".into());
        r.status = "assigned".into();
        let ev = event("request.assigned", r.clone());
        let n = notices_for_event(&ev, &user(Role::Technician), &Settings::default());
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].key, "assigned:r2:me");
        r.assignee_id = Some("other".into());
        let ev = event("request.assigned", r);
        assert!(notices_for_event(&ev, &user(Role::Technician), &Settings::default()).is_empty());
        assert!(notices_for_event(&ev, &user(Role::Admin), &Settings::default()).is_empty());
    }

    #[test]
    fn bodies_escape_markup_and_keep_the_rest() {
        assert_eq!(
            escape_body_markup("<b>Caméra</b> & NVR <a href=x>"),
            "&lt;b&gt;Caméra&lt;/b&gt; &amp; NVR &lt;a href=x&gt;"
        );
        // Already-escaped text is escaped again: it is text, not markup.
        assert_eq!(escape_body_markup("&amp;"), "&amp;amp;");
        assert_eq!(
            escape_body_markup("Client XYZ — Siège\n🚨 \"x\" 'y'"),
            "Client XYZ — Siège\n🚨 \"x\" 'y'"
        );
    }

    #[test]
    fn burst_becomes_one_summary() {
        let mk = |i: usize, critical: bool| Notice {
            key: format!("k{i}"),
            request_id: Some(format!("r{i}")),
            critical,
            summary: "s".into(),
            body: format!("b{i}"),
        };
        let few: Vec<Notice> = (0..5).map(|i| mk(i, false)).collect();
        assert_eq!(plan_delivery(&few, 5), few);
        let mut many: Vec<Notice> = (0..8).map(|i| mk(i, false)).collect();
        many.push(mk(99, true));
        let plan = plan_delivery(&many, 5);
        assert_eq!(plan.len(), 1);
        assert!(plan[0].critical);
        assert!(plan[0].summary.contains("9 nouvelles"));
        assert_eq!(plan[0].request_id.as_deref(), Some("r99"));
        assert!(plan[0].body.starts_with("• b99"));
    }

    #[test]
    fn reminders_every_interval_until_acknowledged() {
        let w = |id: &str, last: i64, ack: bool| UrgentWatch {
            request_id: id.into(),
            last_alert_at: last,
            alerts: 1,
            acknowledged: ack,
        };
        let watches = vec![w("a", 1000, false), w("b", 1200, false), w("c", 0, true)];
        let due: Vec<&str> = due_reminders(&watches, 1300, 300)
            .iter()
            .map(|w| w.request_id.as_str())
            .collect();
        assert_eq!(due, vec!["a"]);
        assert!(due_reminders(&watches, 1299, 300).is_empty());
    }
}
