//! Who owns an intervention: acknowledgement shared by all staff, the assignee's own
//! acknowledgement of their assignment, and the instants the service levels stop on.
//!
//! One acknowledgement per request, by whoever comes first; it is implied by moves
//! that only someone who has taken the call makes (an assignment, going en route), so
//! reminders stop then too. An assignment asks its technician for their own
//! acknowledgement, which going en route also gives.

use chrono::{DateTime, Utc};

use crate::kind::RequestKind;
use crate::request::{Person, Request};
use crate::role::Role;
use crate::status::Status;

/// Why an acknowledgement is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AckRefusal {
    /// A client never acknowledges (HTTP 403).
    #[error("seul le personnel peut prendre en charge une intervention")]
    NotStaff,
    /// The caller may not see it (HTTP 404, revealing nothing).
    #[error("introuvable")]
    NotVisible,
    /// Projects and quotes have no acknowledgement (HTTP 400).
    #[error("seule une intervention peut être prise en charge")]
    NotIntervention,
    /// Finished before anyone took it (HTTP 409).
    #[error("cette intervention est terminée")]
    Finished,
}

/// Final statuses: the timers stop and nothing is left to acknowledge.
pub fn is_final(status: Status) -> bool {
    matches!(
        status,
        Status::Resolved | Status::Closed | Status::Cancelled
    )
}

/// Whether an intervention still waits for someone to take it.
pub fn awaits_ack(r: &Request) -> bool {
    r.kind() == RequestKind::Intervention
        && r.tracking.acknowledged_at.is_none()
        && !is_final(r.status)
}

/// Whether its assignee still has to acknowledge their assignment.
pub fn awaits_assignee(r: &Request) -> bool {
    r.assignee_id.is_some()
        && r.tracking.assigned_at.is_some()
        && r.tracking.assignment_acknowledged_at.is_none()
        && !is_final(r.status)
}

/// The request after `who` (of `role`) acknowledges it at `at`; `Ok(None)` when that
/// changes nothing (acknowledged already, by them or someone else).
pub fn acknowledge(
    r: &Request,
    role: Role,
    who: &Person,
    at: DateTime<Utc>,
) -> Result<Option<Request>, AckRefusal> {
    if role == Role::Client {
        return Err(AckRefusal::NotStaff);
    }
    if !r.visible_to(role, &who.id) {
        return Err(AckRefusal::NotVisible);
    }
    if r.kind() != RequestKind::Intervention {
        return Err(AckRefusal::NotIntervention);
    }
    if is_final(r.status) && r.tracking.acknowledged_at.is_none() {
        return Err(AckRefusal::Finished);
    }
    let mut after = r.clone();
    take(&mut after, who, at);
    if r.assignee_id.as_deref() == Some(who.id.as_str()) && awaits_assignee(r) {
        after.tracking.assignment_acknowledged_at = Some(at);
    }
    Ok((after.tracking != r.tracking).then_some(after))
}

/// Records the first acknowledgement, unless the request is finished or taken.
fn take(r: &mut Request, who: &Person, at: DateTime<Utc>) {
    if awaits_ack(r) {
        r.tracking.acknowledged_at = Some(at);
        r.tracking.acknowledged_by = Some(who.clone());
    }
}

