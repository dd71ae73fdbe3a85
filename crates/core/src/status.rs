//! Statuses of each kind, the transitions between them and who may make each one.
//!
//! One table (`EDGES`) holds the whole workflow so that the server, the desktop
//! app and the portal agree on what is possible.

use serde::{Deserialize, Serialize};

use crate::kind::RequestKind;
use crate::role::Role;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    // project
    Pending,
    Active,
    Rejected,
    Completed,
    // intervention (and `Open` for quotes)
    Open,
    Assigned,
    EnRoute,
    OnSite,
    Resolved,
    Closed,
    Cancelled,
    // quote
    InProgress,
    Sent,
    Accepted,
    Declined,
}

impl Status {
    pub const ALL: [Status; 15] = [
        Status::Pending,
        Status::Active,
        Status::Rejected,
        Status::Completed,
        Status::Open,
        Status::Assigned,
        Status::EnRoute,
        Status::OnSite,
        Status::Resolved,
        Status::Closed,
        Status::Cancelled,
        Status::InProgress,
        Status::Sent,
        Status::Accepted,
        Status::Declined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Active => "active",
            Status::Rejected => "rejected",
            Status::Completed => "completed",
            Status::Open => "open",
            Status::Assigned => "assigned",
            Status::EnRoute => "en_route",
            Status::OnSite => "on_site",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
            Status::InProgress => "in_progress",
            Status::Sent => "sent",
            Status::Accepted => "accepted",
            Status::Declined => "declined",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The status a new request of this kind starts in.
    pub fn initial(kind: RequestKind) -> Status {
        match kind {
            RequestKind::Project => Status::Pending,
            RequestKind::Intervention | RequestKind::Quote => Status::Open,
        }
    }

    /// Whether this status belongs to the workflow of `kind`.
    pub fn belongs_to(self, kind: RequestKind) -> bool {
        EDGES
            .iter()
            .any(|e| e.kind == kind && (e.from == self || e.to == self))
    }

    /// French label, for notifications and the portal.
    pub fn label_fr(self) -> &'static str {
        match self {
            Status::Pending => "En attente de validation",
            Status::Active => "Actif",
            Status::Rejected => "Refusé",
            Status::Completed => "Terminé",
            Status::Open => "Ouvert",
            Status::Assigned => "Technicien assigné",
            Status::EnRoute => "Technicien en route",
            Status::OnSite => "Technicien sur site",
            Status::Resolved => "Résolu",
            Status::Closed => "Clôturé",
            Status::Cancelled => "Annulé",
            Status::InProgress => "Devis en préparation",
            Status::Sent => "Devis envoyé",
            Status::Accepted => "Devis accepté",
            Status::Declined => "Devis refusé",
        }
    }
}

/// Priority of a request (`urgent` sorts first in staff lists).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Sort rank: urgent first.
    pub fn rank(self) -> u8 {
        match self {
            Priority::Urgent => 0,
            Priority::High => 1,
            Priority::Medium => 2,
            Priority::Low => 3,
        }
    }
}

/// A project's urgency as the client states it (`normal` | `high` | `urgent`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    #[default]
    Normal,
    High,
    Urgent,
}

impl Urgency {
    pub fn parse(s: &str) -> Option<Urgency> {
        match s {
            "normal" => Some(Urgency::Normal),
            "high" => Some(Urgency::High),
            "urgent" => Some(Urgency::Urgent),
            _ => None,
        }
    }

    pub fn priority(self) -> Priority {
        match self {
            Urgency::Normal => Priority::Medium,
            Urgency::High => Priority::High,
            Urgency::Urgent => Priority::Urgent,
        }
    }
}

/// Who may take an edge of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    /// The technician the intervention is assigned to.
    Assignee,
    /// The client who owns the request.
    Owner,
}

struct Edge {
    kind: RequestKind,
    from: Status,
    to: Status,
    who: &'static [Who],
}

const fn edge(kind: RequestKind, from: Status, to: Status, who: &'static [Who]) -> Edge {
    Edge {
        kind,
        from,
        to,
        who,
    }
}

use RequestKind::{Intervention as I, Project as P, Quote as Q};
use Status as S;
const ADMIN: &[Who] = &[Who::Admin];
const FIELD: &[Who] = &[Who::Assignee, Who::Admin];
const OWNER_OR_ADMIN: &[Who] = &[Who::Owner, Who::Admin];
const OWNER: &[Who] = &[Who::Owner];

const EDGES: &[Edge] = &[
    edge(P, S::Pending, S::Active, ADMIN),
    edge(P, S::Pending, S::Rejected, ADMIN),
    edge(P, S::Active, S::Completed, ADMIN),
    edge(I, S::Open, S::Assigned, ADMIN),
    edge(I, S::Assigned, S::EnRoute, FIELD),
    edge(I, S::EnRoute, S::OnSite, FIELD),
    edge(I, S::OnSite, S::Resolved, FIELD),
    edge(I, S::Resolved, S::Closed, ADMIN),
    edge(I, S::Open, S::Cancelled, OWNER_OR_ADMIN),
    edge(I, S::Assigned, S::Cancelled, OWNER_OR_ADMIN),
    edge(I, S::EnRoute, S::Cancelled, OWNER_OR_ADMIN),
    edge(I, S::OnSite, S::Cancelled, OWNER_OR_ADMIN),
    edge(Q, S::Open, S::InProgress, ADMIN),
    edge(Q, S::InProgress, S::Sent, ADMIN),
    edge(Q, S::Sent, S::Accepted, OWNER),
    edge(Q, S::Sent, S::Declined, OWNER),
];

