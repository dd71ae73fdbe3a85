//! Server configuration: flags and `ITV_*` environment variables, one struct.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::store::sqlite::{Synchronous, WriteOptions};
use itv_core::sla::{Escalation, Policy, SlaTargets, parse_duration};

fn parse_sla(s: &str) -> Result<SlaTargets, String> {
    SlaTargets::parse(s).map_err(|e| e.to_string())
}

fn parse_delay(s: &str) -> Result<chrono::Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

/// The SQLite database of the data dir `dir`.
pub fn database_file(dir: &std::path::Path) -> PathBuf {
    dir.join("itv.db")
}

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "ITV_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Directory holding the SQLite database and the generated JWT secret.
    #[arg(long, env = "ITV_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// PostgreSQL instead of the SQLite file in the data dir, for several instances on
    /// one database: `postgres://user:password@host:5432/itv` (docs/deploy.md).
    #[arg(long = "database", env = "ITV_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// JWT signing secret, at least 32 bytes; generated once and kept in the data dir
    /// (in the database, with `--database`) when not given.
    #[arg(long, env = "ITV_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// A session unused for this many days ends; each use pushes it back.
    #[arg(long, env = "ITV_SESSION_IDLE_DAYS", default_value_t = 30)]
    pub session_idle_days: u32,
    /// No session lives longer than this many days after its sign-in.
    #[arg(long, env = "ITV_SESSION_MAX_DAYS", default_value_t = 90)]
    pub session_max_days: u32,
    /// How long a session check may be answered from memory, in milliseconds (at most
    /// 1000; 0 reads the database on every request). For benchmarks.
    #[arg(
        long,
        env = "ITV_SESSION_CACHE_MS",
        default_value_t = 1000,
        hide = true
    )]
    pub session_cache_ms: u64,
    /// Feed sockets one address may hold open before signing in.
    #[arg(long, env = "ITV_FEED_PENDING_PER_ADDRESS", default_value_t = 20)]
    pub feed_pending_per_address: usize,
    /// Feed sockets open at once, across every address (0: no bound); an upgrade
    /// beyond it is refused with 503 and `Retry-After`.
    #[arg(long, env = "ITV_FEED_MAX_SOCKETS", default_value_t = 10_000)]
    pub feed_max_sockets: usize,
    /// Feed upgrades accepted per second, as many at once at most (0: no bound); the
    /// others are refused with 503 and a `Retry-After` that spreads them over the
    /// seconds to come, so that desks reconnecting together after a restart do not
    /// all come in at the same instant.
    #[arg(long, env = "ITV_FEED_ACCEPT_PER_SEC", default_value_t = 100)]
    pub feed_accept_per_sec: u32,
    /// Start a new event-log epoch: every desk resynchronises. Give it once, after
    /// restoring the data dir from a backup (a restored database alone is detected).
    #[arg(long)]
    pub new_epoch: bool,
    /// Largest accepted request body, in bytes (413 above).
    #[arg(long, env = "ITV_BODY_LIMIT", default_value_t = 64 * 1024)]
    pub body_limit: usize,
    /// Requests a client account may create per minute (0: no limit).
    #[arg(long, env = "ITV_RATE_CREATE_PER_ACCOUNT", default_value_t = 20)]
    pub rate_create_per_account: u32,
    /// Requests one address may create per minute (0: no limit).
    #[arg(long, env = "ITV_RATE_CREATE_PER_ADDRESS", default_value_t = 60)]
    pub rate_create_per_address: u32,
    /// Login attempts per minute for one email from one address (0: no limit).
    #[arg(long, env = "ITV_RATE_LOGIN_PER_ACCOUNT", default_value_t = 10)]
    pub rate_login_per_account: u32,
    /// Login attempts per minute for one email from all addresses together (0: no
    /// limit); keep it well above the per-account limit, so that locking an account
    /// out takes many addresses at once.
    #[arg(long, env = "ITV_RATE_LOGIN_GLOBAL_PER_ACCOUNT", default_value_t = 100)]
    pub rate_login_global_per_account: u32,
    /// Login attempts per minute from one address (0: no limit).
    #[arg(long, env = "ITV_RATE_LOGIN_PER_ADDRESS", default_value_t = 30)]
    pub rate_login_per_address: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed, as comma-separated CIDRs
    /// (`10.0.0.0/8,::1`); none by default: the peer address is the caller's.
    #[arg(long, env = "ITV_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<crate::client_ip::Cidr>,
    /// Feed events kept in the log; older ones are pruned and a subscriber that
    /// resumes from before them is told to resynchronise.
    #[arg(long, env = "ITV_EVENT_LOG_KEEP", default_value_t = 100_000)]
    pub event_log_keep: u64,
    /// Seconds between the server's WebSocket pings.
    #[arg(long, env = "ITV_PING_SECS", default_value_t = 20)]
    pub ping_secs: u64,
    /// Service-level targets per priority, time to acknowledge / time to resolve;
    /// priorities not named keep their default.
    #[arg(
        long,
        env = "ITV_SLA",
        default_value = "urgent=15m/4h,high=1h/24h,medium=4h/72h,low=24h/120h",
        value_parser = parse_sla
    )]
    pub sla: SlaTargets,
    /// An urgent intervention nobody acknowledges escalates one level per this delay
    /// (`30s`, `5m`, `1h`); so does an assignment its technician does not acknowledge.
    #[arg(long, env = "ITV_ESCALATE_AFTER", default_value = "5m", value_parser = parse_delay)]
    pub escalate_after: chrono::Duration,
    /// The last escalation level.
    #[arg(long, env = "ITV_ESCALATE_MAX_LEVEL", default_value_t = 6,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub escalate_max_level: u32,
    /// Create the demo accounts and a few requests (once).
    #[arg(long, env = "ITV_DEMO")]
    pub demo: bool,
    /// `full`: every answered write survives a power cut (an fsync per commit, shared by
    /// concurrent writes). `normal`: survives a crash of the server, not a power cut.
    #[arg(
        long,
        env = "ITV_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value = "full"
    )]
    pub sqlite_synchronous: Synchronous,
    /// At most this many concurrent writes share one commit (1: no grouping).
    #[arg(long, env = "ITV_WRITE_BATCH_MAX", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub write_batch_max: u16,
}

