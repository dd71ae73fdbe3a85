//! Service levels and escalation: how long an intervention may wait for someone to
//! take it and to be resolved, whether that promise is kept, and how far an
//! unacknowledged urgent call has escalated.
//!
//! Pure arithmetic over timestamps; the caller passes the clock in, so every rule is
//! tested with a fake one.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::status::Priority;

/// The seed's promise for urgent calls: a technician en route within two hours.
pub const EN_ROUTE_PROMISE: Duration = Duration::hours(2);
/// Below this share of its target left, a pending timer is `at_risk`.
const AT_RISK_SHARE: f64 = 0.2;

/// A duration as typed on a command line: `30s`, `5m`, `4h`, `2d`, or a sum (`1h30m`).
pub fn parse_duration(s: &str) -> Result<Duration, SlaConfigError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(SlaConfigError::Duration(s.to_string()));
    }
    let mut total = Duration::zero();
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits
            .parse()
            .map_err(|_| SlaConfigError::Duration(s.to_string()))?;
        digits.clear();
        total += match c {
            's' => Duration::seconds(n),
            'm' => Duration::minutes(n),
            'h' => Duration::hours(n),
            'd' => Duration::days(n),
            _ => return Err(SlaConfigError::Duration(s.to_string())),
        };
    }
    if !digits.is_empty() || total <= Duration::zero() {
        return Err(SlaConfigError::Duration(s.to_string()));
    }
    Ok(total)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlaConfigError {
    #[error("durée invalide « {0} » : attendu par exemple 30s, 5m, 4h, 2d")]
    Duration(String),
    #[error("priorité inconnue « {0} » : urgent, high, medium ou low")]
    Priority(String),
    #[error(
        "cible invalide « {0} » : attendu priorité=accusé/résolution, par exemple urgent=15m/4h"
    )]
    Target(String),
}

/// Time to acknowledge and time to resolve, for one priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub ack: Duration,
    pub resolve: Duration,
}

/// A target per priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaTargets {
    pub urgent: Target,
    pub high: Target,
    pub medium: Target,
    pub low: Target,
}

impl Default for SlaTargets {
    /// `urgent=15m/4h,high=1h/24h,medium=4h/72h,low=24h/120h`.
    fn default() -> SlaTargets {
        let t = |ack: i64, resolve: i64| Target {
            ack: Duration::minutes(ack),
            resolve: Duration::hours(resolve),
        };
        SlaTargets {
            urgent: t(15, 4),
            high: t(60, 24),
            medium: t(240, 72),
            low: t(24 * 60, 120),
        }
    }
}

impl SlaTargets {
    /// Reads `urgent=15m/4h,high=1h/24h,…`; priorities not named keep their default.
    pub fn parse(s: &str) -> Result<SlaTargets, SlaConfigError> {
        let mut targets = SlaTargets::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (priority, spans) = part
                .split_once('=')
                .ok_or_else(|| SlaConfigError::Target(part.to_string()))?;
            let (ack, resolve) = spans
                .split_once('/')
                .ok_or_else(|| SlaConfigError::Target(part.to_string()))?;
            let target = Target {
                ack: parse_duration(ack)?,
                resolve: parse_duration(resolve)?,
            };
            match priority.trim() {
                "urgent" => targets.urgent = target,
                "high" => targets.high = target,
                "medium" => targets.medium = target,
                "low" => targets.low = target,
                other => return Err(SlaConfigError::Priority(other.to_string())),
            }
        }
        Ok(targets)
    }

    pub fn for_priority(&self, priority: Priority) -> Target {
        match priority {
            Priority::Urgent => self.urgent,
            Priority::High => self.high,
            Priority::Medium => self.medium,
            Priority::Low => self.low,
        }
    }
}

/// Where one timer stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    Pending,
    /// Pending with less than 20 % of the target left.
    AtRisk,
    Met,
    Breached,
}

impl fmt::Display for SlaState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SlaState::Pending => "pending",
            SlaState::AtRisk => "at_risk",
            SlaState::Met => "met",
            SlaState::Breached => "breached",
        })
    }
}

/// One timer: due at `due`, at risk from `at_risk_from` (when less than 20 % of its
/// target is left). Stored as two instants so that a database can filter on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub at_risk_from: DateTime<Utc>,
    pub due: DateTime<Utc>,
}

