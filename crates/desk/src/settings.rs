//! Per-user notification settings. Urgent interventions always notify: there is
//! deliberately no switch for them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// New project requests (admins).
    pub notify_projects: bool,
    /// New quote requests (admins).
    pub notify_quotes: bool,
    /// New planned (non-urgent) interventions (admins, technicians).
    pub notify_planned_interventions: bool,
    /// An intervention assigned to me (technicians).
    pub notify_assignments: bool,
    /// Minutes between reminders of an urgent intervention nobody acknowledged (min 1).
    pub urgent_reminder_minutes: u32,
    /// More notifications than this in one catch-up become one summary.
    pub summary_threshold: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            notify_projects: true,
            notify_quotes: true,
            notify_planned_interventions: true,
            notify_assignments: true,
            urgent_reminder_minutes: 5,
            summary_threshold: 5,
        }
    }
}

impl Settings {
    /// Clamps values a UI could send out of range.
    pub fn normalized(mut self) -> Self {
        self.urgent_reminder_minutes = self.urgent_reminder_minutes.clamp(1, 24 * 60);
        self.summary_threshold = self.summary_threshold.clamp(1, 1000);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_partial_json() {
        let s: Settings = serde_json::from_str(r#"{"notifyQuotes": false}"#).unwrap();
        assert!(!s.notify_quotes);
        assert!(s.notify_projects);
        assert_eq!(s.urgent_reminder_minutes, 5);
        let s = Settings {
            urgent_reminder_minutes: 0,
            ..Settings::default()
        }
        .normalized();
        assert_eq!(s.urgent_reminder_minutes, 1);
    }
}