/// The person asking for a change, seen from the request.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub role: Role,
    pub is_owner: bool,
    pub is_assignee: bool,
}

impl Actor {
    fn is(&self, who: Who) -> bool {
        match who {
            Who::Admin => self.role == Role::Admin,
            Who::Assignee => self.role == Role::Technician && self.is_assignee,
            Who::Owner => self.role == Role::Client && self.is_owner,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The workflow has no such step from the current status (HTTP 409).
    #[error("transition impossible depuis le statut « {} »", current.as_str())]
    Invalid { current: Status },
    /// The step exists but this actor may not take it (HTTP 403).
    #[error("action non autorisée pour ce rôle")]
    Forbidden,
}

/// Checks that `actor` may move a request of `kind` from `from` to `to`.
pub fn check_transition(
    kind: RequestKind,
    from: Status,
    to: Status,
    actor: Actor,
) -> Result<(), TransitionError> {
    let edge = EDGES
        .iter()
        .find(|e| e.kind == kind && e.from == from && e.to == to)
        .ok_or(TransitionError::Invalid { current: from })?;
    if edge.who.iter().any(|w| actor.is(*w)) {
        Ok(())
    } else {
        Err(TransitionError::Forbidden)
    }
}

/// The statuses `actor` may move the request to next, for UIs to offer as actions.
pub fn next_statuses(kind: RequestKind, from: Status, actor: Actor) -> Vec<Status> {
    EDGES
        .iter()
        .filter(|e| e.kind == kind && e.from == from && e.who.iter().any(|w| actor.is(*w)))
        .map(|e| e.to)
        .collect()
}

/// Statuses in which an intervention may still be (re)assigned to a technician.
pub fn assignable(status: Status) -> bool {
    matches!(status, Status::Open | Status::Assigned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN_ACTOR: Actor = Actor {
        role: Role::Admin,
        is_owner: false,
        is_assignee: false,
    };

    fn tech(is_assignee: bool) -> Actor {
        Actor {
            role: Role::Technician,
            is_owner: false,
            is_assignee,
        }
    }

    fn client(is_owner: bool) -> Actor {
        Actor {
            role: Role::Client,
            is_owner,
            is_assignee: false,
        }
    }

    #[test]
    fn every_status_name_round_trips() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
    }

    #[test]
    fn admin_validates_or_rejects_a_pending_project_only() {
        assert_eq!(
            check_transition(P, S::Pending, S::Active, ADMIN_ACTOR),
            Ok(())
        );
        assert_eq!(
            check_transition(P, S::Pending, S::Rejected, ADMIN_ACTOR),
            Ok(())
        );
        assert_eq!(
            check_transition(P, S::Rejected, S::Active, ADMIN_ACTOR),
            Err(TransitionError::Invalid {
                current: S::Rejected
            })
        );
        assert_eq!(
            check_transition(P, S::Pending, S::Active, client(true)),
            Err(TransitionError::Forbidden)
        );
    }

    #[test]
    fn only_the_assigned_technician_moves_the_intervention_in_the_field() {
        assert_eq!(
            check_transition(I, S::Assigned, S::EnRoute, tech(true)),
            Ok(())
        );
        assert_eq!(
            check_transition(I, S::Assigned, S::EnRoute, tech(false)),
            Err(TransitionError::Forbidden)
        );
        assert_eq!(
            check_transition(I, S::Assigned, S::OnSite, tech(true)),
            Err(TransitionError::Invalid {
                current: S::Assigned
            })
        );
        assert_eq!(next_statuses(I, S::OnSite, tech(true)), vec![S::Resolved]);
    }

    #[test]
    fn the_client_cancels_an_open_intervention_but_not_a_resolved_one() {
        assert_eq!(
            check_transition(I, S::Open, S::Cancelled, client(true)),
            Ok(())
        );
        assert_eq!(
            check_transition(I, S::Open, S::Cancelled, client(false)),
            Err(TransitionError::Forbidden)
        );
        assert_eq!(
            check_transition(I, S::Resolved, S::Cancelled, client(true)),
            Err(TransitionError::Invalid {
                current: S::Resolved
            })
        );
    }

    #[test]
    fn only_the_owner_answers_a_sent_quote() {
        assert_eq!(
            check_transition(Q, S::Sent, S::Accepted, client(true)),
            Ok(())
        );
        assert_eq!(
            check_transition(Q, S::Sent, S::Accepted, ADMIN_ACTOR),
            Err(TransitionError::Forbidden)
        );
        assert_eq!(
            check_transition(Q, S::Open, S::Accepted, client(true)),
            Err(TransitionError::Invalid { current: S::Open })
        );
    }

    #[test]
    fn statuses_belong_to_their_kind() {
        assert!(S::EnRoute.belongs_to(I));
        assert!(!S::EnRoute.belongs_to(Q));
        assert!(S::Open.belongs_to(Q));
        assert!(!S::Open.belongs_to(P));
    }

    #[test]
    fn urgency_and_priority() {
        assert_eq!(Urgency::Normal.priority(), Priority::Medium);
        assert_eq!(Urgency::Urgent.priority(), Priority::Urgent);
        assert!(Priority::Urgent.rank() < Priority::Low.rank());
    }
}
