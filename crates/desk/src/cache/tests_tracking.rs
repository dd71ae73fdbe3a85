//! Unit tests of what the cache keeps of the server's tracking fields (issue 10): the
//! *En retard* filter and the *Échéance* order as of a given instant, the inbox row's
//! "Pris par", the reminders' watches, and migration 5 on an older cache.

use super::tests::req;
use super::*;
use crate::ownership::{format_ms, parse_ms};
use crate::types::{
    InboxQuery, InboxSort, Person, Priority, RequestKind, Role, Sla, SlaState, Tracking, User,
};

const T0: &str = "2026-12-01T10:00:00Z";

fn min(m: i64) -> i64 {
    parse_ms(T0).unwrap() + m * 60_000
}

/// An intervention created at T0 with `ack`/`resolve` minute targets.
fn timed(id: &str, ack: i64, resolve: i64) -> Request {
    let mut r = req(id, RequestKind::Intervention, 1, T0);
    r.created_at = T0.into();
    r.tracking = Tracking {
        sla: Some(Sla {
            ack_due_at: format_ms(min(ack)),
            resolve_due_at: format_ms(min(resolve)),
            ack: SlaState::Pending,
            resolve: SlaState::Pending,
        }),
        ..Tracking::default()
    };
    r
}

fn ids(c: &Cache, q: &InboxQuery, now: i64) -> Vec<String> {
    c.inbox_at(q, None, now)
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.id)
        .collect()
}

#[test]
fn overdue_and_due_order_follow_the_clock_not_the_cached_states() {
    let mut c = Cache::open_in_memory().unwrap();
    let fast = timed("fast", 15, 240); // urgent-like
    let slow = timed("slow", 240, 4320);
    let mut taken = timed("taken", 15, 240);
    taken.tracking.acknowledged_at = Some(format_ms(min(5)));
    taken.tracking.acknowledged_by = Some(Person {
        id: "t1".into(),
        name: "Moussa Diop".into(),
    });
    let mut late = timed("late", 15, 240);
    late.tracking.acknowledged_at = Some(format_ms(min(30)));
    let mut done = timed("done", 15, 240);
    done.status = "resolved".into();
    done.tracking.finished_at = Some(format_ms(min(20)));
    let project = req("project", RequestKind::Project, 1, T0);
    c.apply_sync_page(&[fast, slow, taken, late, done, project], 1, false)
        .unwrap();

    let overdue = InboxQuery {
        overdue_only: true,
        ..Default::default()
    };
    assert_eq!(
        ids(&c, &overdue, min(10)),
        ["late"],
        "taken after its due time: late whatever the clock says"
    );
    let mut at_20 = ids(&c, &overdue, min(20));
    at_20.sort();
    // Taken late counts as a missed target; taken in time does not; done is final.
    assert_eq!(at_20, ["fast", "late"]);
    let mut at_300 = ids(&c, &overdue, min(300));
    at_300.sort();
    assert_eq!(
        at_300,
        ["fast", "late", "slow", "taken"],
        "resolution missed"
    );

    let due = InboxQuery {
        sort: InboxSort::Due,
        ..Default::default()
    };
    // The deadline still to meet: fast's acknowledgement, then the 4 h ones, none last.
    assert_eq!(
        ids(&c, &due, min(0)),
        ["fast", "late", "slow", "taken", "done", "project"]
    );
    let page = c.inbox_at(&due, None, min(14)).unwrap();
    let row = |id: &str| page.items.iter().find(|i| i.id == id).unwrap().clone();
    assert_eq!(
        row("fast").due_at.as_deref(),
        Some("2026-12-01T10:15:00.000Z")
    );
    assert_eq!(row("fast").sla.unwrap().ack, SlaState::AtRisk);
    // The timers' start rides along, so the row's countdown turns amber on its own.
    assert_eq!(row("fast").created_at, T0);
    assert_eq!(
        row("taken").acknowledged_by_name.as_deref(),
        Some("Moussa Diop")
    );
    assert_eq!(
        row("taken").due_at,
        Some(format_ms(min(240))),
        "then resolution"
    );
    assert_eq!(row("taken").sla.unwrap().ack, SlaState::Met);
    assert_eq!(row("done").due_at, None);
    assert_eq!(row("project").sla, None);
}

