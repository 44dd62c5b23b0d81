//! `transfer-desk reviewer`: accounts, passwords and passkeys of the review's staff.

use std::process::ExitCode;

use super::*;

/// Reads a password from the terminal without echo, or a line from piped input.
fn read_password(prompt: &str) -> Result<zeroize::Zeroizing<String>, String> {
    use std::io::IsTerminal;
    let line = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt).map_err(|e| e.to_string())?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        line
    };
    Ok(zeroize::Zeroizing::new(
        line.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

pub(super) async fn manage_reviewers(settings: Settings, command: ReviewerCommand) -> ExitCode {
    let db = match database_or_exit(&settings).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    let result = match command {
        ReviewerCommand::Add { name, admin } => {
            match read_password("Password (12-128 characters): ") {
                Ok(password) => crate::accounts::add_reviewer(&db, &name, &password, admin)
                    .await
                    .map(|_| println!("added {}{name}", if admin { "admin " } else { "" }))
                    .map_err(|e| e.to_string()),
                Err(error) => Err(error),
            }
        }
        ReviewerCommand::Disable { name } => crate::accounts::disable_reviewer(&db, &name)
            .await
            .map(|()| println!("disabled {name}; their sessions are ended"))
            .map_err(|e| e.to_string()),
        ReviewerCommand::Password { name } => {
            match read_password("New password (12-128 characters): ") {
                Ok(password) => crate::accounts::change_password(&db, &name, &password)
                    .await
                    .map(|()| println!("password of {name} changed; their sessions are ended"))
                    .map_err(|e| e.to_string()),
                Err(error) => Err(error),
            }
        }
        ReviewerCommand::Passkeys { name, remove_all } if remove_all => {
            remove_passkeys(settings, &name).await
        }
        ReviewerCommand::Passkeys { name, .. } => passkeys(&db, &name).await,
        ReviewerCommand::PasskeyLink { name } => {
            crate::accounts::issue_enrolment_link(&db, &name, "cli")
                .await
                .map(|link| {
                    let base = settings.public_url.as_deref().unwrap_or("");
                    println!("{base}/review/enrol/{}", link.expose());
                    eprintln!("pass this link to {name} only; it works once, for 24 hours");
                })
                .map_err(|e| e.to_string())
        }
        ReviewerCommand::Email { name, email } => crate::accounts::set_email(&db, &name, &email)
            .await
            .map(|()| println!("{name} is told of changes to their passkeys at {email}"))
            .map_err(|e| e.to_string()),
        ReviewerCommand::List => crate::accounts::list_reviewers(&db)
            .await
            .map(|reviewers| {
                for r in reviewers {
                    let role = if r.is_admin { "admin" } else { "reviewer" };
                    let status = if r.disabled { "disabled" } else { "active" };
                    println!("{}\t{role}\t{status}", r.name);
                }
            })
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Lists, or removes, a reviewer's passkeys (the operator acts as `cli` in the audit trail).
async fn reviewer_named(
    db: &sea_orm::DatabaseConnection,
    name: &str,
) -> Result<entities::reviewer::Model, String> {
    crate::accounts::find_by_name(db, name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no reviewer is named “{name}”"))
}

/// Removes every passkey of a reviewer, and tells them and the staff address.
async fn remove_passkeys(settings: Settings, name: &str) -> Result<(), String> {
    let (services, _) = crate::Services::start(settings)
        .await
        .map_err(|e| e.to_string())?;
    let reviewer = reviewer_named(&services.db, name).await?;
    let change = crate::accounts::passkeys::remove_all(&services.db, &reviewer, "cli")
        .await
        .map_err(|e| e.to_string())?;
    let Some(change) = change else {
        println!("removed 0 passkey(s) of {name}");
        return Ok(());
    };
    if let crate::accounts::passkeys::ChangeKind::AllRemoved(count) = change.what {
        println!("removed {count} passkey(s) of {name}");
    }
    crate::mail::tell_passkey_change(services.mailer(), &change)
        .await
        .map_err(|e| e.to_string())
}

async fn passkeys(db: &sea_orm::DatabaseConnection, name: &str) -> Result<(), String> {
    use crate::accounts::passkeys;
    let reviewer = reviewer_named(db, name).await?;
    let list = passkeys::list(db, reviewer.id)
        .await
        .map_err(|e| e.to_string())?;
    if list.is_empty() {
        println!("{name} has no passkey");
    }
    for key in list {
        let used = key.last_used_at.map_or_else(
            || "never used".to_owned(),
            |at| format!("last used {}", at.to_rfc3339()),
        );
        println!(
            "{}\tadded {}\t{used}",
            key.name,
            key.created_at.to_rfc3339()
        );
    }
    Ok(())
}
