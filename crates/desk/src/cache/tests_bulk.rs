//! The bulk load of a full sync into an empty cache: what it drops, what it gives back, and
//! a cache left in the middle of one.

use super::tests::req;
use super::*;
use crate::types::{InboxQuery, RequestKind};

/// The indexes and triggers of `requests`, with their statements.
fn schema_of_requests(c: &Cache) -> Vec<(String, String)> {
    let mut stmt = c
        .conn()
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'requests'
             AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY name",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn found(c: &Cache, text: &str) -> Vec<String> {
    let mut ids: Vec<String> = c
        .search(text, 50)
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    ids.sort();
    ids
}

fn page(ids: &[&str]) -> Vec<Request> {
    ids.iter()
        .map(|id| req(id, RequestKind::Intervention, 1, "2025-11-02T00:00:00Z"))
        .collect()
}

#[test]
fn a_first_sync_loads_without_indexes_and_ends_with_all_of_them_and_the_search() {
    let mut c = Cache::open_in_memory().unwrap();
    let full = schema_of_requests(&c);
    assert!(full.len() > 20, "{full:?}");
    let g = c.begin_sync(5, None).unwrap();
    assert!(
        schema_of_requests(&c).is_empty(),
        "an empty cache loads in bulk"
    );
    c.apply_sync_page(&page(&["a", "b"]), g, false).unwrap();
    // The feed updates one of them meanwhile: its new title must be what the search finds.
    let mut renamed = req("b", RequestKind::Intervention, 2, "2025-11-02T01:00:00Z");
    renamed.title = "Portail motorisé".into();
    let event = FeedEvent {
        seq: 6,
        event_type: "request.updated".into(),
        kind: renamed.kind,
        id: renamed.id.clone(),
        ticket_number: renamed.ticket_number.clone(),
        at: renamed.updated_at.clone(),
        request: renamed,
        chat_message: None,
        notification: None,
        escalation_level: None,
        escalation_reason: None,
        sla_timer: None,
    };
    c.apply_events(&[event], |_| Vec::new(), |_| true, None, 0)
        .unwrap();
    // Read without its indexes, the inbox is still right.
    assert_eq!(c.inbox(&InboxQuery::default(), None).unwrap().total, 2);
    c.apply_sync_page(&page(&["c"]), g, false).unwrap();
    c.finish_sync(g).unwrap();
    assert_eq!(
        schema_of_requests(&c),
        full,
        "every index and trigger is back"
    );
    assert_eq!(found(&c, "caméra"), vec!["a", "b", "c"]);
    assert_eq!(found(&c, "motorisé"), vec!["b"]);
    // The triggers work again: a change after the load reaches the search.
    let mut later = req("c", RequestKind::Intervention, 2, "2025-11-02T02:00:00Z");
    later.title = "Badgeuse".into();
    c.apply_sync_page(&[later], g, false).unwrap();
    assert_eq!(found(&c, "badgeuse"), vec!["c"]);
}

#[test]
fn a_resync_of_a_filled_cache_keeps_its_indexes() {
    let mut c = Cache::open_in_memory().unwrap();
    let full = schema_of_requests(&c);
    let g = c.begin_sync(5, None).unwrap();
    c.apply_sync_page(&page(&["a"]), g, false).unwrap();
    c.finish_sync(g).unwrap();
    let g = c.begin_sync(9, None).unwrap();
    assert_eq!(schema_of_requests(&c), full);
    c.apply_sync_page(&page(&["a", "b"]), g, false).unwrap();
    c.finish_sync(g).unwrap();
    assert_eq!(found(&c, "caméra"), vec!["a", "b"]);
}

#[test]
fn a_load_cut_short_gets_its_indexes_back_when_the_cache_is_opened_again() {
    let dir = tempfile::tempdir().unwrap();
    let full = {
        let mut c = Cache::open(dir.path()).unwrap();
        let full = schema_of_requests(&c);
        let g = c.begin_sync(5, None).unwrap();
        c.apply_sync_page(&page(&["a", "b"]), g, false).unwrap();
        full
        // Dropped here without finish_sync: the app was killed mid-load.
    };
    let c = Cache::open(dir.path()).unwrap();
    assert_eq!(schema_of_requests(&c), full);
    assert_eq!(found(&c, "caméra"), vec!["a", "b"]);
    assert!(
        c.unfinished_sync().unwrap().is_some(),
        "the sync itself starts over"
    );
    // It starts over as an ordinary sync: the cache is not empty, its indexes stay.
    let mut c = c;
    let g = c.begin_sync(7, None).unwrap();
    assert_eq!(schema_of_requests(&c), full);
    c.apply_sync_page(&page(&["a", "b", "c"]), g, false)
        .unwrap();
    c.finish_sync(g).unwrap();
    assert_eq!(found(&c, "caméra"), vec!["a", "b", "c"]);
}
