//! The live feed's events and the seed's notification payloads that ride inside them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::alerts::{Alert, AlertKind, EscalationReason, SlaTimer};
use crate::kind::RequestKind;
use crate::request::{ChatMessage, Details, InterventionType, Request};
use crate::role::Role;
use crate::status::Status;
use crate::text::excerpt;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "request.created")]
    RequestCreated,
    #[serde(rename = "request.updated")]
    RequestUpdated,
    #[serde(rename = "request.assigned")]
    RequestAssigned,
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "quote.sent")]
    QuoteSent,
    #[serde(rename = "request.acknowledged")]
    RequestAcknowledged,
    #[serde(rename = "request.escalated")]
    RequestEscalated,
    #[serde(rename = "request.sla_breached")]
    SlaBreached,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::RequestCreated => "request.created",
            EventType::RequestUpdated => "request.updated",
            EventType::RequestAssigned => "request.assigned",
            EventType::MessageCreated => "message.created",
            EventType::QuoteSent => "quote.sent",
            EventType::RequestAcknowledged => "request.acknowledged",
            EventType::RequestEscalated => "request.escalated",
            EventType::SlaBreached => "request.sla_breached",
        }
    }
}

/// The seed's notification payload: `{type, title, message, data}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// `info` | `success` | `warning`
    #[serde(rename = "type")]
    pub level: String,
    pub title: String,
    pub message: String,
    pub data: serde_json::Value,
}

/// One entry of the durable event log, as sent on the feed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedEvent {
    pub seq: i64,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub kind: RequestKind,
    #[serde(rename = "_id")]
    pub request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_number: Option<String>,
    pub at: DateTime<Utc>,
    /// The request after the change.
    pub request: Request,
    #[serde(default)]
    pub chat_message: Option<ChatMessage>,
    #[serde(default)]
    pub notification: Option<Notification>,
    /// `request.escalated`: the level reached (1, 2, …) and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_level: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_reason: Option<EscalationReason>,
    /// `request.sla_breached`: which timer was missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_timer: Option<SlaTimer>,
}

/// Who may receive an event: decided when the event is written, from the request
/// before and after the change, so a technician also learns that an intervention
/// left their scope (assigned to someone else).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Audience {
    pub client_id: String,
    pub all_technicians: bool,
    pub technicians: Vec<String>,
}

impl Audience {
    pub fn of_change(before: Option<&Request>, after: &Request) -> Audience {
        let mut audience = Audience {
            client_id: after.client_id.clone(),
            ..Audience::default()
        };
        if after.kind() != RequestKind::Intervention {
            return audience;
        }
        for r in before.into_iter().chain(std::iter::once(after)) {
            audience.all_technicians |= r.status == Status::Open;
            if let Some(t) = &r.assignee_id
                && !audience.technicians.contains(t)
            {
                audience.technicians.push(t.clone());
            }
        }
        audience
    }

    /// Staff only: every admin, and every technician when `technicians` is true.
    pub fn staff(technicians: bool) -> Audience {
        Audience {
            client_id: String::new(),
            all_technicians: technicians,
            technicians: Vec::new(),
        }
    }

    /// An alert's audience: the roles `Alert::reaches`.
    pub fn of_alert(alert: &Alert) -> Audience {
        Audience::staff(alert.reaches(Role::Technician))
    }

    pub fn admits(&self, role: Role, user_id: &str) -> bool {
        match role {
            Role::Admin => true,
            Role::Client => self.client_id == user_id,
            Role::Technician => {
                self.all_technicians || self.technicians.iter().any(|t| t == user_id)
            }
        }
    }
}

fn note(
    level: &str,
    title: impl Into<String>,
    message: String,
    data: serde_json::Value,
) -> Notification {
    Notification {
        level: level.to_string(),
        title: title.into(),
        message,
        data,
    }
}

/// The `data` of a notification: `projectId` for projects, `ticketId` for tickets (the seed).
fn data_of(r: &Request) -> serde_json::Value {
    match r.kind() {
        RequestKind::Project => json!({ "projectId": r.id }),
        _ => json!({ "ticketId": r.id, "ticketNumber": r.ticket_number }),
    }
}

/// What staff are told when a client creates a request (the seed's payloads).
pub fn created_notification(r: &Request) -> Notification {
    let data = data_of(r);
    match &r.details {
        Details::Project { name, .. } => note(
            "info",
            "Nouvelle Demande de Projet",
            format!("{} a demandé un nouveau projet : {}", r.client_name, name),
            data,
        ),
        Details::Intervention {
            intervention_type: InterventionType::Urgent,
            ..
        } => note(
            "warning",
            "🚨 Intervention Urgente",
            format!("{} - {}", r.client_name, r.title),
            data,
        ),
        Details::Intervention { .. } => note(
            "info",
            "Nouvelle Demande d'Intervention",
            format!("{} - {}", r.client_name, r.title),
            data,
        ),
        Details::Quote { .. } => note(
            "info",
            "Nouvelle Demande de Devis",
            format!("{} a demandé un devis : {}", r.client_name, r.title),
            data,
        ),
    }
}

