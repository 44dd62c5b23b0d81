//! Running a program the operator named (the registry command, the OCR program): it inherits
//! nothing of this process's environment beyond an allow-list (no keys, no database URL),
//! gets its input on stdin, and is killed when it overruns its time or is dropped.

use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("could not be started: {0}")]
    Start(#[source] std::io::Error),
    #[error("did not finish within {} seconds", .0.as_secs())]
    Timeout(Duration),
    #[error("waiting for it failed: {0}")]
    Wait(#[source] std::io::Error),
}

/// What a program sees of the environment: the variables of this process that `inherited`
/// accepts, and `set`.
pub struct Environment<'a> {
    pub inherited: fn(&str) -> bool,
    pub set: &'a [(&'a str, &'a str)],
}

/// Runs `command` in `environment` alone, writes `input` to its stdin while collecting its
/// stdout and stderr, and waits at most `limit`.
pub async fn run(
    mut command: Command,
    environment: Environment<'_>,
    input: &[u8],
    limit: Duration,
) -> Result<Output, RunError> {
    let inherited: Vec<(String, String)> = std::env::vars()
        .filter(|(name, _)| (environment.inherited)(name))
        .collect();
    let mut child = command
        .env_clear()
        .envs(inherited)
        .envs(environment.set.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(RunError::Start)?;
    let mut stdin = child.stdin.take();
    let writing = async {
        if let Some(stdin) = stdin.as_mut() {
            // A program that stops reading early says so by its exit status.
            let _ = stdin.write_all(input).await;
        }
        drop(stdin);
    };
    tokio::time::timeout(limit, async {
        let (_, output) = tokio::join!(writing, child.wait_with_output());
        output
    })
    .await
    .map_err(|_| RunError::Timeout(limit))?
    .map_err(RunError::Wait)
}
