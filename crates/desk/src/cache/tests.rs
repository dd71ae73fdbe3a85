//! Unit tests of the cache tables and the event-application transaction.

use super::*;
use crate::notify::Notice;
use crate::types::{InboxQuery, InboxSort, Priority, RequestKind};

pub(crate) fn req(id: &str, kind: RequestKind, version: i64, updated: &str) -> Request {
    Request {
        id: id.into(),
        kind,
        ticket_number: Some(format!("INT-202511-{id}")),
        title: format!("Titre {id}"),
        description: "Caméra défectueuse entrée principale".into(),
        site: "Siège social Dakar".into(),
        status: "open".into(),
        priority: Priority::Medium,
        client_id: "c1".into(),
        client_name: "Société Générale Sénégal".into(),
        assignee_id: None,
        assignee_name: None,
        created_at: "2025-11-01T10:00:00Z".into(),
        updated_at: updated.into(),
        version,
        tracking: Default::default(),
        extra: Default::default(),
    }
}

fn ev(seq: i64, t: &str, r: Request) -> FeedEvent {
    FeedEvent {
        seq,
        event_type: t.into(),
        kind: r.kind,
        id: r.id.clone(),
        ticket_number: r.ticket_number.clone(),
        at: r.updated_at.clone(),
        request: r,
        chat_message: None,
        notification: None,
        escalation_level: None,
        escalation_reason: None,
        sla_timer: None,
    }
}

fn notice_for(e: &FeedEvent) -> Vec<Notice> {
    vec![Notice {
        key: format!("created:{}", e.request.id),
        request_id: Some(e.request.id.clone()),
        critical: e.request.priority == Priority::Urgent,
        summary: "s".into(),
        body: "b".into(),
        acknowledge: false,
    }]
}

