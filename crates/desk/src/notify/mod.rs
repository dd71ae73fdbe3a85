//! Native notifications: who is told what for which feed event (pure rules),
//! how a catch-up burst becomes one summary, when an urgent intervention nobody has
//! taken alerts again, and the `Notifier` trait that shows them (`desktop` builds them with
//! notify-rust; on Linux `dbus` delivers them over one shared connection, on Windows and
//! macOS `native`).

#[cfg(target_os = "linux")]
mod dbus;
mod desktop;
#[cfg(not(target_os = "linux"))]
mod native;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

pub use desktop::{APP_ID, DesktopNotifier, escape_body_markup};

use crate::ownership::Awaiting;
use crate::settings::Settings;
use crate::types::{EscalationReason, FeedEvent, Request, RequestKind, Role, SlaTimer, User};

/// Label of the action that opens the request.
pub const OPEN_LABEL: &str = "Ouvrir";
/// Action key sent with `OPEN_LABEL`.
pub const OPEN_ACTION: &str = "open";
/// Label of the action that takes the intervention (acknowledges it on the server).
pub const ACK_LABEL: &str = "Je prends";
/// Action key sent with `ACK_LABEL`.
pub const ACK_ACTION: &str = "ack";

/// One notification to show. `key` identifies it forever (dedupe across restarts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    pub key: String,
    pub request_id: Option<String>,
    pub critical: bool,
    pub summary: String,
    pub body: String,
    /// Offers *Je prends* beside *Ouvrir*: it asks the user to take the request. Such a
    /// notice is dropped unshown once the request no longer needs them (someone took it
    /// first), and withdrawn from the screen when that happens later. Absent from notices
    /// queued by older builds.
    #[serde(default)]
    pub acknowledge: bool,
}

/// What the user did with a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeAction {
    /// *Ouvrir* (or a click on the body): the request, `None` for a summary.
    Open(Option<String>),
    /// *Je prends* on this request.
    Acknowledge(String),
}

/// What an action a notification server reports means: the freedesktop key (`default` is
/// a click on the body), or on macOS the button's label.
pub(crate) fn action_for(key: &str, request_id: Option<&String>) -> Option<NoticeAction> {
    match key {
        "default" | OPEN_ACTION | OPEN_LABEL => Some(NoticeAction::Open(request_id.cloned())),
        ACK_ACTION | ACK_LABEL => request_id.cloned().map(NoticeAction::Acknowledge),
        _ => None,
    }
}

/// Where a notifier reports the actions the user invokes.
pub type ClickSender = UnboundedSender<NoticeAction>;

/// See `Notifier::on_ready`.
pub type ReadyHook = Box<dyn Fn() + Send + Sync>;

/// Shows notifications. Blocking: the engine calls it off the async runtime, one call at a
/// time, and each call must return in bounded time (the engine retries what failed).
pub trait Notifier: Send + Sync + 'static {
    fn show(&self, notice: &Notice, clicks: ClickSender) -> Result<(), String>;

    /// Shows `notice` in place of the notification `replaces` (an id this notifier returned
    /// earlier) when that one is still on screen. Returns the notification server's id,
    /// if it has one. A notice counts as shown only once this returned `Ok`.
    fn display(
        &self,
        notice: &Notice,
        replaces: Option<u32>,
        clicks: ClickSender,
    ) -> Result<Option<u32>, String> {
        let _ = replaces;
        self.show(notice, clicks).map(|()| None)
    }

    /// Asks to be told (from any thread) when a notification server appears, so what waits
    /// for one is tried at once rather than at its next retry. Optional.
    fn on_ready(&self, hook: ReadyHook) {
        let _ = hook;
    }

    /// Takes off the screen what is still shown for this request, because nobody needs to
    /// act on it any more (someone took it). Critical notifications never expire by
    /// themselves, so without this they would stay on every desk.
    fn withdraw(&self, request_id: &str) {
        let _ = request_id;
    }
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

fn reference(r: &Request) -> String {
    r.ticket_number.clone().unwrap_or_else(|| r.title.clone())
}

fn label(r: &Request) -> String {
    match &r.ticket_number {
        Some(t) => format!("{t} · {}", r.title),
        None => r.title.clone(),
    }
}

/// The critical notice of an urgent intervention, with *Je prends*.
pub fn urgent_notice(key: String, r: &Request, reminder: bool) -> Notice {
    let prefix = if reminder { "🚨 Rappel : " } else { "🚨 " };
    Notice {
        key,
        request_id: Some(r.id.clone()),
        critical: true,
        summary: format!("{prefix}Intervention urgente"),
        body: format!("{}\n{}", client_and_site(r), label(r)),
        acknowledge: true,
    }
}

