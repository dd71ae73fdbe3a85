//! Where the app's log goes: stderr (a terminal, the tests) and a daily file in the OS's log
//! directory, which support can read on a machine without a terminal (the last 7 kept), and
//! the last warnings and errors in memory for *Copier le diagnostic*. Written in place, not
//! through a background writer: the app quits by `exit`, and the last lines are the ones
//! support needs.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, fmt};

/// Log files kept: a week of daily files.
const FILES_KEPT: usize = 7;
/// Warnings and errors kept for the diagnostic.
const PROBLEMS_KEPT: usize = 20;

/// What logging set up: where the files go (if anywhere) and the recent problems.
#[derive(Debug, Clone, Default)]
pub struct Logs {
    pub dir: Option<PathBuf>,
    pub recent: RecentProblems,
}

/// Starts logging: `ITV_DESK_LOG` filters (default `info`), files under `dir` named
/// `itv-desk.YYYY-MM-DD.log`. A directory that cannot be written leaves stderr only, and
/// says so there.
pub fn init(dir: Option<&Path>) -> Logs {
    let filter = EnvFilter::try_from_env("ITV_DESK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let recent = RecentProblems::default();
    let (file, file_error) = match dir.map(open_file) {
        Some(Ok(appender)) => (Some(appender), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let file_layer = file.map(|appender| fmt::layer().with_ansi(false).with_writer(appender));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer().with_writer(std::io::stderr))
        .with(file_layer)
        .with(recent.clone())
        .try_init();
    match file_error {
        Some(e) => {
            tracing::warn!(error = %e, "no log file: logging to stderr only");
            Logs { dir: None, recent }
        }
        None => Logs {
            dir: dir.map(Path::to_path_buf),
            recent,
        },
    }
}

fn open_file(dir: &Path) -> Result<RollingFileAppender, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("itv-desk")
        .filename_suffix("log")
        .max_log_files(FILES_KEPT)
        .build(dir)
        .map_err(|e| e.to_string())
}

/// The last warnings and errors, one line each, oldest first.
#[derive(Debug, Clone, Default)]
pub struct RecentProblems(Arc<Mutex<VecDeque<String>>>);

impl RecentProblems {
    pub fn list(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }

    fn push(&self, line: String) {
        let mut kept = self.lock();
        if kept.len() == PROBLEMS_KEPT {
            kept.pop_front();
        }
        kept.push_back(line);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<S: Subscriber> Layer<S> for RecentProblems {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() > Level::WARN {
            return;
        }
        let mut line = format!(
            "{} {} {}:",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
            meta.level(),
            meta.target()
        );
        event.record(&mut Fields(&mut line));
        self.push(line);
    }
}

/// An event's message and fields, as `message key=value…`.
struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value}");
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_and_errors_are_kept_the_oldest_dropped_first() {
        let recent = RecentProblems::default();
        let subscriber = tracing_subscriber::registry().with(recent.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("not a problem");
            for n in 0..PROBLEMS_KEPT + 2 {
                tracing::warn!(n, "feed dropped");
            }
            tracing::error!(error = "refused", "notification failed");
        });
        let kept = recent.list();
        assert_eq!(kept.len(), PROBLEMS_KEPT);
        assert!(kept[0].ends_with("feed dropped n=3"), "{}", kept[0]);
        assert!(
            kept.last()
                .unwrap()
                .ends_with("ERROR itv_desk_app::logging::tests: notification failed error=refused"),
            "{kept:?}"
        );
    }

    #[test]
    fn the_log_file_is_written_in_the_directory_given() {
        let dir = tempfile::tempdir().unwrap();
        let appender = open_file(&dir.path().join("logs")).unwrap();
        let subscriber = tracing_subscriber::registry()
            .with(fmt::layer().with_ansi(false).with_writer(appender));
        tracing::subscriber::with_default(subscriber, || tracing::warn!("written at once"));
        let files: Vec<_> = std::fs::read_dir(dir.path().join("logs"))
            .unwrap()
            .collect();
        assert_eq!(files.len(), 1);
        let path = files[0].as_ref().unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("itv-desk.") && name.ends_with(".log"),
            "{name}"
        );
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("written at once")
        );
    }
}
