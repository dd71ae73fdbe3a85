//! The writes made of several steps, written once for every backend over what an open
//! transaction of each can do (`Tx`): which rows a change touches, and in which order.
//! The event comes last: on PostgreSQL appending it takes the log's counter row, which
//! every other writer then waits on until this transaction commits.

use chrono::{DateTime, Utc};
use itv_core::event::Audience;
use itv_core::request::ChatMessage;
use itv_core::{EventType, FeedEvent, Notification, Request};

use super::{AlertDraft, Current, Draft, IdemKey, LoggedEvent, Refusal, StoreError, Update, User};

/// What one backend's open transaction does, step by step.
pub trait Tx {
    /// Numbers the request (tickets) and stores it with its first history line.
    fn insert_request(&mut self, draft: Draft, now: DateTime<Utc>) -> Result<Request, StoreError>;
    /// The request, held for this transaction's change (locked, where another writer
    /// could change it meanwhile).
    fn request_for_change(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Request>, StoreError>;
    fn quote(&mut self, request_id: &str) -> Result<Option<serde_json::Value>, StoreError>;
    /// Writes the decided state and its history line; the request as it now stands.
    fn apply_update(
        &mut self,
        before: &Request,
        update: Update,
        now: DateTime<Utc>,
    ) -> Result<Request, StoreError>;
    fn insert_message(&mut self, message: &ChatMessage) -> Result<(), StoreError>;
    /// Records the alert `key` of the request; false if it was raised before.
    fn record_alert(
        &mut self,
        request_id: &str,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Whether `key` was answered before (concurrent calls with it take turns here).
    fn idem_seen(&mut self, key: &IdemKey) -> Result<bool, StoreError>;
    fn idem_record(
        &mut self,
        key: &IdemKey,
        request_id: &str,
        message_id: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Appends `event` to the log, which gives it its `seq`.
    fn append_event(
        &mut self,
        event: FeedEvent,
        audience: Audience,
    ) -> Result<LoggedEvent, StoreError>;
}

/// A write's answer, and the events it logged (for the live feed, after the commit).
pub type Written<T> = (T, Vec<LoggedEvent>);

/// The event of a change from `before` to `after`, heard by those who may see either.
fn change_event(
    (event_type, at): (EventType, DateTime<Utc>),
    before: Option<&Request>,
    after: &Request,
    chat_message: Option<ChatMessage>,
    notification: Option<Notification>,
) -> (FeedEvent, Audience) {
    let event = FeedEvent {
        seq: 0,
        event_type,
        kind: after.kind(),
        request_id: after.id.clone(),
        ticket_number: after.ticket_number.clone(),
        at,
        request: after.clone(),
        chat_message,
        notification,
        escalation_level: None,
        escalation_reason: None,
        sla_timer: None,
    };
    (event, Audience::of_change(before, after))
}

/// One logged event, as the answer and as the only event written.
fn once(
    tx: &mut impl Tx,
    (event, audience): (FeedEvent, Audience),
) -> Result<Written<LoggedEvent>, StoreError> {
    let logged = tx.append_event(event, audience)?;
    Ok((logged.clone(), vec![logged]))
}

pub fn create_request(
    tx: &mut impl Tx,
    draft: Draft,
    now: DateTime<Utc>,
) -> Result<Written<LoggedEvent>, StoreError> {
    let request = tx.insert_request(draft, now)?;
    let notification = itv_core::event::created_notification(&request);
    once(
        tx,
        change_event(
            (EventType::RequestCreated, now),
            None,
            &request,
            None,
            Some(notification),
        ),
    )
}

/// Reads the request, lets `decide` choose the change and writes it with its event;
/// with `idem`, a key seen before changes nothing and answers `None`.
pub fn update_request(
    tx: &mut impl Tx,
    id: &str,
    idem: Option<&IdemKey>,
    decide: &mut dyn FnMut(&Current) -> Result<Update, Refusal>,
    now: DateTime<Utc>,
) -> Result<Written<Option<LoggedEvent>>, StoreError> {
    if let Some(key) = idem
        && tx.idem_seen(key)?
    {
        return Ok((None, Vec::new()));
    }
    let before = tx
        .request_for_change(id, now)?
        .ok_or(StoreError::NotFound)?;
    let quote = tx.quote(id)?;
    let current = Current {
        request: before.clone(),
        now,
        has_quote: quote.is_some(),
        quote,
    };
    let update = decide(&current).map_err(StoreError::Refused)?;
    let (event_type, notification) = (update.event_type, update.notification.clone());
    let after = tx.apply_update(&before, update, now)?;
    if let Some(key) = idem {
        tx.idem_record(key, id, None)?;
    }
    let (event, written) = once(
        tx,
        change_event((event_type, now), Some(&before), &after, None, notification),
    )?;
    Ok((Some(event), written))
}

pub fn add_message(
    tx: &mut impl Tx,
    (request_id, author, body): (&str, &User, &str),
    idem: Option<&IdemKey>,
    now: DateTime<Utc>,
) -> Result<Written<Option<LoggedEvent>>, StoreError> {
    if let Some(key) = idem
        && tx.idem_seen(key)?
    {
        return Ok((None, Vec::new()));
    }
    let request = tx
        .request_for_change(request_id, now)?
        .ok_or(StoreError::NotFound)?;
    let message = ChatMessage {
        id: super::new_id(),
        request_id: request_id.to_string(),
        author_id: author.id.clone(),
        author_name: author.name.clone(),
        author_role: author.role,
        body: body.to_string(),
        created_at: now,
    };
    tx.insert_message(&message)?;
    if let Some(key) = idem {
        tx.idem_record(key, request_id, Some(&message.id))?;
    }
    let notification = itv_core::event::message_notification(&request, &message);
    let (event, written) = once(
        tx,
        change_event(
            (EventType::MessageCreated, now),
            Some(&request),
            &request,
            Some(message),
            Some(notification),
        ),
    )?;
    Ok((Some(event), written))
}

/// Records each alert `decide` lists that was not raised before, with its event.
pub fn raise_alerts(
    tx: &mut impl Tx,
    request_id: &str,
    decide: &mut dyn FnMut(&Request) -> Vec<AlertDraft>,
    now: DateTime<Utc>,
) -> Result<Written<Vec<LoggedEvent>>, StoreError> {
    let request = tx
        .request_for_change(request_id, now)?
        .ok_or(StoreError::NotFound)?;
    let mut written = Vec::new();
    for alert in decide(&request) {
        if !tx.record_alert(request_id, &alert.key, now)? {
            continue;
        }
        let event = FeedEvent {
            request: request.clone(),
            at: now,
            ..alert.event
        };
        written.push(tx.append_event(event, alert.audience)?);
    }
    Ok((written.clone(), written))
}