/// The reminder of an urgent intervention still waiting for `awaiting`.
pub fn reminder_notice(key: String, r: &Request, awaiting: Awaiting) -> Notice {
    match awaiting {
        Awaiting::Anyone => urgent_notice(key, r, true),
        Awaiting::Me => Notice {
            summary: "🚨 Rappel : intervention urgente assignée".into(),
            ..urgent_notice(key, r, true)
        },
    }
}

/// What a request first seen by a resync (the feed log no longer held its events) deserves:
/// an urgent intervention still waiting for someone to take it alerts staff as if the feed
/// had brought it (same key, so never twice); anything else waits in the inbox, marked unread.
pub fn notices_for_missed(r: &Request, me: &User) -> Vec<Notice> {
    match r.awaiting(me) {
        Some(Awaiting::Anyone) => vec![urgent_notice(format!("urgent:{}", r.id), r, false)],
        _ => Vec::new(),
    }
}

/// The server's own title and message of an event, when it sent them.
fn seed_text(ev: &FeedEvent) -> Option<(String, String)> {
    ev.notification
        .as_ref()
        .map(|n| (n.title.clone(), n.message.clone()))
}

/// `request.escalated`: critical, naming the level and the minutes waited (the server's
/// title and message say both). *Je prends* while nobody has taken it; an assignment its
/// technician ignores reaches admins, who cannot acknowledge it for them.
fn escalation_notice(ev: &FeedEvent) -> Notice {
    let r = &ev.request;
    let level = ev.escalation_level.unwrap_or(1);
    let (summary, message) = seed_text(ev).unwrap_or_else(|| {
        let minutes = ev
            .notification
            .as_ref()
            .and_then(|n| n.data.get("minutesWaited"))
            .and_then(serde_json::Value::as_i64);
        let waited = minutes.map_or(String::new(), |m| format!(" depuis {m} min"));
        (
            format!("🚨 Escalade niveau {level} — {}", reference(r)),
            format!("Personne n'a pris en charge « {} »{waited}", r.title),
        )
    });
    let unacknowledged = ev.escalation_reason != Some(EscalationReason::Assignment);
    Notice {
        key: format!("escalated:{}:{}", r.id, ev.seq),
        request_id: Some(r.id.clone()),
        critical: true,
        summary,
        body: format!("{message}\n{}", client_and_site(r)),
        acknowledge: unacknowledged,
    }
}

/// `request.sla_breached` (admins): a normal warning, once per timer.
fn breach_notice(ev: &FeedEvent) -> Notice {
    let r = &ev.request;
    let timer = ev.sla_timer.unwrap_or(SlaTimer::Ack);
    let name = match timer {
        SlaTimer::Ack => "ack",
        SlaTimer::Resolve => "resolve",
    };
    let (summary, message) = seed_text(ev).unwrap_or_else(|| {
        let what = match timer {
            SlaTimer::Ack => "prise en charge",
            SlaTimer::Resolve => "résolution",
        };
        (
            format!("Délai de {what} dépassé — {}", reference(r)),
            label(r),
        )
    });
    Notice {
        key: format!("sla_breached:{}:{name}", r.id),
        request_id: Some(r.id.clone()),
        critical: false,
        summary,
        body: format!("{message}\n{}", client_and_site(r)),
        acknowledge: false,
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
                        acknowledge: false,
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
                        acknowledge: false,
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
                        acknowledge: false,
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
                    // The technician's own acknowledgement of the assignment.
                    acknowledge: true,
                });
            }
        }
        "request.escalated" if staff => out.push(escalation_notice(ev)),
        "request.sla_breached" if me.role == Role::Admin => out.push(breach_notice(ev)),
        // Someone took it: reminders stop and what is on screen is withdrawn (the runner
        // settles the watches after every batch). No pop-up: on every staff desk it would
        // be as many notifications as the alerts it silences, and the inbox row already
        // says who took it.
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
        acknowledge: false,
    }]
}

/// An urgent intervention this desk alerted about, watched until the server says it is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrgentWatch {
    pub request_id: String,
    /// Unix seconds of the last alert shown (escalations count).
    pub last_alert_at: i64,
    pub alerts: u32,
    /// Whose acknowledgement it still waits for, from the cached copy; `None` once taken
    /// (or final, or out of this desk's sight): the watch ends.
    pub awaiting: Option<Awaiting>,
}

/// The watches due for another alert at `now` (unix seconds).
pub fn due_reminders(watches: &[UrgentWatch], now: i64, interval_secs: i64) -> Vec<&UrgentWatch> {
    watches
        .iter()
        .filter(|w| w.awaiting.is_some() && now - w.last_alert_at >= interval_secs)
        .collect()
}

