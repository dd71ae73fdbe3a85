//! Requests for this crate's unit tests: a fixed clock and an urgent intervention.

use chrono::{DateTime, Duration, Utc};

use crate::request::{Details, InterventionType, Request, Tracking};
use crate::status::{Priority, Status};

/// A fixed instant plus `min` minutes.
pub fn at(min: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_000_000, 0).unwrap() + Duration::minutes(min)
}

/// An urgent intervention, open, created at `at(0)`, nobody on it yet.
pub fn urgent() -> Request {
    Request {
        id: "r1".into(),
        ticket_number: Some("INT-202612-0001".into()),
        title: "Caméras hors ligne".into(),
        description: "Plus d'image".into(),
        site: "Plateau".into(),
        status: Status::Open,
        priority: Priority::Urgent,
        client_id: "c1".into(),
        client_name: "Client".into(),
        assignee_id: None,
        assignee_name: None,
        created_at: at(0),
        updated_at: at(0),
        version: 1,
        details: Details::Intervention {
            intervention_type: InterventionType::Urgent,
            preferred_date: None,
            project_id: None,
        },
        tracking: Tracking::default(),
    }
}
