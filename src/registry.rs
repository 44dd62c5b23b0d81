//! Registry hand-off: an operator-configured command receives the domain and its new code.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::codes::TransferCode;

const TIMEOUT: Duration = Duration::from_secs(30);

/// Variables the command may see: the service's own secrets (`TRANSFER_DESK_MASTER_KEY`,
/// `DATABASE_URL`) never reach it.
fn allowed_variable(name: &str) -> bool {
    matches!(name, "PATH" | "HOME" | "LANG" | "LC_ALL" | "TZ")
        || name.starts_with("TRANSFER_DESK_REGISTRY_")
}

/// Runs `sh -c command` with `domain` and `code` on stdin, one per line, in an environment
/// cleared down to an allow-list. Any failure comes back in words a reviewer can act on; the
/// code never appears in it.
pub async fn hand_off(command: &str, domain: &str, code: &TransferCode) -> Result<(), String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env_clear()
        .envs(std::env::vars().filter(|(name, _)| allowed_variable(name)))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("the registry command could not be started: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let input = zeroize::Zeroizing::new(format!("{domain}\n{}\n", code.expose()));
        // A command that does not read its input is its own business; its exit status decides.
        let _ = stdin.write_all(input.as_bytes()).await;
    }
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| "the registry command did not finish within 30 seconds".to_owned())?
        .map_err(|e| format!("the registry command failed: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let said: String = String::from_utf8_lossy(&output.stderr)
        .replace(code.expose(), "[code]")
        .chars()
        .take(300)
        .collect();
    Err(format!(
        "the registry command failed ({}){}",
        output.status,
        if said.trim().is_empty() {
            String::new()
        } else {
            format!(": {}", said.trim())
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_succeeding_command_receives_domain_and_code() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("received");
        let code = TransferCode::generate().unwrap();
        hand_off(&format!("cat > '{}'", out.display()), "example.com", &code)
            .await
            .unwrap();
        let received = std::fs::read_to_string(out).unwrap();
        assert_eq!(received, format!("example.com\n{}\n", code.expose()));
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
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("env");
        let code = TransferCode::generate().unwrap();
        // The test process has variables of its own (CARGO_*, RUST_*): none may pass.
        hand_off(&format!("env > '{}'", out.display()), "example.com", &code)
            .await
            .unwrap();
        let seen = std::fs::read_to_string(out).unwrap();
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
            "read d; read c; echo \"registry refused $d $c\" >&2; exit 3",
            "example.com",
            &code,
        )
        .await
        .unwrap_err();
        assert!(
            error.contains("registry refused example.com [code]"),
            "{error}"
        );
        assert!(!error.contains(code.expose()));
    }
}