/// Whether a queued notice is moot by the time it would show: it asked the user to take a
/// request that no longer needs them (taken by someone else meanwhile, or gone from sight).
pub fn is_moot(n: &Notice, current: Option<&Request>, me: &User) -> bool {
    n.acknowledge && n.request_id.is_some() && !current.is_some_and(|r| r.can_acknowledge(me))
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
            tracking: Default::default(),
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
            escalation_level: None,
            escalation_reason: None,
            sla_timer: None,
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
        r.tracking.acknowledged_at = Some("2025-11-19T10:01:00Z".into());
        assert!(
            notices_for_missed(&r, &admin).is_empty(),
            "someone already took it"
        );
    }

    fn seed(title: &str, message: &str) -> Option<crate::types::SeedNotification> {
        Some(crate::types::SeedNotification {
            notification_type: "warning".into(),
            title: title.into(),
            message: message.into(),
            data: serde_json::json!({"escalationLevel": 2, "minutesWaited": 10}),
        })
    }

    #[test]
    fn an_escalation_is_critical_for_staff_with_the_servers_level_and_minutes() {
        let mut ev = event(
            "request.escalated",
            request(RequestKind::Intervention, "r3", true),
        );
        ev.seq = 41;
        ev.escalation_level = Some(2);
        ev.escalation_reason = Some(EscalationReason::Unacknowledged);
        ev.notification = seed(
            "🚨 Escalade niveau 2 — INT-202511-0001",
            "Personne n'a pris en charge « Caméra HS » (Client XYZ) depuis 10 min",
        );
        for role in [Role::Admin, Role::Technician] {
            let n = notices_for_event(&ev, &user(role), &Settings::default());
            assert_eq!(n.len(), 1, "{role:?}");
            assert!(n[0].critical && n[0].acknowledge);
            assert!(n[0].summary.contains("niveau 2"), "{:?}", n[0]);
            assert!(n[0].body.contains("depuis 10 min"), "{:?}", n[0]);
            assert_eq!(n[0].key, "escalated:r3:41");
        }
        assert!(notices_for_event(&ev, &user(Role::Client), &Settings::default()).is_empty());
        // Admins cannot acknowledge a technician's assignment for them.
        ev.escalation_reason = Some(EscalationReason::Assignment);
        let n = notices_for_event(&ev, &user(Role::Admin), &Settings::default());
        assert!(n[0].critical && !n[0].acknowledge);
        // Without the server's text, the level and minutes still show.
        ev.notification = None;
        ev.escalation_reason = None;
        let n = notices_for_event(&ev, &user(Role::Admin), &Settings::default());
        assert_eq!(n[0].summary, "🚨 Escalade niveau 2 — INT-202511-0001");
    }

    #[test]
    fn a_breach_warns_admins_only_and_an_acknowledgement_pops_nothing() {
        let mut ev = event(
            "request.sla_breached",
            request(RequestKind::Intervention, "r4", true),
        );
        ev.sla_timer = Some(SlaTimer::Resolve);
        let n = notices_for_event(&ev, &user(Role::Admin), &Settings::default());
        assert_eq!(n.len(), 1);
        assert!(!n[0].critical);
        assert_eq!(n[0].key, "sla_breached:r4:resolve");
        assert!(n[0].summary.starts_with("Délai de résolution dépassé"));
        assert!(notices_for_event(&ev, &user(Role::Technician), &Settings::default()).is_empty());
        let ack = event(
            "request.acknowledged",
            request(RequestKind::Intervention, "r4", true),
        );
        for role in [Role::Admin, Role::Technician] {
            assert!(notices_for_event(&ack, &user(role), &Settings::default()).is_empty());
        }
    }

    #[test]
    fn a_notice_asking_to_take_a_request_someone_took_is_moot() {
        let me = user(Role::Admin);
        let mut r = request(RequestKind::Intervention, "r5", true);
        let n = urgent_notice("urgent:r5".into(), &r, false);
        assert!(!is_moot(&n, Some(&r), &me));
        assert!(is_moot(&n, None, &me), "gone from the cache");
        r.tracking.acknowledged_at = Some("2025-11-19T10:01:00Z".into());
        assert!(is_moot(&n, Some(&r), &me));
        let summary = Notice {
            acknowledge: false,
            ..n.clone()
        };
        assert!(!is_moot(&summary, Some(&r), &me));
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
            acknowledge: false,
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
        let w = |id: &str, last: i64, awaiting: Option<Awaiting>| UrgentWatch {
            request_id: id.into(),
            last_alert_at: last,
            alerts: 1,
            awaiting,
        };
        let watches = vec![
            w("a", 1000, Some(Awaiting::Anyone)),
            w("b", 1200, Some(Awaiting::Me)),
            w("c", 0, None),
        ];
        let due: Vec<&str> = due_reminders(&watches, 1300, 300)
            .iter()
            .map(|w| w.request_id.as_str())
            .collect();
        assert_eq!(due, vec!["a"]);
        assert!(due_reminders(&watches, 1299, 300).is_empty());
    }
}
