//! What a desk reads from the server's tracking fields (issue 10): who still has to take
//! an intervention, and where its service-level timers stand *now*. Acknowledgement is the
//! server's (shared by every desk); nothing here records one locally.
//!
//! The predicates mirror `itv_core::ownership` on the desk's wire copy of a request; the
//! timer arithmetic is `itv_core::sla`'s own, so a desk and the server never disagree on
//! when a target turns amber or red.

use chrono::{DateTime, SecondsFormat, Utc};
use itv_core::sla::Deadline;

use crate::types::{Request, RequestKind, Role, Sla, SlaState, User};

/// Unix milliseconds of an RFC 3339 instant (the server writes several precisions, so
/// the text does not compare as time; milliseconds do).
pub fn parse_ms(at: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|d| d.with_timezone(&Utc).timestamp_millis())
}

/// The RFC 3339 form the desk hands to its UI.
pub fn format_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The instants an intervention's timers depend on, in unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timers {
    pub created: Option<i64>,
    pub ack_due: Option<i64>,
    pub resolve_due: Option<i64>,
    pub acknowledged: Option<i64>,
    pub finished: Option<i64>,
}

impl Timers {
    pub fn of(r: &Request) -> Timers {
        let t = &r.tracking;
        let sla = t.sla.as_ref();
        Timers {
            created: parse_ms(&r.created_at),
            ack_due: sla.and_then(|s| parse_ms(&s.ack_due_at)),
            resolve_due: sla.and_then(|s| parse_ms(&s.resolve_due_at)),
            acknowledged: t.acknowledged_at.as_deref().and_then(parse_ms),
            finished: t.finished_at.as_deref().and_then(parse_ms),
        }
    }

    /// Both timers as they stand at `now` (the cached states are as of the server's read).
    pub fn sla_at(&self, now: i64) -> Option<Sla> {
        let (ack_due, resolve_due) = (self.ack_due?, self.resolve_due?);
        let start = self.created.unwrap_or(ack_due.min(resolve_due));
        let at = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
        let state = |due: i64, done: Option<i64>| -> SlaState {
            // The server's deadline: the target is what separates creation from the due time.
            Deadline::after(at(start), at(due) - at(start)).state(done.map(at), at(now))
        };
        Some(Sla {
            ack_due_at: format_ms(ack_due),
            resolve_due_at: format_ms(resolve_due),
            ack: state(ack_due, self.acknowledged.or(self.finished)),
            resolve: state(resolve_due, self.finished),
        })
    }

    /// The deadline still to meet: acknowledgement until someone takes it, then resolution;
    /// none once final (or without timers).
    pub fn next_due(&self, active: bool) -> Option<i64> {
        if !active {
            return None;
        }
        match self.acknowledged {
            None => self.ack_due.or(self.resolve_due),
            Some(_) => self.resolve_due,
        }
    }
}

/// Whose acknowledgement an urgent intervention still waits for, as one desk sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// Nobody has taken it: every staff desk that sees it reminds.
    Anyone,
    /// It is assigned to this desk's user, who has not acknowledged the assignment.
    Me,
}

impl Request {
    /// An intervention nobody has taken yet. (`is_terminal` is `itv_core::ownership::is_final`
    /// for interventions: resolved, closed, cancelled.)
    pub fn awaits_ack(&self) -> bool {
        self.kind == RequestKind::Intervention
            && self.tracking.acknowledged_at.is_none()
            && !self.is_terminal()
    }

    /// Assigned to `user_id`, who has not acknowledged the assignment yet.
    pub fn awaits_assignee(&self, user_id: &str) -> bool {
        self.kind == RequestKind::Intervention
            && self.assignee_id.as_deref() == Some(user_id)
            && self.tracking.assigned_at.is_some()
            && self.tracking.assignment_acknowledged_at.is_none()
            && !self.is_terminal()
    }

    /// Whether *Je prends* changes something when `me` presses it.
    pub fn can_acknowledge(&self, me: &User) -> bool {
        matches!(me.role, Role::Admin | Role::Technician)
            && self.visible_to(me.role, &me.id)
            && (self.awaits_ack() || self.awaits_assignee(&me.id))
    }

    /// Whether this desk keeps reminding about this urgent intervention, and why.
    /// An assignment silences everyone's reminders (it implies an acknowledgement) but
    /// its technician's, until they acknowledge it themselves.
    pub fn awaiting(&self, me: &User) -> Option<Awaiting> {
        if !matches!(me.role, Role::Admin | Role::Technician) || !self.is_urgent_intervention() {
            return None;
        }
        if !self.visible_to(me.role, &me.id) {
            return None;
        }
        if self.awaits_ack() {
            Some(Awaiting::Anyone)
        } else if self.awaits_assignee(&me.id) {
            Some(Awaiting::Me)
        } else {
            None
        }
    }

