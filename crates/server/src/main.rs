//! `itv-server`: run the server, or manage accounts from the command line.

mod cli;

use clap::{Parser, Subcommand};
use cli::UserCommand;
use itv_server::{Config, demo};

#[derive(Debug, Parser)]
#[command(name = "itv-server", version, about = "IT Vision Desk server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API, the live feed and the client portal.
    #[command(after_help = demo_help())]
    Serve(Box<Config>),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Move an embedded deployment (its data dir's SQLite database) to PostgreSQL: every
    /// table, the ticket counters and the event log, in one transaction, counts checked.
    /// Stop the server first; the target database must be empty.
    Migrate {
        /// The data dir whose itv.db is moved.
        #[arg(long, value_name = "DIR")]
        from_sqlite: std::path::PathBuf,
        /// The PostgreSQL database it goes to.
        #[arg(long = "database", env = "ITV_DATABASE_URL", hide_env_values = true)]
        database_url: String,
    },
}

fn demo_help() -> String {
    let accounts: Vec<String> = demo::DEMO_ACCOUNTS
        .iter()
        .map(|(role, email, _)| format!("  {email} ({})", role.as_str()))
        .collect();
    format!(
        "With --demo, these accounts are created once, password `{}`:\n{}",
        demo::DEMO_PASSWORD,
        accounts.join("\n")
    )
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ITV_LOG")
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let done = match Cli::parse().command {
        Command::Serve(config) => match itv_server::start(*config).await {
            Ok(server) => {
                println!("listening on http://{}", server.addr);
                let _ = tokio::signal::ctrl_c().await;
                tracing::info!("stopping");
                server.stop().await;
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        },
        Command::Migrate {
            from_sqlite,
            database_url,
        } => {
            off_executor(move || {
                itv_server::store::from_sqlite::move_to_postgres(
                    &from_sqlite,
                    &database_url,
                    |table, rows| println!("{table}\t{rows}"),
                )
                .map_err(|e| e.to_string())?;
                println!("migration terminée : chaque table a le même nombre de lignes");
                Ok(())
            })
            .await
        }
        Command::User(command) => off_executor(move || cli::run(command)).await,
    };
    match done {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("itv-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs a command on the stores off the executor: they block, and PostgreSQL's client
/// runs a runtime of its own.
async fn off_executor(
    f: impl FnOnce() -> Result<(), String> + Send + 'static,
) -> Result<(), String> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(e.to_string()))
}
