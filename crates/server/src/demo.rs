//! Demo mode: one account of each role and a few requests, created once, so the
//! portal and the desktop app have something to show on a fresh machine.

use itv_core::Role;
use itv_core::validation::{parse_new_intervention, parse_new_project, parse_new_quote};
use serde_json::json;

use crate::actions;
use crate::error::ApiError;
use crate::passwords::hash_password;
use crate::state::AppState;
use crate::store::{NewUserRecord, StoreError, User};

pub const DEMO_PASSWORD: &str = "demo1234";
/// (role, email, name) of the demo accounts; all use `DEMO_PASSWORD`.
pub const DEMO_ACCOUNTS: [(Role, &str, &str); 4] = [
    (Role::Admin, "admin@itvision.sn", "Awa Diop (admin)"),
    (Role::Technician, "technicien@itvision.sn", "Moussa Ndiaye"),
    (Role::Technician, "technicien2@itvision.sn", "Fatou Sarr"),
    (Role::Client, "client@itvision.sn", "Société Teranga SARL"),
];
const SEEDED: &str = "demo_seeded";

pub async fn seed(state: &AppState) -> Result<(), ApiError> {
    if state.db(|s| s.meta(SEEDED)).await?.is_some() {
        return Ok(());
    }
    let hash = tokio::task::spawn_blocking(|| hash_password(DEMO_PASSWORD)).await??;
    let mut client: Option<User> = None;
    for (role, email, name) in DEMO_ACCOUNTS {
        let record = NewUserRecord {
            name: name.into(),
            email: email.into(),
            role,
            password_hash: hash.clone(),
        };
        // An account there already (a first start cut short before the seed's end, or
        // another instance seeding at the same time) is taken as it is.
        let user = state
            .db(move |s| match s.create_user(record) {
                Err(StoreError::EmailTaken) => s
                    .login_record(email)?
                    .map(|found| found.user)
                    .ok_or(StoreError::EmailTaken),
                created => created,
            })
            .await?;
        if role == Role::Client {
            client = Some(user);
        }
    }
    let client = client.ok_or_else(|| ApiError::Internal("no demo client".into()))?;
    let project = parse_new_project(&json!({
        "name": "Installation vidéosurveillance entrepôt",
        "serviceType": "surveillance",
        "description": "Installation de 16 caméras IP et d'un NVR pour l'entrepôt de Mbao.",
        "address": "Zone industrielle de Mbao, Dakar",
        "estimatedBudget": 2_500_000,
        "preferredStartDate": "2026-01-15",
        "urgency": "normal"
    }))
    .map_err(ApiError::Validation)?;
    let planned = parse_new_intervention(&json!({
        "type": "planned",
        "title": "Maintenance contrôle d'accès",
        "description": "Vérification annuelle des lecteurs de badges du siège.",
        "site": "Siège social - Plateau, Dakar"
    }))
    .map_err(ApiError::Validation)?;
    let urgent = parse_new_intervention(&json!({
        "type": "urgent",
        "title": "Caméra défectueuse entrée principale",
        "description": "La caméra ne fonctionne plus depuis ce matin, plus d'image sur le moniteur.",
        "site": "Siège social - 123 Rue de Dakar"
    }))
    .map_err(ApiError::Validation)?;
    let quote = parse_new_quote(&json!({
        "title": "Devis pour 10 caméras IP 4K",
        "category": "equipment",
        "description": "Nous souhaitons installer 10 caméras 4K sur le parking.",
        "estimatedBudget": 1_500_000,
        "deadline": "Dans 2 semaines",
        "items": [
            {"name": "Caméra IP 4K", "quantity": 10, "specifications": "Vision nocturne 30m"},
            {"name": "NVR 16 canaux", "quantity": 1, "specifications": "4TB HDD"}
        ]
    }))
    .map_err(ApiError::Validation)?;
    let targets = state.config.sla.clone();
    state
        .db(move |s| {
            actions::create_project(s, &client, project)?;
            actions::create_intervention(s, &targets, &client, planned)?;
            actions::create_quote(s, &client, quote)?;
            actions::create_intervention(s, &targets, &client, urgent)?;
            s.set_meta(SEEDED, "1")
        })
        .await?;
    tracing::info!("demo accounts and requests created (password: {DEMO_PASSWORD})");
    Ok(())
}