    /// The timers as of `now` (unix ms), recomputed from the due times.
    pub fn sla_at(&self, now: i64) -> Option<Sla> {
        Timers::of(self).sla_at(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Person, Priority, Tracking};

    const T0: &str = "2026-12-01T10:00:00Z";

    fn min(m: i64) -> i64 {
        parse_ms(T0).unwrap() + m * 60_000
    }

    fn urgent() -> Request {
        let mut extra = serde_json::Map::new();
        extra.insert("type".into(), "urgent".into());
        Request {
            id: "r1".into(),
            kind: RequestKind::Intervention,
            ticket_number: Some("INT-202612-0001".into()),
            title: "Caméras hors ligne".into(),
            description: String::new(),
            site: "Plateau".into(),
            status: "open".into(),
            priority: Priority::Urgent,
            client_id: "c1".into(),
            client_name: "Client".into(),
            assignee_id: None,
            assignee_name: None,
            created_at: T0.into(),
            updated_at: T0.into(),
            version: 1,
            tracking: Tracking {
                sla: Some(Sla {
                    ack_due_at: "2026-12-01T10:15:00.000000000Z".into(),
                    resolve_due_at: "2026-12-01T14:00:00Z".into(),
                    ack: SlaState::Pending,
                    resolve: SlaState::Pending,
                }),
                ..Tracking::default()
            },
            extra,
        }
    }

    fn user(id: &str, role: Role) -> User {
        User {
            id: id.into(),
            name: format!("Nom {id}"),
            email: format!("{id}@itvision.sn"),
            role,
        }
    }

    #[test]
    fn timers_turn_amber_then_red_from_the_due_times_not_the_cached_states() {
        let r = urgent();
        let s = |m: i64| r.sla_at(min(m)).unwrap();
        assert_eq!(s(0).ack, SlaState::Pending);
        // 15 min target: at risk in its last 3 minutes, breached after it.
        assert_eq!(s(12).ack, SlaState::Pending);
        assert_eq!(s(13).ack, SlaState::AtRisk);
        assert_eq!(s(16).ack, SlaState::Breached);
        assert_eq!(s(16).resolve, SlaState::Pending);
        assert_eq!(s(16).ack_due_at, "2026-12-01T10:15:00.000Z");
        let mut taken = r.clone();
        taken.tracking.acknowledged_at = Some(format_ms(min(4)));
        assert_eq!(taken.sla_at(min(60)).unwrap().ack, SlaState::Met);
        let mut late = r.clone();
        late.tracking.acknowledged_at = Some(format_ms(min(20)));
        assert_eq!(late.sla_at(min(21)).unwrap().ack, SlaState::Breached);
        assert_eq!(Timers::of(&late).next_due(true), Some(min(240)));
        assert_eq!(Timers::of(&r).next_due(true), Some(min(15)));
        assert_eq!(Timers::of(&r).next_due(false), None);
    }

    #[test]
    fn reminders_wait_for_the_server_acknowledgement_then_for_the_assignee_only() {
        let admin = user("a1", Role::Admin);
        let tech = user("t1", Role::Technician);
        let other = user("t2", Role::Technician);
        let mut r = urgent();
        for u in [&admin, &tech, &other] {
            assert_eq!(r.awaiting(u), Some(Awaiting::Anyone));
            assert!(r.can_acknowledge(u));
        }
        assert_eq!(r.awaiting(&user("c1", Role::Client)), None);
        // An assignment implies an acknowledgement and asks its technician for theirs.
        r.status = "assigned".into();
        r.assignee_id = Some("t1".into());
        r.tracking.acknowledged_at = Some(format_ms(min(2)));
        r.tracking.acknowledged_by = Some(Person {
            id: "a1".into(),
            name: "Awa".into(),
        });
        r.tracking.assigned_at = Some(format_ms(min(2)));
        assert_eq!(r.awaiting(&admin), None);
        assert!(!r.can_acknowledge(&admin));
        assert_eq!(r.awaiting(&tech), Some(Awaiting::Me));
        assert!(r.can_acknowledge(&tech));
        assert_eq!(r.awaiting(&other), None, "not theirs to see");
        r.tracking.assignment_acknowledged_at = Some(format_ms(min(3)));
        assert_eq!(r.awaiting(&tech), None);
        // Planned interventions never remind, though they may be acknowledged.
        let mut planned = urgent();
        planned.priority = Priority::Medium;
        planned.extra.insert("type".into(), "planned".into());
        assert_eq!(planned.awaiting(&admin), None);
        assert!(planned.can_acknowledge(&admin));
        let mut cancelled = urgent();
        cancelled.status = "cancelled".into();
        assert_eq!(cancelled.awaiting(&admin), None);
        assert!(!cancelled.can_acknowledge(&admin));
    }

    #[test]
    fn tracking_fields_round_trip_without_landing_in_extra() {
        let json = serde_json::json!({
            "_id": "r1", "kind": "intervention", "title": "t", "status": "open",
            "priority": "urgent", "createdAt": T0, "updatedAt": T0, "version": 3,
            "type": "urgent",
            "acknowledgedAt": "2026-12-01T10:02:00Z",
            "acknowledgedBy": {"_id": "a1", "name": "Awa"},
            "assignedAt": null,
            "sla": {"ackDueAt": "2026-12-01T10:15:00Z", "resolveDueAt": "2026-12-01T14:00:00Z",
                    "ack": "met", "resolve": "at_risk"}
        });
        let r: Request = serde_json::from_value(json).unwrap();
        assert_eq!(r.tracking.acknowledged_by.as_ref().unwrap().name, "Awa");
        assert_eq!(r.tracking.sla.as_ref().unwrap().resolve, SlaState::AtRisk);
        assert_eq!(r.extra.len(), 1, "only `type` left over: {:?}", r.extra);
        let back = serde_json::to_string(&r).unwrap();
        assert_eq!(back.matches("acknowledgedAt").count(), 1, "{back}");
    }
}
