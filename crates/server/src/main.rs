//! `itv-server`: run the server, or manage accounts from the command line.

use std::io::Read;

use clap::{Parser, Subcommand};
use itv_core::Role;
use itv_core::validation::{looks_like_email, password_problem};
use itv_server::auth::hash_password;
use itv_server::store::{NewUserRecord, SqliteStore, Store};
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
    Serve(Config),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input.
    Add {
        #[arg(long, env = "ITV_DATA_DIR", default_value = "./data")]
        data_dir: std::path::PathBuf,
        /// admin, technician or client
        #[arg(long)]
        role: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
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

fn add_user(data_dir: &std::path::Path, role: &str, email: &str, name: &str) -> Result<(), String> {
    let role = Role::parse(role).ok_or("role: admin, technician ou client")?;
    let email = email.trim().to_lowercase();
    if !looks_like_email(&email) {
        return Err("email invalide".into());
    }
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| e.to_string())?;
    let password = password.trim_end_matches(['\r', '\n']);
    if let Some(problem) = password_problem(password) {
        return Err(problem.into());
    }
    let store = SqliteStore::open(&data_dir.join("itv.db"), None).map_err(|e| e.to_string())?;
    let user = store
        .create_user(NewUserRecord {
            name: name.trim().to_string(),
            email,
            role,
            password_hash: hash_password(password).map_err(|e| e.to_string())?,
        })
        .map_err(|e| e.to_string())?;
    println!("{} {} {}", user.id, user.role.as_str(), user.email);
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ITV_LOG")
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(config) => match itv_server::start(config).await {
            Ok(server) => {
                println!("listening on http://{}", server.addr);
                let _ = tokio::signal::ctrl_c().await;
                tracing::info!("stopping");
                server.stop().await;
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("itv-server: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::User(UserCommand::Add {
            data_dir,
            role,
            email,
            name,
        }) => match add_user(&data_dir, &role, &email, &name) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("itv-server: {e}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}
