//! The commands the UI invokes: each parses its arguments, calls one engine function and maps
//! the engine's error to `{code, message}` (`UiError`).

use std::time::{SystemTime, UNIX_EPOCH};

use itv_desk::accounts::{Account, AccountPatch, NewAccount, SessionInfo, SignOutOutcome};
use itv_desk::error::{Error, UiError};
use itv_desk::outbox::{Action, OutboxEntry, PerformOutcome};
use itv_desk::quote::{QuoteLineDraft, QuotePreview};
use itv_desk::settings::Settings;
use itv_desk::types::{InboxPage, InboxQuery, Request, RequestDetail, Session, User};
use tauri::State;

use crate::shell::Shell;
use crate::snapshot::{Figures, StatusSnapshot, now_rfc3339};

type Res<T> = Result<T, UiError>;

fn ui(e: Error) -> UiError {
    e.to_ui()
}

pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        session_restore,
        sign_in,
        sign_out,
        inbox_page,
        request_detail,
        mark_read,
        acknowledge,
        metrics,
        perform,
        quote_preview,
        technicians,
        status,
        outbox_list,
        outbox_discard,
        settings_get,
        settings_set,
        inbox_painted,
        ui_language,
        sessions_list,
        session_end,
        password_change,
        accounts_list,
        account_create,
        account_update,
        account_reset_password,
        autostart_get,
        autostart_set,
        quit_prompted,
        quit_confirmed,
        diagnostic,
    ]
}

/// The session the engine restored from the keyring at start, if any.
#[tauri::command]
pub async fn session_restore(shell: State<'_, Shell>) -> Res<Option<Session>> {
    Ok(shell.engine.session())
}

#[tauri::command]
pub async fn sign_in(
    shell: State<'_, Shell>,
    server: String,
    email: String,
    password: String,
) -> Res<Session> {
    shell
        .engine
        .sign_in(&server, &email, &password)
        .await
        .map_err(ui)
}

/// Ends the session on the server when reachable, and forgets it here in any case.
#[tauri::command]
pub async fn sign_out(shell: State<'_, Shell>) -> Res<SignOutOutcome> {
    shell.engine.sign_out().await.map_err(ui)
}

/// The user's live sessions, this device's marked `current`.
#[tauri::command]
pub async fn sessions_list(shell: State<'_, Shell>) -> Res<Vec<SessionInfo>> {
    shell.engine.sessions().await.map_err(ui)
}

#[tauri::command]
pub async fn session_end(shell: State<'_, Shell>, id: String) -> Res<()> {
    shell.engine.end_session(&id).await.map_err(ui)
}

/// Changes the user's password; errors name the field (`currentPassword`, `newPassword`).
#[tauri::command]
pub async fn password_change(shell: State<'_, Shell>, current: String, new: String) -> Res<String> {
    shell
        .engine
        .change_password(&current, &new)
        .await
        .map_err(ui)
}

#[tauri::command]
pub async fn accounts_list(shell: State<'_, Shell>) -> Res<Vec<Account>> {
    shell.engine.accounts().await.map_err(ui)
}

#[tauri::command]
pub async fn account_create(shell: State<'_, Shell>, account: NewAccount) -> Res<Account> {
    shell.engine.create_account(account).await.map_err(ui)
}

#[tauri::command]
pub async fn account_update(
    shell: State<'_, Shell>,
    id: String,
    patch: AccountPatch,
) -> Res<Account> {
    shell.engine.update_account(&id, patch).await.map_err(ui)
}

#[tauri::command]
pub async fn account_reset_password(
    shell: State<'_, Shell>,
    id: String,
    password: String,
) -> Res<String> {
    shell
        .engine
        .reset_password(&id, &password)
        .await
        .map_err(ui)
}

#[tauri::command]
pub async fn inbox_page(shell: State<'_, Shell>, query: InboxQuery) -> Res<InboxPage> {
    let started = std::time::Instant::now();
    let page = shell.engine.inbox(query).await.map_err(ui)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::debug!(ms, total = page.total, offset = page.offset, "inbox page");
    Ok(page)
}

#[tauri::command]
pub async fn request_detail(shell: State<'_, Shell>, id: String) -> Res<RequestDetail> {
    shell.engine.request_detail(&id).await.map_err(ui)
}

#[tauri::command]
pub async fn mark_read(shell: State<'_, Shell>, id: String) -> Res<()> {
    shell.engine.mark_read(&[id]).await.map_err(ui)
}

/// *Je prends*: takes the intervention on the server, at once (never queued: offline it
/// fails with `network` and every desk keeps reminding).
#[tauri::command]
pub async fn acknowledge(shell: State<'_, Shell>, id: String) -> Res<Request> {
    shell.engine.acknowledge(&id).await.map_err(ui)
}

/// The *Tableau de bord* (admins): the server's `/api/staff/metrics` JSON for `from`..`to`
/// (`YYYY-MM-DD`; an empty string is the server's default), as is.
#[tauri::command]
pub async fn metrics(shell: State<'_, Shell>, from: String, to: String) -> Res<serde_json::Value> {
    shell.engine.metrics(&from, &to).await.map_err(ui)
}

