//! Fills a desk cache with N synthetic requests (all three kinds, every status and priority), to
//! measure the app's cold start and memory on a large cache:
//! `cargo run -p itv-desk-app --example fill_cache -- <cache dir> 100000`.

use std::path::PathBuf;

use itv_desk::cache::Cache;
use itv_desk::types::{Priority, Request, RequestKind};
use serde_json::{Map, Value, json};

const SITES: &[&str] = &[
    "Plateau, Dakar",
    "Almadies",
    "Parcelles Assainies",
    "Rufisque",
    "Thiès",
    "Mbour",
    "Saint-Louis",
    "Diamniadio",
];
const CLIENTS: &[&str] = &[
    "SARL Teranga",
    "Banque de l'Ouest",
    "Hôtel Ngor",
    "Clinique Fann",
    "Supermarché Baobab",
    "École Mariama Bâ",
];
const WHAT: &[&str] = &[
    "Caméras",
    "Contrôle d'accès",
    "Baie réseau",
    "Interphone",
    "Enregistreur NVR",
    "Wi-Fi invités",
];

fn request(i: usize) -> Request {
    let kind = [
        RequestKind::Intervention,
        RequestKind::Project,
        RequestKind::Quote,
    ][i % 3];
    let priority = match i % 17 {
        0 => Priority::Urgent,
        1..=4 => Priority::High,
        5..=6 => Priority::Low,
        _ => Priority::Medium,
    };
    let statuses: &[&str] = match kind {
        RequestKind::Project => &["pending", "active", "rejected", "completed"],
        RequestKind::Intervention => &[
            "open",
            "assigned",
            "en_route",
            "on_site",
            "resolved",
            "closed",
            "cancelled",
        ],
        RequestKind::Quote => &["open", "in_progress", "sent", "accepted", "declined"],
    };
    let month = 1 + (i / 3000) % 12;
    let ticket = match kind {
        RequestKind::Project => None,
        RequestKind::Intervention => Some(format!("INT-2025{month:02}-{:04}", i % 10000)),
        RequestKind::Quote => Some(format!("DEV-2025{month:02}-{:04}", i % 10000)),
    };
    let minutes = 100_000 - i as i64;
    let at = chrono_like(minutes);
    let mut extra = Map::new();
    if kind == RequestKind::Intervention {
        extra.insert(
            "type".into(),
            json!(if priority == Priority::Urgent {
                "urgent"
            } else {
                "planned"
            }),
        );
    }
    if kind != RequestKind::Intervention {
        extra.insert(
            "estimatedBudget".into(),
            Value::from(150_000 + (i as u64 % 40) * 125_000),
        );
    }
    Request {
        id: format!("synthetic-{i:06}"),
        kind,
        ticket_number: ticket,
        title: format!(
            "{} — {} n° {i}",
            WHAT[i % WHAT.len()],
            SITES[i % SITES.len()]
        ),
        description: format!("Demande synthétique {i} pour la mesure du cache"),
        site: SITES[(i / 7) % SITES.len()].into(),
        status: statuses[(i / 3) % statuses.len()].into(),
        priority,
        client_id: format!("client-{}", i % CLIENTS.len()),
        client_name: CLIENTS[i % CLIENTS.len()].into(),
        assignee_id: None,
        assignee_name: None,
        created_at: at.clone(),
        updated_at: at,
        version: 1,
        tracking: Default::default(),
        extra,
    }
}

/// An RFC 3339 time `minutes` before 2025-11-19T12:00:00Z.
fn chrono_like(minutes: i64) -> String {
    let t = 1_763_553_600i64 - minutes * 60;
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: fill_cache <cache dir> [count]")?);
    let count: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let mut cache = Cache::open(&dir)?;
    let started = std::time::Instant::now();
    let batch: Vec<usize> = (0..count).collect();
    for chunk in batch.chunks(2000) {
        let page: Vec<Request> = chunk.iter().map(|&i| request(i)).collect();
        cache.apply_sync_page(&page, 1, false)?;
    }
    println!(
        "{count} requests written to {} in {:.1}s",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
