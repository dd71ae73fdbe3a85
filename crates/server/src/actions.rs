//! What a caller can do to a request, as plain functions over the store: each one
//! checks scope and role with the core's rules, then commits one change with its event.
//!
//! Handlers parse and call one of these; they run on a blocking thread.

use itv_core::ownership::{self, AckRefusal};
use itv_core::quote::check_acceptable;
use itv_core::request::{Details, Person};
use itv_core::sla::SlaTargets;
use itv_core::status::{Actor, TransitionError, assignable, check_transition};
use itv_core::validation::{NewIntervention, NewProject, NewQuote, StatusChange};
use itv_core::{EventType, FieldErrors, Request, RequestKind, Role, Status, event};

use crate::store::{
    Current, Draft, HistoryDraft, IdemKey, LoggedEvent, Refusal, Store, StoreError, Update, User,
};

/// The actor as the workflow table sees them, for this request.
pub fn actor_for(user: &User, request: &Request) -> Actor {
    Actor {
        role: user.role,
        is_owner: request.client_id == user.id,
        is_assignee: request.assignee_id.as_deref() == Some(user.id.as_str()),
    }
}

pub fn refusal(e: TransitionError) -> Refusal {
    match e {
        TransitionError::Invalid { current } => Refusal::InvalidTransition { current },
        TransitionError::Forbidden => Refusal::Forbidden,
    }
}

/// A request the caller may see, or `NotFound` (never revealing that it exists).
pub fn visible(store: &dyn Store, user: &User, id: &str) -> Result<Request, StoreError> {
    match store.request(id)? {
        Some(r) if r.visible_to(user.role, &user.id) => Ok(r),
        _ => Err(StoreError::NotFound),
    }
}

pub fn create_project(
    store: &dyn Store,
    client: &User,
    p: NewProject,
) -> Result<LoggedEvent, StoreError> {
    store.create_request(Draft {
        client: client.clone(),
        title: p.name.clone(),
        description: p.description,
        site: p.address.clone(),
        priority: p.urgency.priority(),
        sla: None,
        details: Details::Project {
            name: p.name,
            service_type: p.service_type,
            address: p.address,
            estimated_budget: p.estimated_budget,
            preferred_start_date: p.preferred_start_date,
            urgency: p.urgency,
            rejection_reason: None,
        },
    })
}

pub fn create_intervention(
    store: &dyn Store,
    targets: &SlaTargets,
    client: &User,
    i: NewIntervention,
) -> Result<LoggedEvent, StoreError> {
    if let Some(pid) = &i.project_id {
        let own = store
            .request(pid)?
            .is_some_and(|p| p.kind() == RequestKind::Project && p.client_id == client.id);
        if !own {
            return Err(StoreError::Refused(Refusal::Invalid(FieldErrors::single(
                "projectId",
                "Projet introuvable parmi vos projets",
            ))));
        }
    }
    store.create_request(Draft {
        client: client.clone(),
        title: i.title,
        description: i.description,
        site: i.site,
        priority: i.intervention_type.priority(),
        sla: Some(targets.for_priority(i.intervention_type.priority())),
        details: Details::Intervention {
            intervention_type: i.intervention_type,
            preferred_date: i.preferred_date,
            project_id: i.project_id,
        },
    })
}

pub fn create_quote(
    store: &dyn Store,
    client: &User,
    q: NewQuote,
) -> Result<LoggedEvent, StoreError> {
    store.create_request(Draft {
        client: client.clone(),
        title: q.title,
        description: q.description,
        site: String::new(),
        priority: itv_core::Priority::Medium,
        sla: None,
        details: Details::Quote {
            category: q.category,
            estimated_budget: q.estimated_budget,
            deadline: q.deadline,
            items: q.items,
            ticket_type: "billing".into(),
        },
    })
}

/// `Ok(None)`: the idempotency key was seen before and nothing changed.
pub type Outcome = Result<Option<LoggedEvent>, StoreError>;

/// Moves a request to another status, as the workflow table allows for this caller.
/// Assignment and sending a quote have their own actions.
pub fn change_status(
    store: &dyn Store,
    user: &User,
    id: &str,
    change: StatusChange,
    idem: Option<&IdemKey>,
) -> Outcome {
    store.update_request(id, idem, &mut |cur: &Current| {
        let r = &cur.request;
        if !r.visible_to(user.role, &user.id) {
            return Err(Refusal::NotFound);
        }
        if !change.status.belongs_to(r.kind()) {
            return Err(Refusal::Invalid(FieldErrors::single(
                "status",
                "Ce statut n'existe pas pour ce type de demande",
            )));
        }
        match change.status {
            Status::Assigned => {
                return Err(Refusal::Invalid(FieldErrors::single(
                    "status",
                    "Utilisez l'assignation d'un technicien",
                )));
            }
            Status::Sent => {
                return Err(Refusal::Invalid(FieldErrors::single(
                    "status",
                    "Utilisez l'envoi du devis",
                )));
            }
            _ => {}
        }
        check_transition(r.kind(), r.status, change.status, actor_for(user, r)).map_err(refusal)?;
        if change.status == Status::Accepted {
            check_quote_valid(cur)?;
        }
        let mut after = r.clone();
        after.status = change.status;
        if let Details::Project {
            rejection_reason, ..
        } = &mut after.details
            && change.status == Status::Rejected
        {
            *rejection_reason = change.reason.clone();
        }
        ownership::follow_move(r, &mut after, user.role, &person(user), cur.now);
        Ok(Update {
            notification: Some(event::status_notification(&after)),
            request: after,
            event_type: EventType::RequestUpdated,
            history: HistoryDraft {
                actor: user.clone(),
                action: format!("status:{}", change.status.as_str()),
                note: change.reason.clone(),
                staff_only: false,
            },
            quote: None,
        })
    })
}