/// What everyone following a request is told when its status changes.
pub fn status_notification(r: &Request) -> Notification {
    let level = match r.status {
        Status::Rejected | Status::Cancelled | Status::Declined => "warning",
        Status::Active | Status::Resolved | Status::Accepted | Status::Completed => "success",
        _ => "info",
    };
    let title = match (r.kind(), r.status) {
        (RequestKind::Project, Status::Active) => "Projet validé".to_string(),
        (RequestKind::Project, Status::Rejected) => "Projet refusé".to_string(),
        (_, s) => s.label_fr().to_string(),
    };
    let mut message = format!("{} : {}", r.reference(), r.status.label_fr());
    if let Details::Project {
        rejection_reason: Some(reason),
        ..
    } = &r.details
        && r.status == Status::Rejected
    {
        message = format!("{message} — {reason}");
    }
    note(level, title, message, data_of(r))
}

pub fn assigned_notification(r: &Request) -> Notification {
    let mut data = data_of(r);
    data["technicianId"] = json!(r.assignee_id);
    note(
        "info",
        "Intervention assignée",
        format!(
            "{} assignée à {} : {}",
            r.reference(),
            r.assignee_name.as_deref().unwrap_or("?"),
            r.title
        ),
        data,
    )
}

pub fn message_notification(r: &Request, m: &ChatMessage) -> Notification {
    let mut data = data_of(r);
    data["messageId"] = json!(m.id);
    note(
        "info",
        format!("Nouveau message — {}", r.reference()),
        format!("{} : {}", m.author_name, excerpt(&m.body, 120)),
        data,
    )
}

pub fn quote_sent_notification(r: &Request) -> Notification {
    note(
        "success",
        "Devis disponible",
        format!("Votre devis {} est prêt : {}", r.reference(), r.title),
        data_of(r),
    )
}

/// Everyone following the intervention learns who took it (the client too).
pub fn acknowledged_notification(r: &Request) -> Notification {
    let who = r
        .tracking
        .acknowledged_by
        .as_ref()
        .map_or("?", |p| p.name.as_str());
    note(
        "success",
        "Intervention prise en charge",
        format!("{} : prise en charge par {who}", r.reference()),
        data_of(r),
    )
}

/// What staff are told when the server raises `alert` at `now`.
pub fn alert_notification(r: &Request, alert: &Alert, now: DateTime<Utc>) -> Notification {
    let minutes = alert.minutes_waited(now);
    let (title, message) = match alert.kind {
        AlertKind::Escalated {
            reason: EscalationReason::Unacknowledged,
            level,
            ..
        } => (
            format!("🚨 Escalade niveau {level} — {}", r.reference()),
            format!(
                "Personne n'a pris en charge « {} » ({}) depuis {minutes} min",
                r.title, r.client_name
            ),
        ),
        AlertKind::Escalated { level, .. } => (
            format!("🚨 Escalade niveau {level} — {}", r.reference()),
            format!(
                "{} n'a pas accusé réception de son assignation depuis {minutes} min",
                r.assignee_name.as_deref().unwrap_or("Le technicien")
            ),
        ),
        AlertKind::SlaBreached {
            timer: SlaTimer::Ack,
            ..
        } => (
            format!("Délai de prise en charge dépassé — {}", r.reference()),
            format!("« {} » n'a pas été prise en charge à temps", r.title),
        ),
        AlertKind::SlaBreached { .. } => (
            format!("Délai de résolution dépassé — {}", r.reference()),
            format!("« {} » n'a pas été résolue à temps", r.title),
        ),
    };
    let mut data = data_of(r);
    if let AlertKind::Escalated { level, .. } = alert.kind {
        data["escalationLevel"] = json!(level);
        data["minutesWaited"] = json!(minutes);
    }
    note("warning", title, message, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Priority;

    fn intervention(status: Status, assignee: Option<&str>, urgent: bool) -> Request {
        let at = Utc::now();
        Request {
            id: "t1".into(),
            ticket_number: Some("INT-202511-0001".into()),
            title: "Panne critique site principal".into(),
            description: "Plus d'image".into(),
            site: "Siège".into(),
            status,
            priority: Priority::Urgent,
            client_id: "c1".into(),
            client_name: "Client XYZ".into(),
            assignee_id: assignee.map(str::to_string),
            assignee_name: assignee.map(str::to_string),
            created_at: at,
            updated_at: at,
            version: 1,
            details: Details::Intervention {
                intervention_type: if urgent {
                    InterventionType::Urgent
                } else {
                    InterventionType::Planned
                },
                preferred_date: None,
                project_id: None,
            },
            tracking: Default::default(),
        }
    }

    #[test]
    fn an_urgent_intervention_carries_the_seed_payload() {
        let n = created_notification(&intervention(Status::Open, None, true));
        assert_eq!(n.level, "warning");
        assert_eq!(n.title, "🚨 Intervention Urgente");
        assert_eq!(n.message, "Client XYZ - Panne critique site principal");
        assert_eq!(n.data["ticketId"], "t1");
    }

    #[test]
    fn a_technician_hears_of_an_intervention_leaving_their_scope() {
        let before = intervention(Status::Assigned, Some("tech-a"), false);
        let after = intervention(Status::Assigned, Some("tech-b"), false);
        let a = Audience::of_change(Some(&before), &after);
        assert!(a.admits(Role::Technician, "tech-a"));
        assert!(a.admits(Role::Technician, "tech-b"));
        assert!(!a.admits(Role::Technician, "tech-c"));
        assert!(a.admits(Role::Client, "c1"));
        assert!(!a.admits(Role::Client, "c2"));
        let open = Audience::of_change(None, &intervention(Status::Open, None, true));
        assert!(open.admits(Role::Technician, "tech-c"));
    }

    #[test]
    fn event_type_names_match_the_contract() {
        assert_eq!(
            serde_json::to_value(EventType::MessageCreated).unwrap(),
            "message.created"
        );
    }
}
