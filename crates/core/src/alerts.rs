//! The alerts a server raises by itself, with no one acting: escalation of an urgent
//! intervention nobody has taken (or whose technician has not acknowledged their
//! assignment), and service-level breaches.
//!
//! `due_alerts` lists every alert a request should have raised by `now`, each under a
//! stable key; the store records each key once, so a scheduler that runs twice, or
//! restarts after a pause, raises each alert exactly once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ownership::{awaits_ack, awaits_assignee, is_final};
use crate::request::Request;
use crate::role::Role;
use crate::sla::Escalation;
use crate::status::Priority;

/// Why an intervention escalates.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// Nobody has acknowledged it: every admin and technician hears.
    Unacknowledged,
    /// Its technician has not acknowledged the assignment: the admins hear.
    Assignment,
}

/// Which service-level timer was missed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaTimer {
    Ack,
    Resolve,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    Escalated {
        reason: EscalationReason,
        level: u32,
        /// When the wait began: creation, or the assignment.
        since: DateTime<Utc>,
    },
    SlaBreached {
        timer: SlaTimer,
        due: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Unique per request: recorded once, never raised again.
    pub key: String,
    pub kind: AlertKind,
}

impl Alert {
    /// Who hears it: technicians only for an unacknowledged call.
    pub fn reaches(&self, role: Role) -> bool {
        role == Role::Admin
            || role == Role::Technician
                && matches!(
                    self.kind,
                    AlertKind::Escalated {
                        reason: EscalationReason::Unacknowledged,
                        ..
                    }
                )
    }

    /// Whole minutes waited when level `level` is raised.
    pub fn minutes_waited(&self, now: DateTime<Utc>) -> i64 {
        match self.kind {
            AlertKind::Escalated { since, .. } => (now - since).num_minutes().max(0),
            AlertKind::SlaBreached { due, .. } => (now - due).num_minutes().max(0),
        }
    }
}

/// Every alert `r` should have raised by `now`, oldest first.
pub fn due_alerts(r: &Request, escalation: &Escalation, now: DateTime<Utc>) -> Vec<Alert> {
    let mut alerts = Vec::new();
    let urgent = r.priority == Priority::Urgent;
    if urgent && awaits_ack(r) {
        for level in 1..=escalation.level_at(r.created_at, now) {
            alerts.push(Alert {
                key: format!("escalated:unacknowledged:{level}"),
                kind: AlertKind::Escalated {
                    reason: EscalationReason::Unacknowledged,
                    level,
                    since: r.created_at,
                },
            });
        }
    }
    if let Some(since) = r
        .tracking
        .assigned_at
        .filter(|_| urgent && awaits_assignee(r))
    {
        // Keyed by the assignment: a new technician is asked afresh.
        let assignment = since.timestamp_micros();
        for level in 1..=escalation.level_at(since, now) {
            alerts.push(Alert {
                key: format!("escalated:assignment:{assignment}:{level}"),
                kind: AlertKind::Escalated {
                    reason: EscalationReason::Assignment,
                    level,
                    since,
                },
            });
        }
    }
    if let Some(sla) = &r.tracking.sla {
        if awaits_ack(r) && now > sla.ack_due_at {
            alerts.push(breach(SlaTimer::Ack, sla.ack_due_at));
        }
        if !is_final(r.status) && now > sla.resolve_due_at {
            alerts.push(breach(SlaTimer::Resolve, sla.resolve_due_at));
        }
    }
    alerts
}

fn breach(timer: SlaTimer, due: DateTime<Utc>) -> Alert {
    let name = match timer {
        SlaTimer::Ack => "ack",
        SlaTimer::Resolve => "resolve",
    };
    Alert {
        key: format!("sla_breached:{name}"),
        kind: AlertKind::SlaBreached { timer, due },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::at;
    use crate::request::Person;
    use crate::sla::{Deadlines, SlaTargets};
    use crate::status::Status;

    /// The urgent fixture with its default timers as they stand at `now`.
    fn urgent(now: DateTime<Utc>) -> Request {
        let mut r = crate::fixtures::urgent();
        let d = Deadlines::of(&SlaTargets::default(), Priority::Urgent, at(0));
        r.tracking.sla = Some(d.sla(None, None, now));
        r
    }

    fn keys(alerts: &[Alert]) -> Vec<&str> {
        alerts.iter().map(|a| a.key.as_str()).collect()
    }

    #[test]
    fn an_untaken_urgent_call_escalates_each_interval_then_breaches_its_target() {
        let e = Escalation::default();
        assert!(due_alerts(&urgent(at(4)), &e, at(4)).is_empty());
        assert_eq!(
            keys(&due_alerts(&urgent(at(5)), &e, at(5))),
            ["escalated:unacknowledged:1"]
        );
        let late = due_alerts(&urgent(at(16)), &e, at(16));
        assert_eq!(
            keys(&late),
            [
                "escalated:unacknowledged:1",
                "escalated:unacknowledged:2",
                "escalated:unacknowledged:3",
                "sla_breached:ack"
            ]
        );
        assert!(late[0].reaches(Role::Technician));
        assert!(!late[3].reaches(Role::Technician));
        assert_eq!(late[2].minutes_waited(at(16)), 16);
    }

    #[test]
    fn an_acknowledged_call_stops_escalating_but_its_technician_must_acknowledge() {
        let e = Escalation::default();
        let mut r = urgent(at(12));
        r.status = Status::Assigned;
        r.assignee_id = Some("t1".into());
        r.tracking.acknowledged_at = Some(at(2));
        r.tracking.acknowledged_by = Some(Person {
            id: "a1".into(),
            name: "Admin".into(),
        });
        r.tracking.assigned_at = Some(at(2));
        let alerts = due_alerts(&r, &e, at(12));
        assert_eq!(alerts.len(), 2);
        assert!(alerts.iter().all(|a| !a.reaches(Role::Technician)));
        assert!(alerts[0].key.starts_with("escalated:assignment:"));
        r.tracking.assignment_acknowledged_at = Some(at(3));
        assert!(due_alerts(&r, &e, at(12)).is_empty());
    }

    #[test]
    fn planned_interventions_never_escalate_and_finished_ones_raise_nothing() {
        let e = Escalation::default();
        let mut planned = urgent(at(30));
        planned.priority = Priority::Medium;
        planned.tracking.sla = None;
        assert!(due_alerts(&planned, &e, at(300)).is_empty());
        let mut done = urgent(at(600));
        done.status = Status::Cancelled;
        assert!(due_alerts(&done, &e, at(600)).is_empty());
    }
}