/// A quote is accepted on or before its `validUntil` (today in UTC, Dakar's time).
fn check_quote_valid(cur: &Current) -> Result<(), Refusal> {
    let valid_until = cur
        .quote
        .as_ref()
        .and_then(|q| q["validUntil"].as_str())
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
    match valid_until {
        Some(d) => {
            check_acceptable(d, chrono::Utc::now().date_naive()).map_err(Refusal::QuoteExpired)
        }
        // Every stored quote has its date; a sent request without a readable one
        // cannot be checked, and accepting it would bypass the rule.
        None => Err(Refusal::Invalid(FieldErrors::single(
            "quote",
            "Ce devis n'a pas de date de validité lisible ; demandez un nouveau devis",
        ))),
    }
}

/// An admin gives an intervention to a technician (or to another one).
pub fn assign(
    store: &dyn Store,
    admin: &User,
    id: &str,
    technician: &User,
    idem: Option<&IdemKey>,
) -> Outcome {
    store.update_request(id, idem, &mut |cur: &Current| {
        let r = &cur.request;
        if admin.role != Role::Admin {
            return Err(Refusal::Forbidden);
        }
        if r.kind() != RequestKind::Intervention {
            return Err(Refusal::Invalid(FieldErrors::single(
                "technicianId",
                "Seule une intervention peut être assignée",
            )));
        }
        if !assignable(r.status) {
            return Err(Refusal::InvalidTransition { current: r.status });
        }
        let mut after = r.clone();
        after.status = Status::Assigned;
        after.assignee_id = Some(technician.id.clone());
        after.assignee_name = Some(technician.name.clone());
        ownership::follow_move(r, &mut after, admin.role, &person(admin), cur.now);
        Ok(Update {
            notification: Some(event::assigned_notification(&after)),
            request: after,
            event_type: EventType::RequestAssigned,
            history: HistoryDraft {
                actor: admin.clone(),
                action: "assigned".into(),
                note: Some(technician.name.clone()),
                staff_only: false,
            },
            quote: None,
        })
    })
}

pub fn person(user: &User) -> Person {
    Person {
        id: user.id.clone(),
        name: user.name.clone(),
    }
}

/// Staff take an intervention: the first acknowledgement is everyone's, and the
/// assignee's own one answers their assignment. `Ok(None)` when nothing changed.
pub fn acknowledge(store: &dyn Store, user: &User, id: &str, idem: Option<&IdemKey>) -> Outcome {
    let done = store.update_request(id, idem, &mut |cur: &Current| {
        let r = &cur.request;
        let after = match ownership::acknowledge(r, user.role, &person(user), cur.now) {
            Ok(Some(after)) => after,
            Ok(None) => return Err(Refusal::Unchanged),
            Err(AckRefusal::NotStaff) => return Err(Refusal::Forbidden),
            Err(AckRefusal::NotVisible) => return Err(Refusal::NotFound),
            Err(AckRefusal::NotIntervention) => {
                return Err(Refusal::Invalid(FieldErrors::single(
                    "kind",
                    "Seule une intervention peut être prise en charge",
                )));
            }
            Err(AckRefusal::Finished) => {
                return Err(Refusal::InvalidTransition { current: r.status });
            }
        };
        let own_assignment =
            after.tracking.assignment_acknowledged_at != r.tracking.assignment_acknowledged_at;
        Ok(Update {
            notification: Some(event::acknowledged_notification(&after)),
            request: after,
            event_type: EventType::RequestAcknowledged,
            history: HistoryDraft {
                actor: user.clone(),
                action: if own_assignment {
                    "assignment:acknowledged".into()
                } else {
                    "acknowledged".into()
                },
                note: None,
                staff_only: false,
            },
            quote: None,
        })
    });
    match done {
        Err(StoreError::Refused(Refusal::Unchanged)) => Ok(None),
        other => other,
    }
}

/// Posts a chat message on a request the author may see.
pub fn post_message(
    store: &dyn Store,
    author: &User,
    id: &str,
    body: &str,
    idem: Option<&IdemKey>,
) -> Outcome {
    visible(store, author, id)?;
    store.add_message(id, author, body, idem)
}