impl Config {
    /// Defaults suited to tests: a given data dir, an ephemeral port.
    pub fn for_dir(data_dir: PathBuf) -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            database_url: None,
            jwt_secret: None,
            session_idle_days: 30,
            session_max_days: 90,
            session_cache_ms: 1000,
            feed_pending_per_address: 20,
            feed_max_sockets: 10_000,
            feed_accept_per_sec: 100,
            new_epoch: false,
            body_limit: 64 * 1024,
            rate_create_per_account: 20,
            rate_create_per_address: 60,
            rate_login_per_account: 10,
            rate_login_global_per_account: 100,
            rate_login_per_address: 30,
            trusted_proxy: Vec::new(),
            event_log_keep: 100_000,
            ping_secs: 20,
            sla: SlaTargets::default(),
            escalate_after: Escalation::default().every,
            escalate_max_level: Escalation::default().max_level,
            demo: false,
            sqlite_synchronous: Synchronous::Full,
            write_batch_max: 64,
        }
    }

    pub fn database_path(&self) -> PathBuf {
        database_file(&self.data_dir)
    }

    pub fn write_options(&self) -> WriteOptions {
        WriteOptions {
            synchronous: self.sqlite_synchronous,
            max_batch: usize::from(self.write_batch_max),
        }
    }

    pub fn session_policy(&self) -> itv_core::account::SessionPolicy {
        itv_core::account::SessionPolicy::days(self.session_idle_days, self.session_max_days)
    }

    pub fn policy(&self) -> Policy {
        Policy {
            targets: self.sla.clone(),
            escalation: Escalation {
                every: self.escalate_after,
                max_level: self.escalate_max_level,
            },
        }
    }

    pub fn ping_interval(&self) -> Duration {
        Duration::from_secs(self.ping_secs.max(1))
    }
}
