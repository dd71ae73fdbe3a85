//! The `Request` as every part of the system sees it: common fields plus the
//! fields of its kind, flat in one JSON object (the seed's response shape).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::kind::RequestKind;
use crate::role::Role;
use crate::status::{Priority, Status, Urgency};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceType {
    Surveillance,
    AccessControl,
    Network,
    Other,
}

impl ServiceType {
    pub const NAMES: &'static str = "surveillance, access_control, network, other";
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InterventionType {
    Planned,
    Urgent,
}

impl InterventionType {
    /// The seed: the type decides the priority.
    pub fn priority(self) -> Priority {
        match self {
            InterventionType::Urgent => Priority::Urgent,
            InterventionType::Planned => Priority::Medium,
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuoteCategory {
    Equipment,
    Service,
    Maintenance,
    Other,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteItem {
    pub name: String,
    pub quantity: i64,
    #[serde(default)]
    pub specifications: String,
}

/// What only one kind of request has.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "lowercase",
    rename_all_fields = "camelCase"
)]
pub enum Details {
    #[cfg_attr(feature = "openapi", schema(rename_all = "camelCase"))]
    Project {
        name: String,
        service_type: ServiceType,
        address: String,
        estimated_budget: Option<i64>,
        preferred_start_date: Option<String>,
        urgency: Urgency,
        rejection_reason: Option<String>,
    },
    #[cfg_attr(feature = "openapi", schema(rename_all = "camelCase"))]
    Intervention {
        #[serde(rename = "type")]
        intervention_type: InterventionType,
        preferred_date: Option<String>,
        project_id: Option<String>,
    },
    #[cfg_attr(feature = "openapi", schema(rename_all = "camelCase"))]
    Quote {
        category: QuoteCategory,
        estimated_budget: Option<i64>,
        deadline: Option<String>,
        items: Vec<QuoteItem>,
        /// The seed's quote requests are tickets of type "billing".
        ticket_type: String,
    },
}

impl Details {
    pub fn kind(&self) -> RequestKind {
        match self {
            Details::Project { .. } => RequestKind::Project,
            Details::Intervention { .. } => RequestKind::Intervention,
            Details::Quote { .. } => RequestKind::Quote,
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_number: Option<String>,
    pub title: String,
    pub description: String,
    pub site: String,
    pub status: Status,
    pub priority: Priority,
    pub client_id: String,
    pub client_name: String,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// +1 on every change: lets a cache apply an event only once.
    pub version: i64,
    #[serde(flatten)]
    pub details: Details,
    #[serde(flatten)]
    pub tracking: Tracking,
}

/// Someone named on a request: `{_id, name}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
}

/// Who took an intervention and when, and its service-level timers (`crate::ownership`
/// keeps these fields; `null` on other kinds and until it happens).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Tracking {
    /// The first acknowledgement by staff: the explicit one, or the first move that
    /// implies it (an assignment, a technician going en route).
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<Person>,
    /// When the current technician was assigned.
    pub assigned_at: Option<DateTime<Utc>>,
    /// When the current technician acknowledged their assignment (or went en route).
    pub assignment_acknowledged_at: Option<DateTime<Utc>>,
    /// When a technician last went en route.
    pub en_route_at: Option<DateTime<Utc>>,
    /// When it first reached a final status (resolved, closed, cancelled).
    pub finished_at: Option<DateTime<Utc>>,
    /// Interventions only: the timers as they stood when this copy was read.
    pub sla: Option<crate::sla::Sla>,
}

impl Request {
    pub fn kind(&self) -> RequestKind {
        self.details.kind()
    }

    /// Who may see this request (HTTP and feed alike).
    pub fn visible_to(&self, role: Role, user_id: &str) -> bool {
        match role {
            Role::Admin => true,
            Role::Client => self.client_id == user_id,
            Role::Technician => {
                self.kind() == RequestKind::Intervention
                    && (self.status == Status::Open || self.assignee_id.as_deref() == Some(user_id))
            }
        }
    }

    /// The name shown in messages: ticket number when there is one, else the title.
    pub fn reference(&self) -> &str {
        self.ticket_number.as_deref().unwrap_or(&self.title)
    }
}

/// One line of a request's history: who did what, when.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub from_status: Option<Status>,
    pub to_status: Option<Status>,
    pub note: Option<String>,
    /// For staff only: a client never sees this entry's note (a draft quote's price,
    /// say), nor the entry at all unless it moved the status.
    #[serde(default)]
    pub staff_only: bool,
}

impl HistoryEntry {
    /// The entry as `role` may read it: staff read everything; a client does not see a
    /// staff-only entry, except the status move it carries, without its note.
    pub fn as_seen_by(&self, role: Role) -> Option<HistoryEntry> {
        if !self.staff_only || role != Role::Client {
            return Some(self.clone());
        }
        (self.from_status.is_some() || self.to_status.is_some()).then(|| HistoryEntry {
            note: None,
            ..self.clone()
        })
    }
}

/// A message of a request's chat between the client and staff.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    #[serde(rename = "_id")]
    pub id: String,
    pub request_id: String,
    pub author_id: String,
    pub author_name: String,
    pub author_role: Role,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_never_reads_a_staff_only_note() {
        let at = Utc::now();
        let entry = HistoryEntry {
            at,
            actor_id: "a1".into(),
            actor_name: "Admin".into(),
            action: "quote:prepared".into(),
            from_status: None,
            to_status: None,
            note: Some("Total TTC 1 770 000 FCFA".into()),
            staff_only: true,
        };
        assert_eq!(entry.as_seen_by(Role::Admin), Some(entry.clone()));
        assert_eq!(entry.as_seen_by(Role::Technician), Some(entry.clone()));
        assert_eq!(entry.as_seen_by(Role::Client), None);
        let moved = HistoryEntry {
            from_status: Some(Status::Open),
            to_status: Some(Status::InProgress),
            ..entry.clone()
        };
        let seen = moved.as_seen_by(Role::Client).unwrap();
        assert_eq!(
            (seen.note, seen.to_status),
            (None, Some(Status::InProgress))
        );
        let public = HistoryEntry {
            staff_only: false,
            ..entry
        };
        assert_eq!(public.as_seen_by(Role::Client), Some(public.clone()));
    }

    #[test]
    fn a_project_serialises_flat_with_the_seed_fields() {
        let at = DateTime::parse_from_rfc3339("2025-11-19T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let r = Request {
            id: "p1".into(),
            ticket_number: None,
            title: "Installation vidéosurveillance".into(),
            description: "16 caméras".into(),
            site: "123 Rue de Dakar".into(),
            status: Status::Pending,
            priority: Priority::Medium,
            client_id: "c1".into(),
            client_name: "Client XYZ".into(),
            assignee_id: None,
            assignee_name: None,
            created_at: at,
            updated_at: at,
            version: 1,
            tracking: Tracking::default(),
            details: Details::Project {
                name: "Installation vidéosurveillance".into(),
                service_type: ServiceType::Surveillance,
                address: "123 Rue de Dakar".into(),
                estimated_budget: Some(2_500_000),
                preferred_start_date: Some("2025-12-01".into()),
                urgency: Urgency::Normal,
                rejection_reason: None,
            },
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["_id"], "p1");
        assert_eq!(v["kind"], "project");
        assert_eq!(v["name"], "Installation vidéosurveillance");
        assert_eq!(v["serviceType"], "surveillance");
        assert_eq!(v["status"], "pending");
        assert_eq!(v["estimatedBudget"], 2_500_000);
        assert!(v.get("ticketNumber").is_none());
        let back: Request = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }
}
