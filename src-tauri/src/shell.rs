//! The shell's state and start-up: opens the engine on the app's data directory, forwards its
//! events to the window (and the tray), hides the window when started in the tray, and
//! brings it forward when asked.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use itv_desk::notify::DesktopNotifier;
use itv_desk::types::EngineEvent;
use itv_desk::{Engine, EngineConfig};
use tauri::{App, AppHandle, Emitter, Manager};
use tokio::sync::broadcast::error::RecvError;

use crate::logging::Logs;
use crate::notifier::PausableNotifier;
use crate::quit::QuitPrompt;
use crate::snapshot::{SyncClock, now_rfc3339};
use crate::{autostart, tray};

/// The event every engine event is forwarded on.
pub const ENGINE_EVENT: &str = "desk://engine";

/// What commands reach through `tauri::State`.
pub struct Shell {
    pub engine: Engine,
    /// The tray's "pause non-urgent notifications" switch.
    pub paused: Arc<AtomicBool>,
    /// When `run()` began, for the start-up measurement.
    pub started: Instant,
    /// Where the cache (and the autostart marker) live.
    pub data_dir: PathBuf,
    /// The last sync seen, for the status snapshot.
    pub clock: Arc<SyncClock>,
    /// Where the log files go, and the recent warnings (for the diagnostic).
    pub logs: Logs,
}

impl Shell {
    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }
}

/// Where the cache lives: `ITV_DESK_DATA_DIR` when set (tests, measurements), else the OS's
/// per-app *local* data directory (on Windows `%LOCALAPPDATA%`, not the Roaming profile a
/// domain would copy between machines; the same as the data directory on Linux and macOS).
fn data_dir(app: &App) -> tauri::Result<PathBuf> {
    match std::env::var_os("ITV_DESK_DATA_DIR") {
        Some(d) => Ok(PathBuf::from(d)),
        None => app.path().app_local_data_dir(),
    }
}

/// Where the log files go: `ITV_DESK_LOG_DIR` when set, else the OS's log directory for the
/// app (`%LOCALAPPDATA%\sn.itvision.desk\logs`, `~/Library/Logs/sn.itvision.desk`,
/// `~/.local/share/sn.itvision.desk/logs`).
fn log_dir(app: &App) -> Option<PathBuf> {
    match std::env::var_os("ITV_DESK_LOG_DIR") {
        Some(d) => Some(PathBuf::from(d)),
        None => app.path().app_log_dir().ok(),
    }
}

pub fn setup(app: &mut App, started: Instant) -> Result<(), Box<dyn std::error::Error>> {
    let logs = crate::logging::init(log_dir(app).as_deref());
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        os = std::env::consts::OS,
        "IT Vision Desk starting"
    );
    let dir = data_dir(app)?;
    std::fs::create_dir_all(&dir)?;
    let paused = Arc::new(AtomicBool::new(false));
    let config = EngineConfig {
        notifier: Some(Arc::new(PausableNotifier::new(
            Arc::new(DesktopNotifier::new("IT Vision Desk")),
            paused.clone(),
        ))),
        ..EngineConfig::default()
    };
    // The engine serves the cache as soon as it is open; sync runs in the background.
    let engine = tauri::async_runtime::block_on(Engine::open(&dir, config))?;
    // Before signing in, so the clock sees the first sync end.
    let events = engine.subscribe();
    let clock = Arc::new(SyncClock::default());
    clock.observe(
        &EngineEvent::Connection {
            state: engine.connection(),
        },
        false,
        &now_rfc3339(),
    );
    sign_in_from_env(&engine);
    autostart::apply_default(app.handle(), &dir);
    app.manage(Shell {
        engine,
        paused: paused.clone(),
        started,
        data_dir: dir.clone(),
        clock: clock.clone(),
        logs,
    });
    app.manage(crate::deep_link::Pending::default());
    listen_for_links(app);
    app.manage(QuitPrompt::default());
    tray::build(app.handle(), paused)?;
    software_rendering(app);
    forward_events(app.handle().clone(), events, clock);
    // Hidden before the event loop first maps it, so an autostart shows no window at all.
    // (Declared visible: WebKitWebDriver loses its session on a window shown after creation.)
    let hidden = autostart::started_hidden();
    if let Some(w) = app.get_webview_window("main").filter(|_| hidden) {
        let _ = w.hide();
    }
    tracing::info!(data_dir = %dir.display(), hidden, "engine open");
    Ok(())
}

