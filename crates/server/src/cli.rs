//! `itv-server user …`: manage accounts from the command line, on the database the
//! server uses. Sessions ended here are noticed by a running server within a second.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use clap::Subcommand;
use itv_core::Role;
use itv_core::account::{AccountPatch, EndReason, password_problem};
use itv_core::validation::looks_like_email;
use itv_server::passwords::hash_password;
use itv_server::store::{Account, NewUserRecord, SessionSet, Store, StoreError};

/// Which database the command works on: the server's, given the same way.
#[derive(Debug, clap::Args)]
pub struct Database {
    #[arg(long, env = "ITV_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// PostgreSQL instead of the data dir's SQLite file (as `serve --database`).
    #[arg(long = "database", env = "ITV_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

impl Database {
    fn open(&self) -> Result<Arc<dyn Store>, String> {
        itv_server::store::open(
            self.database_url.as_deref(),
            &itv_server::config::database_file(&self.data_dir),
            None,
            Default::default(),
            Default::default(),
        )
        .map_err(|e| e.to_string())
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from standard input.
    Add {
        #[command(flatten)]
        db: Database,
        /// admin, technician or client
        #[arg(long)]
        role: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
    /// List every account: id, role, active or not, last use, email, name.
    List {
        #[command(flatten)]
        db: Database,
    },
    /// Change an account's role (its sessions end).
    SetRole {
        #[command(flatten)]
        db: Database,
        #[arg(long)]
        email: String,
        /// admin, technician or client
        #[arg(long)]
        role: String,
    },
    /// Deactivate an account: it can no longer sign in and its sessions end.
    Deactivate {
        #[command(flatten)]
        db: Database,
        #[arg(long)]
        email: String,
    },
    /// Reactivate a deactivated account.
    Activate {
        #[command(flatten)]
        db: Database,
        #[arg(long)]
        email: String,
    },
    /// Set a new password, read from standard input; the account's sessions end.
    ResetPassword {
        #[command(flatten)]
        db: Database,
        #[arg(long)]
        email: String,
    },
}

pub fn run(command: UserCommand) -> Result<(), String> {
    match command {
        UserCommand::Add {
            db,
            role,
            email,
            name,
        } => add(&db, &role, &email, &name),
        UserCommand::List { db } => list(&db),
        UserCommand::SetRole { db, email, role } => {
            let role = Role::parse(&role).ok_or("role : admin, technician ou client")?;
            change(
                &db,
                &email,
                AccountPatch {
                    role: Some(role),
                    ..Default::default()
                },
            )
        }
        UserCommand::Deactivate { db, email } => change(
            &db,
            &email,
            AccountPatch {
                active: Some(false),
                ..Default::default()
            },
        ),
        UserCommand::Activate { db, email } => change(
            &db,
            &email,
            AccountPatch {
                active: Some(true),
                ..Default::default()
            },
        ),
        UserCommand::ResetPassword { db, email } => reset_password(&db, &email),
    }
}

fn read_password(email: &str) -> Result<String, String> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| e.to_string())?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    match password_problem(&password, Some(email)) {
        Some(problem) => Err(problem.into()),
        None => Ok(password),
    }
}

fn find(store: &dyn Store, email: &str) -> Result<Account, String> {
    let email = email.trim().to_lowercase();
    let record = store
        .login_record(&email)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("aucun compte pour {email}"))?;
    store
        .account(&record.user.id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("aucun compte pour {email}"))
}

fn print(account: &Account) {
    let seen = account
        .last_seen_at
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into());
    println!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        account.id,
        account.role.as_str(),
        if account.active {
            "actif"
        } else {
            "désactivé"
        },
        seen,
        account.email,
        account.name
    );
}

fn add(db: &Database, role: &str, email: &str, name: &str) -> Result<(), String> {
    let role = Role::parse(role).ok_or("role : admin, technician ou client")?;
    let email = email.trim().to_lowercase();
    if !looks_like_email(&email) {
        return Err("email invalide".into());
    }
    let password = read_password(&email)?;
    let store = db.open()?;
    let user = store
        .create_user(NewUserRecord {
            name: name.trim().to_string(),
            email,
            role,
            password_hash: hash_password(&password).map_err(|e| e.to_string())?,
        })
        .map_err(|e| e.to_string())?;
    println!("{} {} {}", user.id, user.role.as_str(), user.email);
    Ok(())
}

fn list(db: &Database) -> Result<(), String> {
    let store = db.open()?;
    for account in store.accounts().map_err(|e| e.to_string())? {
        print(&account);
    }
    Ok(())
}

fn change(db: &Database, email: &str, patch: AccountPatch) -> Result<(), String> {
    let store = db.open()?;
    let account = find(store.as_ref(), email)?;
    let change = store
        .update_account(&account.id, &patch, Utc::now())
        .map_err(|e| match e {
            StoreError::Account(refusal) => refusal.message().to_string(),
            other => other.to_string(),
        })?;
    print(&change.account);
    if let Some((_, ended)) = change.ended {
        println!("{} session(s) fermée(s)", ended.len());
    }
    Ok(())
}

fn reset_password(db: &Database, email: &str) -> Result<(), String> {
    let store = db.open()?;
    let account = find(store.as_ref(), email)?;
    let password = read_password(&account.email)?;
    let hash = hash_password(&password).map_err(|e| e.to_string())?;
    let ended = store
        .set_password(
            &account.id,
            &hash,
            &SessionSet::AllOf(account.id.clone()),
            EndReason::PasswordReset,
            Utc::now(),
        )
        .map_err(|e| e.to_string())?;
    println!(
        "mot de passe réinitialisé ; {} session(s) fermée(s)",
        ended.len()
    );
    Ok(())
}