impl Deadline {
    /// The deadline of a timer started at `start` with `target` to run.
    pub fn after(start: DateTime<Utc>, target: Duration) -> Deadline {
        let risk_window = target.num_milliseconds() as f64 * AT_RISK_SHARE;
        Deadline {
            at_risk_from: start + target - Duration::milliseconds(risk_window.round() as i64),
            due: start + target,
        }
    }

    /// Where the timer stands at `now`, stopped at `done` if it was.
    pub fn state(&self, done: Option<DateTime<Utc>>, now: DateTime<Utc>) -> SlaState {
        match done {
            Some(at) if at <= self.due => SlaState::Met,
            Some(_) => SlaState::Breached,
            None if now > self.due => SlaState::Breached,
            None if now > self.at_risk_from => SlaState::AtRisk,
            None => SlaState::Pending,
        }
    }
}

/// Both timers of an intervention, fixed when it is created: a later change of the
/// targets does not move a promise already made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub ack: Deadline,
    pub resolve: Deadline,
}

impl Deadlines {
    pub fn of(targets: &SlaTargets, priority: Priority, created: DateTime<Utc>) -> Deadlines {
        Deadlines::starting(created, targets.for_priority(priority))
    }

    pub fn starting(created: DateTime<Utc>, target: Target) -> Deadlines {
        Deadlines {
            ack: Deadline::after(created, target.ack),
            resolve: Deadline::after(created, target.resolve),
        }
    }

    /// The timers at `now`: acknowledgement stops at `acked`, resolution at `finished`.
    pub fn sla(
        &self,
        acked: Option<DateTime<Utc>>,
        finished: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Sla {
        Sla {
            ack_due_at: self.ack.due,
            resolve_due_at: self.resolve.due,
            ack: self.ack.state(acked.or(finished), now),
            resolve: self.resolve.state(finished, now),
        }
    }

    /// The due time of the first timer not yet stopped, late or not, for `sort=due`:
    /// what is most overdue comes first, and a finished request has none.
    pub fn next_due(
        &self,
        acked: Option<DateTime<Utc>>,
        finished: Option<DateTime<Utc>>,
    ) -> Option<DateTime<Utc>> {
        match (acked, finished) {
            (_, Some(_)) => None,
            (None, None) => Some(self.ack.due.min(self.resolve.due)),
            (Some(_), None) => Some(self.resolve.due),
        }
    }
}

/// Both timers of an intervention, as the API shows them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sla {
    pub ack_due_at: DateTime<Utc>,
    pub resolve_due_at: DateTime<Utc>,
    pub ack: SlaState,
    pub resolve: SlaState,
}

impl Sla {
    pub fn is(&self, state: SlaState) -> bool {
        self.ack == state || self.resolve == state
    }
}

/// The service levels and escalation the server runs with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    pub targets: SlaTargets,
    pub escalation: Escalation,
}

/// How an unacknowledged call escalates: one level every `every`, up to `max_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escalation {
    pub every: Duration,
    pub max_level: u32,
}

impl Default for Escalation {
    /// `--escalate-after 5m`, `--escalate-max-level 6`.
    fn default() -> Escalation {
        Escalation {
            every: Duration::minutes(5),
            max_level: 6,
        }
    }
}

