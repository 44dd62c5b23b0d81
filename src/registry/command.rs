//! The registry hand-off by command: an operator-configured command receives what to do for a domain on
//! its standard input, in the line format below (version 1), and says by its exit status
//! whether it was done.
//!
//! ```text
//! version 1
//! action set_transfer_code
//! domain example.com
//! code Zx8#…
//! ```
//!
//! ```text
//! version 1
//! action set_nameservers
//! domain example.com
//! nameserver ns1.new-host.ch
//! nameserver ns2.new-host.ch
//! ```
//!
//! ```text
//! version 1
//! action cancel_transfer_code
//! domain example.com
//! ```
//!
//! (the last when the registrant on file objects to an issued code). Every line is a key, one space and a value; unknown keys are to be ignored, so that
//! later versions can add lines. Host names are lowercase ASCII (IDN in punycode).

use std::time::Duration;

use tokio::process::Command;

use zeroize::Zeroizing;

use super::{Action, RegistryError};
use crate::platform::external::Environment;

const TIMEOUT: Duration = Duration::from_secs(30);

/// Variables the command may see: the service's own secrets (`TRANSFER_DESK_MASTER_KEY`,
/// `DATABASE_URL`) never reach it.
fn allowed_variable(name: &str) -> bool {
    matches!(name, "PATH" | "HOME" | "LANG" | "LC_ALL" | "TZ")
        || name.starts_with("TRANSFER_DESK_REGISTRY_")
}

pub const FORMAT_VERSION: u32 = 1;

/// The command's standard input for `action` on `domain`.
fn input(domain: &str, action: &Action) -> Zeroizing<String> {
    let mut text = Zeroizing::new(format!("version {FORMAT_VERSION}\n"));
    match action {
        Action::SetTransferCode(code) => {
            text.push_str(&format!(
                "action set_transfer_code\ndomain {domain}\ncode {}\n",
                code.expose()
            ));
        }
        Action::SetNameservers(hosts) => {
            text.push_str(&format!("action set_nameservers\ndomain {domain}\n"));
            for host in hosts.iter() {
                text.push_str(&format!("nameserver {host}\n"));
            }
        }
        Action::CancelTransferCode => {
            text.push_str(&format!("action cancel_transfer_code\ndomain {domain}\n"));
        }
    }
    text
}

/// Runs `sh -c command` with the action on stdin, in an environment cleared down to an
/// allow-list.
pub async fn hand_off(
    command: &str,
    domain: &str,
    action: &Action<'_>,
) -> Result<(), RegistryError> {
    let mut shell = Command::new("sh");
    shell.arg("-c").arg(command);
    let input = input(domain, action);
    let environment = Environment {
        inherited: allowed_variable,
        set: &[],
    };
    let output =
        crate::platform::external::run(shell, environment, input.as_bytes(), TIMEOUT).await?;
    if output.status.success() {
        return Ok(());
    }
    let mut said = String::from_utf8_lossy(&output.stderr).into_owned();
    if let Action::SetTransferCode(code) = action {
        said = said.replace(code.expose(), "[code]");
    }
    let said: String = said.chars().take(300).collect();
    let said = said.trim();
    Err(RegistryError::CommandRefused {
        status: output.status,
        said: (!said.is_empty()).then(|| said.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::codes::TransferCode;

    /// What the registry command `script` wrote for `action` on example.com to the file that
    /// `script` names with `{out}`.
    async fn written_by(script: &str, action: &Action<'_>) -> String {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let script = script.replace("{out}", &format!("'{}'", out.display()));
        hand_off(&script, "example.com", action).await.unwrap();
        std::fs::read_to_string(out).unwrap()
    }

    #[tokio::test]
    async fn a_succeeding_command_receives_domain_and_code() {
        let code = TransferCode::generate().unwrap();
        let received = written_by("cat > {out}", &Action::SetTransferCode(&code)).await;
        assert_eq!(
            received,
            format!(
                "version 1\naction set_transfer_code\ndomain example.com\ncode {}\n",
                code.expose()
            )
        );
    }

    #[tokio::test]
    async fn a_nameserver_change_is_one_line_per_host_that_a_shell_loop_reads() {
        let hosts = ["ns1.new.ch".to_owned(), "ns2.new.ch".to_owned()];
        let script =
            "while read -r key value; do [ \"$key\" = nameserver ] && echo \"$value\"; done > {out}";
        let received = written_by(script, &Action::SetNameservers(&hosts)).await;
        assert_eq!(received, "ns1.new.ch\nns2.new.ch\n");
    }

    #[test]
    fn the_command_sees_only_allowed_variables() {
        for name in ["PATH", "HOME", "LANG", "TRANSFER_DESK_REGISTRY_TOKEN"] {
            assert!(allowed_variable(name), "{name}");
        }
        for name in [
            "TRANSFER_DESK_MASTER_KEY",
            "DATABASE_URL",
            "TRANSFER_DESK_SMTP_URL",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            assert!(!allowed_variable(name), "{name}");
        }
    }

    #[tokio::test]
    async fn the_command_does_not_inherit_the_environment() {
        let code = TransferCode::generate().unwrap();
        // The test process has variables of its own (CARGO_*, RUST_*): none may pass.
        let seen = written_by("env > {out}", &Action::SetTransferCode(&code)).await;
        for line in seen.lines() {
            let name = line.split('=').next().unwrap();
            assert!(
                allowed_variable(name) || ["PWD", "SHLVL", "_", "OLDPWD"].contains(&name),
                "{name} leaked into the registry command"
            );
        }
    }

    #[tokio::test]
    async fn a_failing_command_says_why_without_the_code() {
        let code = TransferCode::generate().unwrap();
        let error = hand_off(
            "read v; read a; read d; read c; echo \"registry refused $d $c\" >&2; exit 3",
            "example.com",
            &Action::SetTransferCode(&code),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("registry refused domain example.com code [code]"),
            "{error}"
        );
        assert!(!error.contains(code.expose()));
    }
}