#[tauri::command]
pub async fn perform(shell: State<'_, Shell>, action: Action) -> Res<PerformOutcome> {
    shell.engine.perform(action).await.map_err(ui)
}

/// The totals of a quote being edited, with the server's arithmetic.
#[tauri::command]
pub fn quote_preview(lines: Vec<QuoteLineDraft>, discount: u64) -> QuotePreview {
    itv_desk::quote::preview(&lines, discount)
}

/// The technicians an intervention can be assigned to.
#[tauri::command]
pub async fn technicians(shell: State<'_, Shell>) -> Res<Vec<User>> {
    shell.engine.technicians().await.map_err(ui)
}

#[tauri::command]
pub async fn status(shell: State<'_, Shell>) -> Res<StatusSnapshot> {
    let outbox = shell.engine.outbox().await.map_err(ui)?;
    let unread = shell.engine.unread_count().await.map_err(ui)?;
    Ok(StatusSnapshot::new(
        shell.engine.connection(),
        outbox.iter().map(|e| e.state),
        Figures {
            unread,
            paused: shell.paused(),
            health: shell.engine.health(),
            seen_sync_at: shell.clock.get(),
            now: now_rfc3339(),
        },
    ))
}

#[tauri::command]
pub async fn outbox_list(shell: State<'_, Shell>) -> Res<Vec<OutboxEntry>> {
    shell.engine.outbox().await.map_err(ui)
}

#[tauri::command]
pub async fn outbox_discard(shell: State<'_, Shell>, id: i64) -> Res<bool> {
    shell.engine.discard_outbox_entry(id).await.map_err(ui)
}

#[tauri::command]
pub async fn settings_get(shell: State<'_, Shell>) -> Res<Settings> {
    shell.engine.settings().await.map_err(ui)
}

#[tauri::command]
pub async fn settings_set(shell: State<'_, Shell>, settings: Settings) -> Res<Settings> {
    shell.engine.set_settings(settings).await.map_err(ui)
}

/// The UI's language ("fr" or "en"), so the tray speaks it too.
#[tauri::command]
pub async fn ui_language(app: tauri::AppHandle, lang: String) {
    crate::tray::set_language(&app, crate::tray::Lang::from_code(&lang)).await;
}

/// The UI painted its first inbox rows: log how long the start took (and write it to
/// `ITV_DESK_TIMING_FILE` for the measurement script).
#[tauri::command]
pub fn inbox_painted(app: tauri::AppHandle, shell: State<'_, Shell>) {
    crate::deep_link::window_ready(&app);
    let ms = shell.started.elapsed().as_secs_f64() * 1000.0;
    let epoch_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    tracing::info!(ms, "inbox painted");
    if let Some(path) = std::env::var_os("ITV_DESK_TIMING_FILE") {
        let line = format!("{{\"sinceRunMs\":{ms:.1},\"paintedAtEpochMs\":{epoch_ms}}}\n");
        if let Err(e) = std::fs::write(&path, line) {
            tracing::warn!(error = %e, "timing file");
        }
    }
}

/// Whether the OS starts the app (in the tray) at login.
#[tauri::command]
pub fn autostart_get(app: tauri::AppHandle) -> Res<bool> {
    crate::autostart::enabled(&app)
}

/// Writes or removes the autostart entry; answers what the OS now says.
#[tauri::command]
pub fn autostart_set(app: tauri::AppHandle, shell: State<'_, Shell>, enabled: bool) -> Res<bool> {
    crate::autostart::set(&app, &shell.data_dir, enabled)
}

/// The window shows the "quit?" question the tray's *Quitter* asked for.
#[tauri::command]
pub fn quit_prompted(app: tauri::AppHandle) {
    crate::quit::shown(&app);
}

/// The user confirmed *Quitter*: the app ends, and its alerts with it.
#[tauri::command]
pub fn quit_confirmed(app: tauri::AppHandle) {
    tracing::info!("quit confirmed in the window");
    app.exit(0);
}

/// *Copier le diagnostic*: the plain-text report for a support request.
#[tauri::command]
pub async fn diagnostic(app: tauri::AppHandle, shell: State<'_, Shell>) -> Res<String> {
    let outbox = shell.engine.outbox().await.map_err(ui)?;
    let report = crate::diagnostic::Diagnostic {
        version: env!("CARGO_PKG_VERSION"),
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
        generated_at: now_rfc3339(),
        session: shell.engine.session(),
        connection: shell.engine.connection(),
        feed_seq: shell.engine.feed_seq().await.map_err(ui)?,
        outbox: outbox.iter().map(|e| e.state).collect(),
        health: shell.engine.health(),
        data_dir: shell.data_dir.clone(),
        log_dir: shell.logs.dir.clone(),
        autostart: crate::autostart::enabled(&app).ok(),
        recent_problems: shell.logs.recent.list(),
    };
    Ok(report.render())
}
