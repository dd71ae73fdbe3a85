//! The text filter's two ways of reading its matches, the ranked search's candidates, and
//! migration 9's rebuilt search index.

use super::tests::req;
use super::*;
use crate::types::{InboxQuery, Priority, RequestKind};

/// `n` requests, the `i`-th updated at second `i`; those `matching(i)` say « caméra ».
fn seeded(n: usize, matching: impl Fn(usize) -> bool) -> (Cache, Vec<Request>) {
    let mut c = Cache::open_in_memory().unwrap();
    let all: Vec<Request> = (0..n)
        .map(|i| {
            let kind = [RequestKind::Project, RequestKind::Intervention][i % 2];
            let mut r = req(
                &format!("{i:05}"),
                kind,
                1,
                &format!(
                    "2025-11-01T{:02}:{:02}:{:02}Z",
                    i / 3600,
                    i / 60 % 60,
                    i % 60
                ),
            );
            r.description = "Contrôle du portail".into();
            r.title = if matching(i) {
                format!("Caméra {i}")
            } else {
                format!("Badge {i}")
            };
            if i % 97 == 0 {
                r.priority = Priority::Urgent;
            }
            r
        })
        .collect();
    c.apply_sync_page(&all, 1, false).unwrap();
    (c, all)
}

/// The window the inbox must give: active urgent first, then the newest update.
fn expected(all: &[Request], keep: impl Fn(&Request) -> bool, offset: usize) -> Vec<String> {
    let mut rows: Vec<&Request> = all.iter().filter(|r| keep(r)).collect();
    rows.sort_by(|a, b| {
        let pinned = |r: &Request| r.priority == Priority::Urgent && !r.is_terminal();
        (pinned(b), &b.updated_at, &b.id).cmp(&(pinned(a), &a.updated_at, &a.id))
    });
    rows.iter()
        .skip(offset)
        .take(50)
        .map(|r| r.id.clone())
        .collect()
}

#[test]
fn a_text_filter_gives_the_same_windows_with_few_matches_or_many() {
    // 1,500 matches walk the order's index; 30 are read by rowid.
    for every in [2, 100] {
        let (c, all) = seeded(3000, |i| i % every == 0);
        let caméra = |r: &Request| r.title.starts_with("Caméra");
        for (kind, offset) in [
            (None, 0),
            (None, 700),
            (Some(RequestKind::Intervention), 20),
        ] {
            let q = InboxQuery {
                text: Some("camera".into()),
                kind,
                limit: Some(50),
                offset: offset as u32,
                ..Default::default()
            };
            let page = c.inbox(&q, None).unwrap();
            let keep = |r: &Request| caméra(r) && kind.is_none_or(|k| r.kind == k);
            let ids: Vec<String> = page.items.into_iter().map(|i| i.id).collect();
            assert_eq!(ids, expected(&all, keep, offset), "1 in {every}, {kind:?}");
            let total = all.iter().filter(|r| keep(r)).count() as u64;
            assert_eq!(page.total, total, "1 in {every}, {kind:?}");
        }
    }
}

#[test]
fn search_ranks_every_match_when_few_and_the_newest_when_many() {
    // The best match: the word three times in its title.
    let best = |c: &mut Cache| {
        let mut r = req("best", RequestKind::Quote, 2, "2025-10-01T00:00:00Z");
        r.title = "Caméra caméra caméra".into();
        c.apply_sync_page(&[r], 1, false).unwrap();
    };
    // `n` quotes saying « caméra » once, cached after whatever is there.
    let plain = |c: &mut Cache, tag: &str, n: usize| {
        let rows: Vec<Request> = (0..n)
            .map(|i| {
                let mut r = req(
                    &format!("{tag}{i:03}"),
                    RequestKind::Quote,
                    1,
                    "2025-11-02T00:00:00Z",
                );
                r.title = format!("Caméra {i}");
                r
            })
            .collect();
        c.apply_sync_page(&rows, 1, false).unwrap();
    };
    let mut few = Cache::open_in_memory().unwrap();
    best(&mut few);
    plain(&mut few, "few", 100);
    assert_eq!(few.search("caméra", 10).unwrap()[0].id, "best");

    // Cached before 300 newer matches, it is outside the 200 ranked.
    let mut older = Cache::open_in_memory().unwrap();
    best(&mut older);
    plain(&mut older, "n", 300);
    let hits = older.search("caméra", 10).unwrap();
    assert_eq!(hits.len(), 10);
    assert!(hits.iter().all(|h| h.id != "best"), "{hits:?}");
    // Cached after them, it ranks first.
    let mut newest = Cache::open_in_memory().unwrap();
    plain(&mut newest, "n", 300);
    best(&mut newest);
    assert_eq!(newest.search("caméra", 10).unwrap()[0].id, "best");
}

#[test]
fn migration_9_rebuilds_the_search_index_of_an_older_cache() {
    let dir = tempfile::tempdir().unwrap();
    {
        // A cache as version 8 left it, with one unread intervention.
        let mut conn = rusqlite::Connection::open(dir.path().join("cache.sqlite3")).unwrap();
        super::migrate_to(&mut conn, 8).unwrap();
        let tx = conn.transaction().unwrap();
        let r = req("0001", RequestKind::Intervention, 1, "2025-11-02T00:00:00Z");
        super::requests::upsert(&tx, &r, true, Some(1)).unwrap();
        tx.commit().unwrap();
    }
    let c = Cache::open(dir.path()).unwrap();
    assert_eq!(c.schema_version().unwrap(), SCHEMA_VERSION);
    let sql: String = c
        .conn()
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'requests_fts'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(sql.contains("prefix"), "{sql}");
    let ids: Vec<String> = c
        .search("cam", 5)
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(
        ids,
        ["0001"],
        "the rows cached before are in the rebuilt index"
    );
    let unread = InboxQuery {
        unread_only: true,
        kind: Some(RequestKind::Intervention),
        ..Default::default()
    };
    assert_eq!(c.inbox(&unread, None).unwrap().total, 1);
}