#[test]
fn migrations_apply_once_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut c = Cache::open(dir.path()).unwrap();
        assert_eq!(c.schema_version().unwrap(), SCHEMA_VERSION);
        c.apply_sync_page(
            &[req("1", RequestKind::Quote, 1, "2025-11-02T00:00:00Z")],
            1,
            false,
        )
        .unwrap();
    }
    let c = Cache::open(dir.path()).unwrap();
    assert_eq!(c.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(c.request_count().unwrap(), 1);
    let mode: String = c
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn applying_events_is_idempotent_and_stores_seq_with_them() {
    let mut c = Cache::open_in_memory().unwrap();
    let t = "2025-11-02T00:00:00Z";
    let e1 = ev(
        1,
        "request.created",
        req("a", RequestKind::Intervention, 1, t),
    );
    let mut newer = req("a", RequestKind::Intervention, 3, "2025-11-03T00:00:00Z");
    newer.status = "assigned".into();
    let e2 = ev(2, "request.assigned", newer);
    let r = c
        .apply_events(
            &[e1.clone(), e2.clone()],
            notice_for,
            |_| true,
            Some(2),
            100,
        )
        .unwrap();
    assert_eq!(r.changed, vec!["a".to_string()]);
    assert_eq!(r.queued_notices, 1, "same key twice queues once");
    assert_eq!(c.feed_seq().unwrap(), Some(2));
    // Replaying the same events changes nothing and queues nothing.
    let r = c
        .apply_events(&[e1, e2], notice_for, |_| true, None, 101)
        .unwrap();
    assert_eq!(r.skipped, 2);
    assert!(r.changed.is_empty());
    assert_eq!(r.queued_notices, 0);
    // An older version arriving under a new seq never overwrites a newer one.
    let stale = ev(
        3,
        "request.updated",
        req("a", RequestKind::Intervention, 2, "2025-11-02T12:00:00Z"),
    );
    let r = c
        .apply_events(&[stale], notice_for, |_| true, None, 102)
        .unwrap();
    assert!(r.changed.is_empty());
    assert_eq!(c.request_version("a").unwrap(), Some(3));
    assert_eq!(c.request("a").unwrap().unwrap().0.status, "assigned");
    assert_eq!(c.feed_seq().unwrap(), Some(3));
    assert_eq!(c.pending_notices().unwrap().len(), 1);
}

#[test]
fn a_request_leaving_my_scope_is_removed() {
    use crate::types::Role;
    let mut c = Cache::open_in_memory().unwrap();
    let t = "2025-11-02T00:00:00Z";
    let visible = |r: &Request| r.visible_to(Role::Technician, "me");
    let open = req("i", RequestKind::Intervention, 1, t);
    c.apply_events(
        &[ev(1, "request.created", open)],
        |_| vec![],
        visible,
        None,
        1,
    )
    .unwrap();
    assert_eq!(c.request_count().unwrap(), 1);
    let mut other = req("i", RequestKind::Intervention, 2, t);
    other.status = "assigned".into();
    other.assignee_id = Some("someone-else".into());
    let r = c
        .apply_events(
            &[ev(2, "request.assigned", other)],
            |_| vec![],
            visible,
            None,
            2,
        )
        .unwrap();
    assert_eq!(r.changed, vec!["i".to_string()]);
    assert_eq!(c.request_count().unwrap(), 0);
    assert_eq!(c.feed_seq().unwrap(), Some(2));
}

#[test]
fn a_failed_batch_leaves_neither_events_nor_seq() {
    let mut c = Cache::open_in_memory().unwrap();
    let t = "2025-11-02T00:00:00Z";
    c.conn()
        .execute_batch(
            "CREATE TRIGGER boom BEFORE INSERT ON requests WHEN new.id = 'bad'
             BEGIN SELECT RAISE(ABORT, 'boom'); END;",
        )
        .unwrap();
    let good = ev(1, "request.created", req("ok", RequestKind::Quote, 1, t));
    let bad = ev(2, "request.created", req("bad", RequestKind::Quote, 1, t));
    assert!(
        c.apply_events(&[good, bad], notice_for, |_| true, None, 1)
            .is_err()
    );
    assert_eq!(c.feed_seq().unwrap(), None);
    assert_eq!(c.request_count().unwrap(), 0);
    assert!(c.pending_notices().unwrap().is_empty());
}

#[test]
fn inbox_sorts_active_urgent_first_and_filters() {
    let mut c = Cache::open_in_memory().unwrap();
    let mut rows = Vec::new();
    for i in 0..30 {
        let mut r = req(
            &format!("{i:02}"),
            if i % 3 == 0 {
                RequestKind::Project
            } else {
                RequestKind::Intervention
            },
            1,
            &format!("2025-11-{:02}T00:00:00Z", i % 28 + 1),
        );
        if i == 5 || i == 7 {
            r.priority = Priority::Urgent;
        }
        if i == 7 {
            r.status = "closed".into();
        }
        if i % 4 == 0 {
            r.assignee_id = Some("me".into());
        }
        rows.push(r);
    }
    c.apply_sync_page(&rows, 1, false).unwrap();
    let page = c.inbox(&InboxQuery::default(), Some("me")).unwrap();
    assert_eq!(page.total, 30);
    assert_eq!(page.items[0].id, "05", "open urgent first");
    let rest: Vec<&str> = page.items[1..]
        .iter()
        .map(|i| i.updated_at.as_str())
        .collect();
    let mut sorted = rest.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(
        rest, sorted,
        "then updatedAt desc (closed urgent not pinned)"
    );

    let q = InboxQuery {
        kind: Some(RequestKind::Project),
        limit: Some(4),
        offset: 4,
        ..Default::default()
    };
    let page = c.inbox(&q, Some("me")).unwrap();
    assert_eq!(page.total, 10);
    assert_eq!(page.items.len(), 4);
    assert!(page.items.iter().all(|i| i.kind == RequestKind::Project));

    let q = InboxQuery {
        assigned_to_me: true,
        ..Default::default()
    };
    assert_eq!(c.inbox(&q, Some("me")).unwrap().total, 8);
    let q = InboxQuery {
        priority: Some(Priority::Urgent),
        status: Some("closed".into()),
        ..Default::default()
    };
    assert_eq!(c.inbox(&q, Some("me")).unwrap().items[0].id, "07");

    // Unread: nothing after a first sync; an event marks, mark_read clears.
    let q = InboxQuery {
        unread_only: true,
        ..Default::default()
    };
    assert_eq!(c.inbox(&q, None).unwrap().total, 0);
    let mut r = rows[3].clone();
    r.version = 2;
    c.apply_events(
        &[ev(1, "request.updated", r)],
        |_| vec![],
        |_| true,
        None,
        1,
    )
    .unwrap();
    assert_eq!(c.inbox(&q, None).unwrap().total, 1);
    assert_eq!(c.unread_count().unwrap(), 1);
    assert_eq!(c.mark_read(&["03".into()]).unwrap(), vec!["03".to_string()]);
    assert_eq!(c.unread_count().unwrap(), 0);
}

#[test]
fn inbox_sort_choices_keep_active_urgent_first() {
    let mut c = Cache::open_in_memory().unwrap();
    let mut rows = Vec::new();
    // Created on day i, updated on day 30 - i: "updated" and "newest" disagree.
    for (i, p) in [
        Priority::Low,
        Priority::High,
        Priority::Urgent,
        Priority::Medium,
        Priority::High,
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = req(
            &format!("{i}"),
            RequestKind::Intervention,
            1,
            &format!("2025-11-{:02}T00:00:00Z", 30 - i),
        );
        r.created_at = format!("2025-11-{:02}T00:00:00Z", i + 1);
        r.priority = p;
        rows.push(r);
    }
    rows[3].status = "closed".into();
    c.apply_sync_page(&rows, 1, false).unwrap();
    let order = |c: &Cache, sort, active_only| -> Vec<String> {
        let q = InboxQuery {
            sort,
            active_only,
            ..Default::default()
        };
        c.inbox(&q, None)
            .unwrap()
            .items
            .into_iter()
            .map(|i| i.id)
            .collect()
    };
    assert_eq!(
        order(&c, InboxSort::Updated, false),
        ["2", "0", "1", "3", "4"]
    );
    assert_eq!(
        order(&c, InboxSort::Newest, false),
        ["2", "4", "3", "1", "0"]
    );
    assert_eq!(
        order(&c, InboxSort::Oldest, false),
        ["2", "0", "1", "3", "4"]
    );
    assert_eq!(
        order(&c, InboxSort::Priority, false),
        ["2", "1", "4", "3", "0"]
    );
    assert_eq!(order(&c, InboxSort::Newest, true), ["2", "4", "1", "0"]);
    // A request leaving its final status comes back in "active only".
    let mut reopened = rows[3].clone();
    reopened.status = "in_progress".into();
    reopened.version = 2;
    c.apply_sync_page(&[reopened], 2, false).unwrap();
    assert_eq!(
        order(&c, InboxSort::Newest, true),
        ["2", "4", "3", "1", "0"]
    );
}

#[test]
fn every_sort_reads_an_index_in_order_alone_or_after_the_kind_filter() {
    use super::requests::{inbox_filter, inbox_order};
    let c = Cache::open_in_memory().unwrap();
    let sorts = [
        InboxSort::Updated,
        InboxSort::Newest,
        InboxSort::Oldest,
        InboxSort::Priority,
        InboxSort::Due,
    ];
    for sort in sorts {
        for kind in [None, Some(RequestKind::Quote)] {
            let q = InboxQuery {
                sort,
                kind,
                ..Default::default()
            };
            let f = inbox_filter(&q, None, 0);
            let (filter, params) = (f.sql(), f.params());
            let sql = format!(
                "EXPLAIN QUERY PLAN SELECT r.id FROM requests r {filter} ORDER BY {} LIMIT 100",
                inbox_order(sort)
            );
            let plan: Vec<String> = c
                .conn()
                .prepare(&sql)
                .unwrap()
                .query_map(params.as_slice(), |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let plan = plan.join(" | ");
            assert!(plan.contains(" INDEX "), "{sort:?} {kind:?}: {plan}");
            assert!(
                !plan.contains("TEMP B-TREE"),
                "{sort:?} {kind:?} sorts: {plan}"
            );
        }
    }
}

#[test]
fn migration_3_backfills_sort_columns_of_an_older_cache() {
    let dir = tempfile::tempdir().unwrap();
    {
        // A cache as version 2 left it, with one closed and one urgent request.
        let mut conn = rusqlite::Connection::open(dir.path().join("cache.sqlite3")).unwrap();
        let tx = conn.transaction().unwrap();
        for m in &super::MIGRATIONS[..2] {
            tx.execute_batch(m.sql).unwrap();
        }
        tx.pragma_update(None, "user_version", 2).unwrap();
        let mut closed = req("a", RequestKind::Project, 1, "2025-11-02T00:00:00Z");
        closed.status = "closed".into();
        let mut urgent = req("b", RequestKind::Intervention, 1, "2025-11-03T00:00:00Z");
        urgent.priority = Priority::Urgent;
        for r in [&closed, &urgent] {
            tx.execute(
                "INSERT INTO requests(id, kind, title, description, site, status, priority, pinned,
                    client_name, created_at, updated_at, version, raw)
                 VALUES (?1, ?2, ?3, '', '', ?4, ?5, 0, '', ?6, ?6, 1, ?7)",
                rusqlite::params![
                    r.id,
                    r.kind.as_str(),
                    r.title,
                    r.status,
                    r.priority.as_str(),
                    r.updated_at,
                    serde_json::to_string(r).unwrap()
                ],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let c = Cache::open(dir.path()).unwrap();
    assert_eq!(c.schema_version().unwrap(), SCHEMA_VERSION);
    let (active, rank): (bool, i64) = c
        .conn()
        .query_row(
            "SELECT active, priority_rank FROM requests WHERE id = 'a'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((active, rank), (false, 2), "closed, medium");
    let q = InboxQuery {
        active_only: true,
        sort: InboxSort::Priority,
        ..Default::default()
    };
    let ids: Vec<String> = c
        .inbox(&q, None)
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, ["b"]);
}

#[test]
fn full_text_search_over_ticket_client_site_accents_prefix() {
    let mut c = Cache::open_in_memory().unwrap();
    let mut a = req("0001", RequestKind::Intervention, 1, "2025-11-02T00:00:00Z");
    a.client_name = "Hôtel Téranga".into();
    a.site = "Plateau".into();
    let mut b = req("0002", RequestKind::Quote, 1, "2025-11-03T00:00:00Z");
    b.title = "Devis pour 10 caméras IP 4K".into();
    b.description = "NVR".into();
    c.apply_sync_page(&[a, b], 1, false).unwrap();
    fn ids_of(c: &Cache, q: &str) -> Vec<String> {
        c.search(q, 10).unwrap().into_iter().map(|i| i.id).collect()
    }
    assert_eq!(ids_of(&c, "INT-202511-0002"), vec!["0002"]);
    assert_eq!(ids_of(&c, "teranga"), vec!["0001"]);
    assert_eq!(ids_of(&c, "plat"), vec!["0001"]);
    assert_eq!(ids_of(&c, "caméras 4k"), vec!["0002"]);
    assert!(ids_of(&c, "\"").is_empty());
    assert!(ids_of(&c, "zzz").is_empty());
    // The FTS index follows updates.
    let mut a2 = req("0001", RequestKind::Intervention, 2, "2025-11-04T00:00:00Z");
    a2.client_name = "Orange".into();
    c.apply_sync_page(&[a2], 2, false).unwrap();
    assert!(ids_of(&c, "teranga").is_empty());
    assert_eq!(ids_of(&c, "orange"), vec!["0001"]);
    let q = InboxQuery {
        text: Some("orange".into()),
        ..Default::default()
    };
    assert_eq!(c.inbox(&q, None).unwrap().total, 1);
}

#[test]
fn full_sync_sweeps_requests_no_longer_listed() {
    let mut c = Cache::open_in_memory().unwrap();
    let t = "2025-11-02T00:00:00Z";
    let g = c.begin_sync(10, Some("e1")).unwrap();
    c.apply_sync_page(
        &[
            req("a", RequestKind::Quote, 1, t),
            req("b", RequestKind::Quote, 1, t),
        ],
        g,
        false,
    )
    .unwrap();
    c.finish_sync(g).unwrap();
    assert_eq!(c.unfinished_sync().unwrap(), None);
    let g = c.begin_sync(20, Some("e1")).unwrap();
    assert_eq!(c.unfinished_sync().unwrap(), Some(g));
    c.apply_sync_page(&[req("a", RequestKind::Quote, 1, t)], g, true)
        .unwrap();
    assert_eq!(c.finish_sync(g).unwrap(), vec!["b".to_string()]);
    assert_eq!(c.request_count().unwrap(), 1);
    assert_eq!(c.feed_seq().unwrap(), Some(20));
    assert_eq!(c.feed_epoch().unwrap().as_deref(), Some("e1"));
}

#[test]
fn what_the_feed_brings_during_a_full_sync_is_not_swept_at_its_end() {
    let mut c = Cache::open_in_memory().unwrap();
    let t = "2025-11-02T00:00:00Z";
    let g = c.begin_sync(10, None).unwrap();
    // Created after the sync's head: the feed brings it, the pages (read earlier) do not.
    let fresh = ev(11, "request.created", req("new", RequestKind::Quote, 1, t));
    c.apply_events(&[fresh], |_| Vec::new(), |_| true, None, 0)
        .unwrap();
    c.apply_sync_page(&[req("old", RequestKind::Quote, 1, t)], g, false)
        .unwrap();
    assert!(c.finish_sync(g).unwrap().is_empty());
    assert_eq!(c.request_count().unwrap(), 2);
    assert_eq!(c.feed_seq().unwrap(), Some(11));
}

#[test]
fn notices_are_claimed_once_and_summaries_recorded() {
    let mut c = Cache::open_in_memory().unwrap();
    let t = "2025-11-02T00:00:00Z";
    let events: Vec<FeedEvent> = (1..=8)
        .map(|i| {
            ev(
                i,
                "request.created",
                req(&format!("r{i}"), RequestKind::Quote, 1, t),
            )
        })
        .collect();
    c.apply_events(&events, notice_for, |_| true, Some(8), 1)
        .unwrap();
    let pending = c.pending_notices().unwrap();
    assert_eq!(pending.len(), 8);
    let plan = crate::notify::plan_delivery(&pending, 5);
    let keys: Vec<String> = pending.iter().map(|n| n.key.clone()).collect();
    let shown = c.claim_notices(&keys, &plan, 2).unwrap();
    assert_eq!(shown.len(), 1);
    assert!(shown[0].key.starts_with("summary:"));
    assert!(c.pending_notices().unwrap().is_empty());
    // Claiming again shows nothing.
    assert!(c.claim_notices(&keys, &plan, 3).unwrap().is_empty());
}