#[test]
fn the_overdue_filter_reads_the_partial_index() {
    let c = Cache::open_in_memory().unwrap();
    let q = InboxQuery {
        overdue_only: true,
        ..Default::default()
    };
    let f = super::requests::inbox_filter(&q, None, 0);
    let (filter, params) = (f.sql(), f.params());
    let sql = format!(
        "EXPLAIN QUERY PLAN SELECT r.id FROM requests r {filter} ORDER BY {} LIMIT 100",
        super::requests::inbox_order(InboxSort::Updated)
    );
    let plan: Vec<String> = c
        .conn()
        .prepare(&sql)
        .unwrap()
        .query_map(params.as_slice(), |r| r.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(plan.join(" | ").contains("requests_timed"), "{plan:?}");
}

#[test]
fn watches_wait_for_the_server_copy_not_for_a_local_read() {
    let mut c = Cache::open_in_memory().unwrap();
    let me = User {
        id: "a1".into(),
        name: "Awa".into(),
        email: "a@itvision.sn".into(),
        role: Role::Admin,
    };
    let mut r = timed("u", 15, 240);
    r.priority = Priority::Urgent;
    r.extra.insert("type".into(), "urgent".into());
    let ev = FeedEvent {
        seq: 1,
        event_type: "request.created".into(),
        kind: r.kind,
        id: r.id.clone(),
        ticket_number: r.ticket_number.clone(),
        at: T0.into(),
        request: r.clone(),
        chat_message: None,
        notification: None,
        escalation_level: None,
        escalation_reason: None,
        sla_timer: None,
    };
    let urgent = |e: &FeedEvent| crate::notify::notices_for_event(e, &me, &Default::default());
    c.apply_events(std::slice::from_ref(&ev), urgent, |_| true, None, 100)
        .unwrap();
    let w = c.urgent_watches(&me).unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].awaiting, Some(crate::ownership::Awaiting::Anyone));
    // Reading it changes nothing (there is no local acknowledgement any more).
    c.request("u").unwrap().unwrap();
    c.mark_read(&["u".into()]).unwrap();
    assert!(c.urgent_watches(&me).unwrap()[0].awaiting.is_some());
    // The server's copy says someone took it.
    let mut taken = ev.clone();
    taken.seq = 2;
    taken.event_type = "request.acknowledged".into();
    taken.request.version = 2;
    taken.request.tracking.acknowledged_at = Some(format_ms(min(1)));
    c.apply_events(&[taken], urgent, |_| true, None, 160)
        .unwrap();
    assert_eq!(c.urgent_watches(&me).unwrap()[0].awaiting, None);
    assert_eq!(c.drop_watches(&["u".into()]).unwrap(), ["u"]);
    assert!(c.urgent_watches(&me).unwrap().is_empty());
}

#[test]
fn migration_5_drops_the_local_flag_and_backfills_timers_kept_by_an_older_build() {
    let dir = tempfile::tempdir().unwrap();
    let mut kept = timed("k", 15, 240);
    kept.tracking.acknowledged_by = Some(Person {
        id: "a1".into(),
        name: "Awa Ndiaye".into(),
    });
    kept.tracking.acknowledged_at = Some("2026-12-01T10:03:00.123456Z".into());
    {
        // A cache as version 4 left it: an older build kept the tracking keys verbatim.
        let mut conn = rusqlite::Connection::open(dir.path().join("cache.sqlite3")).unwrap();
        let tx = conn.transaction().unwrap();
        for m in &super::MIGRATIONS[..4] {
            tx.execute_batch(m.sql).unwrap();
        }
        tx.pragma_update(None, "user_version", 4).unwrap();
        tx.execute(
            "INSERT INTO requests(id, kind, title, description, site, status, priority, pinned,
                client_name, created_at, updated_at, version, raw, acked)
             VALUES ('k', 'intervention', 't', '', '', 'open', 'medium', 0, '', ?1, ?1, 1, ?2, 1)",
            rusqlite::params![T0, serde_json::to_string(&kept).unwrap()],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let c = Cache::open(dir.path()).unwrap();
    assert_eq!(c.schema_version().unwrap(), SCHEMA_VERSION);
    let page = c.inbox_at(&InboxQuery::default(), None, min(1)).unwrap();
    assert_eq!(
        page.items[0].acknowledged_by_name.as_deref(),
        Some("Awa Ndiaye")
    );
    assert_eq!(
        page.items[0].acknowledged_at.as_deref(),
        Some("2026-12-01T10:03:00.123Z")
    );
    assert_eq!(page.items[0].due_at, Some(format_ms(min(240))));
    let has_acked: i64 = c
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM pragma_table_info('requests') WHERE name = 'acked'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(has_acked, 0);
}