/// Keeps the tracking fields of `after` in step with a workflow move made by `actor`
/// (of `role`) at `at`: assignment, status change, or both.
pub fn follow_move(
    before: &Request,
    after: &mut Request,
    role: Role,
    actor: &Person,
    at: DateTime<Utc>,
) {
    if after.kind() != RequestKind::Intervention {
        return;
    }
    let staff = role != Role::Client;
    if after.assignee_id != before.assignee_id {
        after.tracking.assigned_at = after.assignee_id.as_ref().map(|_| at);
        after.tracking.assignment_acknowledged_at = None;
    }
    let moved = after.status != before.status || after.assignee_id != before.assignee_id;
    if staff && moved {
        take(after, actor, at);
    }
    if after.status == Status::EnRoute && before.status != Status::EnRoute {
        after.tracking.en_route_at = Some(at);
        if awaits_assignee(after) {
            after.tracking.assignment_acknowledged_at = Some(at);
        }
    }
    if is_final(after.status) && after.tracking.finished_at.is_none() {
        after.tracking.finished_at = Some(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{at, urgent};
    use crate::request::Details;

    fn person(id: &str) -> Person {
        Person {
            id: id.into(),
            name: format!("Nom {id}"),
        }
    }

    #[test]
    fn the_first_staff_member_to_acknowledge_owns_it_and_a_second_ack_changes_nothing() {
        let r = urgent();
        let a = acknowledge(&r, Role::Technician, &person("t1"), at(2))
            .unwrap()
            .unwrap();
        assert_eq!(a.tracking.acknowledged_at, Some(at(2)));
        assert_eq!(a.tracking.acknowledged_by, Some(person("t1")));
        assert!(!awaits_ack(&a));
        assert_eq!(acknowledge(&a, Role::Admin, &person("a1"), at(3)), Ok(None));
        assert_eq!(
            acknowledge(&a, Role::Technician, &person("t1"), at(4)),
            Ok(None)
        );
    }

    #[test]
    fn clients_and_those_who_cannot_see_it_may_not_acknowledge() {
        let mut r = urgent();
        assert_eq!(
            acknowledge(&r, Role::Client, &person("c1"), at(1)),
            Err(AckRefusal::NotStaff)
        );
        r.status = Status::Assigned;
        r.assignee_id = Some("t2".into());
        assert_eq!(
            acknowledge(&r, Role::Technician, &person("t1"), at(1)),
            Err(AckRefusal::NotVisible)
        );
        let mut project = urgent();
        project.details = Details::Project {
            name: "P".into(),
            service_type: crate::request::ServiceType::Network,
            address: "A".into(),
            estimated_budget: None,
            preferred_start_date: None,
            urgency: crate::status::Urgency::Normal,
            rejection_reason: None,
        };
        assert_eq!(
            acknowledge(&project, Role::Admin, &person("a1"), at(1)),
            Err(AckRefusal::NotIntervention)
        );
        let mut cancelled = urgent();
        let before = cancelled.clone();
        cancelled.status = Status::Cancelled;
        follow_move(&before, &mut cancelled, Role::Client, &person("c1"), at(1));
        assert_eq!(
            acknowledge(&cancelled, Role::Admin, &person("a1"), at(2)),
            Err(AckRefusal::Finished)
        );
    }

    #[test]
    fn an_assignment_takes_the_call_and_asks_its_technician_to_acknowledge() {
        let r = urgent();
        let mut assigned = r.clone();
        assigned.status = Status::Assigned;
        assigned.assignee_id = Some("t1".into());
        follow_move(&r, &mut assigned, Role::Admin, &person("a1"), at(1));
        assert_eq!(assigned.tracking.acknowledged_by, Some(person("a1")));
        assert_eq!(assigned.tracking.assigned_at, Some(at(1)));
        assert!(awaits_assignee(&assigned));
        // Another technician's ack changes nothing; the assignee's own one counts.
        let mine = acknowledge(&assigned, Role::Technician, &person("t1"), at(3))
            .unwrap()
            .unwrap();
        assert_eq!(mine.tracking.assignment_acknowledged_at, Some(at(3)));
        assert_eq!(mine.tracking.acknowledged_by, Some(person("a1")));
        // Reassigned: the new technician is asked again.
        let mut again = mine.clone();
        again.assignee_id = Some("t2".into());
        follow_move(&mine, &mut again, Role::Admin, &person("a1"), at(5));
        assert_eq!(again.tracking.assigned_at, Some(at(5)));
        assert!(awaits_assignee(&again));
    }

    #[test]
    fn going_en_route_acknowledges_the_assignment_and_a_final_status_stops_the_timers() {
        let mut assigned = urgent();
        assigned.status = Status::Assigned;
        assigned.assignee_id = Some("t1".into());
        assigned.tracking.assigned_at = Some(at(1));
        assigned.tracking.acknowledged_at = Some(at(1));
        let mut en_route = assigned.clone();
        en_route.status = Status::EnRoute;
        follow_move(
            &assigned,
            &mut en_route,
            Role::Technician,
            &person("t1"),
            at(9),
        );
        assert_eq!(en_route.tracking.en_route_at, Some(at(9)));
        assert_eq!(en_route.tracking.assignment_acknowledged_at, Some(at(9)));
        let mut resolved = en_route.clone();
        resolved.status = Status::Resolved;
        follow_move(
            &en_route,
            &mut resolved,
            Role::Technician,
            &person("t1"),
            at(40),
        );
        let mut closed = resolved.clone();
        closed.status = Status::Closed;
        follow_move(&resolved, &mut closed, Role::Admin, &person("a1"), at(90));
        assert_eq!(closed.tracking.finished_at, Some(at(40)));
    }

    #[test]
    fn a_client_cancelling_does_not_acknowledge() {
        let r = urgent();
        let mut cancelled = r.clone();
        cancelled.status = Status::Cancelled;
        follow_move(&r, &mut cancelled, Role::Client, &person("c1"), at(3));
        assert_eq!(cancelled.tracking.acknowledged_at, None);
        assert_eq!(cancelled.tracking.finished_at, Some(at(3)));
        assert!(!awaits_ack(&cancelled));
    }
}