impl Escalation {
    /// The level reached at `now` by a call waiting since `since` (0: not yet).
    pub fn level_at(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> u32 {
        if now < since || self.every <= Duration::zero() {
            return 0;
        }
        let steps = (now - since).num_milliseconds() / self.every.num_milliseconds();
        u32::try_from(steps).unwrap_or(u32::MAX).min(self.max_level)
    }

    /// When `level` is reached, or `None` past the last level.
    pub fn due_at(&self, since: DateTime<Utc>, level: u32) -> Option<DateTime<Utc>> {
        (level >= 1 && level <= self.max_level).then(|| since + self.every * level as i32)
    }

    /// The levels a scheduler must emit now, having emitted up to `emitted`: each
    /// level once, in order, even after a long pause (a restart emits the missed ones).
    pub fn levels_to_emit(
        &self,
        since: DateTime<Utc>,
        emitted: u32,
        now: DateTime<Utc>,
    ) -> std::ops::RangeInclusive<u32> {
        (emitted + 1)..=self.level_at(since, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_000_000, 0).unwrap()
    }

    fn min(n: i64) -> Duration {
        Duration::minutes(n)
    }

    #[test]
    fn durations_read_as_typed() {
        assert_eq!(parse_duration("30s"), Ok(Duration::seconds(30)));
        assert_eq!(parse_duration("5m"), Ok(min(5)));
        assert_eq!(parse_duration("1h30m"), Ok(min(90)));
        assert_eq!(parse_duration("2d"), Ok(Duration::days(2)));
        for bad in ["", "5", "m", "5x", "0s", "-5m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn targets_parse_with_defaults_for_what_is_not_named() {
        let t = SlaTargets::parse("urgent=10m/2h").unwrap();
        assert_eq!(t.urgent.ack, min(10));
        assert_eq!(t.urgent.resolve, Duration::hours(2));
        assert_eq!(t.high, SlaTargets::default().high);
        let d = SlaTargets::parse("urgent=15m/4h,high=1h/24h,medium=4h/72h,low=24h/120h").unwrap();
        assert_eq!(d, SlaTargets::default());
        assert!(matches!(
            SlaTargets::parse("vite=1m/1h"),
            Err(SlaConfigError::Priority(_))
        ));
        assert!(matches!(
            SlaTargets::parse("urgent=15m"),
            Err(SlaConfigError::Target(_))
        ));
    }

    #[test]
    fn a_timer_is_pending_then_at_risk_then_breached_unless_done_in_time() {
        let d = Deadline::after(t0(), min(15));
        assert_eq!(d.at_risk_from, t0() + min(12));
        assert_eq!(d.state(None, t0()), SlaState::Pending);
        assert_eq!(d.state(None, t0() + min(12)), SlaState::Pending);
        assert_eq!(d.state(None, t0() + min(13)), SlaState::AtRisk);
        assert_eq!(d.state(None, t0() + min(15)), SlaState::AtRisk);
        assert_eq!(d.state(None, t0() + min(16)), SlaState::Breached);
        let done = Some(t0() + min(14));
        assert_eq!(d.state(done, t0() + min(99)), SlaState::Met);
        let late = Some(t0() + min(16));
        assert_eq!(d.state(late, t0() + min(99)), SlaState::Breached);
    }

    #[test]
    fn an_urgent_interventions_timers_and_next_due() {
        let d = Deadlines::of(&SlaTargets::default(), Priority::Urgent, t0());
        let sla = d.sla(None, None, t0() + min(1));
        assert_eq!(sla.ack_due_at, t0() + min(15));
        assert_eq!(sla.resolve_due_at, t0() + Duration::hours(4));
        assert_eq!(d.next_due(None, None), Some(t0() + min(15)));
        let acked = d.sla(Some(t0() + min(3)), None, t0() + min(30));
        assert_eq!(acked.ack, SlaState::Met);
        assert_eq!(
            d.next_due(Some(t0() + min(3)), None),
            Some(t0() + Duration::hours(4))
        );
        // Finished without anyone acknowledging: both timers stop there.
        let cancelled = d.sla(None, Some(t0() + min(20)), t0() + min(30));
        assert_eq!(
            (cancelled.ack, cancelled.resolve),
            (SlaState::Breached, SlaState::Met)
        );
        assert!(cancelled.is(SlaState::Breached));
        assert_eq!(d.next_due(None, Some(t0() + min(20))), None);
        let planned = Deadlines::of(&SlaTargets::default(), Priority::Medium, t0());
        assert_eq!(planned.ack.due, t0() + Duration::hours(4));
    }

    #[test]
    fn escalation_climbs_one_level_per_interval_up_to_the_last() {
        let e = Escalation::default();
        assert_eq!(e.level_at(t0(), t0() + min(4)), 0);
        assert_eq!(e.level_at(t0(), t0() + min(5)), 1);
        assert_eq!(e.level_at(t0(), t0() + min(11)), 2);
        assert_eq!(e.level_at(t0(), t0() + min(500)), 6);
        assert_eq!(e.due_at(t0(), 1), Some(t0() + min(5)));
        assert_eq!(e.due_at(t0(), 7), None);
        // A clock that jumps back escalates nothing.
        assert_eq!(e.level_at(t0(), t0() - min(60)), 0);
    }

    #[test]
    fn a_scheduler_emits_each_level_once_even_after_a_pause() {
        let e = Escalation::default();
        assert_eq!(
            e.levels_to_emit(t0(), 0, t0() + min(5)).collect::<Vec<_>>(),
            vec![1]
        );
        assert!(e.levels_to_emit(t0(), 1, t0() + min(9)).next().is_none());
        // Down for 12 minutes: levels 2 and 3 come out, once each.
        assert_eq!(
            e.levels_to_emit(t0(), 1, t0() + min(17))
                .collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert!(e.levels_to_emit(t0(), 6, t0() + min(999)).next().is_none());
    }
}