/// Paints the web view without GPU compositing unless `ITV_DESK_GPU` is set. Measured under
/// Xvfb on a 100,000-request cache (docs/desktop-app.md): the first rows reach the screen about
/// 1.5 s sooner and WebKit's web process uses ~95 MiB less; the UI has no animation that would
/// need the GPU.
#[cfg(target_os = "linux")]
fn software_rendering(app: &App) {
    use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
    if std::env::var_os("ITV_DESK_GPU").is_some() {
        return;
    }
    if let Some(w) = app.get_webview_window("main") {
        let done = w.with_webview(|wv| {
            if let Some(settings) = wv.inner().settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
        if let Err(e) = done {
            tracing::warn!(error = %e, "could not set the rendering policy");
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn software_rendering(_app: &App) {}

/// `scripts/run.sh` starts the app signed in: with `ITV_DESK_SERVER`, `ITV_DESK_EMAIL` and
/// `ITV_DESK_PASSWORD` set and no session restored from the keyring, sign in with them.
fn sign_in_from_env(engine: &Engine) {
    if engine.session().is_some() {
        return;
    }
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(server), Some(email), Some(password)) = (
        var("ITV_DESK_SERVER"),
        var("ITV_DESK_EMAIL"),
        var("ITV_DESK_PASSWORD"),
    ) else {
        return;
    };
    match tauri::async_runtime::block_on(engine.sign_in(&server, &email, &password)) {
        Ok(_) => tracing::info!(%email, %server, "signed in from the environment"),
        Err(e) => tracing::warn!(error = %e, "sign-in from the environment failed"),
    }
}

/// Shows, unminimises and focuses the main window.
/// Links opened while the app runs (a second launch hands its link over), and the link that
/// started it.
fn listen_for_links(app: &App) {
    use tauri_plugin_deep_link::DeepLinkExt;
    let handle = app.handle().clone();
    app.deep_link()
        .on_open_url(move |event| crate::deep_link::open(&handle, &event.urls()));
    match app.deep_link().get_current() {
        Ok(Some(links)) => crate::deep_link::open(app.handle(), &links),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "could not read the link the app was started with"),
    }
}

pub fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

fn forward_events(
    app: AppHandle,
    mut rx: tokio::sync::broadcast::Receiver<EngineEvent>,
    clock: Arc<SyncClock>,
) {
    tauri::async_runtime::spawn(async move {
        loop {
            let event = match rx.recv().await {
                Ok(e) => e,
                // The window fell behind: tell it to reload everything it shows.
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "engine events lagged");
                    EngineEvent::RequestsChanged { ids: Vec::new() }
                }
                Err(RecvError::Closed) => break,
            };
            if let Some(shell) = app.try_state::<Shell>() {
                let live = shell.engine.connection() == itv_desk::ConnectionState::Live;
                clock.observe(&event, live, &now_rfc3339());
            }
            if let EngineEvent::NotificationClicked { .. } = event {
                show_main(&app);
            }
            let unread_may_change = matches!(
                event,
                EngineEvent::RequestsChanged { .. } | EngineEvent::SessionChanged { .. }
            );
            if let Err(e) = app.emit(ENGINE_EVENT, &event) {
                tracing::warn!(error = %e, "could not forward an engine event");
            }
            if unread_may_change {
                tray::refresh_unread(&app).await;
            }
        }
    });
}
