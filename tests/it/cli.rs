//! The operator's commands, run as the real binary.

use std::process::Command;

use sea_orm::{Database, EntityTrait};

use crate::common;

#[rocket::async_test]
async fn domains_import_reports_bad_rows_by_line_and_keeps_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let csv = dir.path().join("portfolio.csv");
    std::fs::write(
        &csv,
        "domain,registrant_name,registrant_email,registrant_phone\n\
         Example.COM.,Anna Muster,anna@example.com,+41 44 000 00 00\n\
         not a domain,Bob,bob@example.com,\n\
         bücher.de,Jörg Müller,joerg@example.de,\n\
         shop.example,Carla,no-email,\n",
    )
    .unwrap();
    let database_url = match std::env::var("TEST_POSTGRES_URL") {
        Ok(server) => {
            let name = format!("td_cli_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(format!("{server}/postgres"))
                .await
                .unwrap();
            use sea_orm::ConnectionTrait;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            format!("{server}/{name}")
        }
        Err(_) => format!(
            "sqlite://{}/transfer-desk.sqlite3?mode=rwc",
            data_dir.display()
        ),
    };
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_transfer-desk"))
            .env("ROCKET_PROFILE", "release")
            .args(["domains", "import"])
            .arg(&csv)
            .env("TRANSFER_DESK_DATA_DIR", &data_dir)
            .env("TRANSFER_DESK_UPLOADS_DIR", dir.path().join("uploads"))
            .env("DATABASE_URL", &database_url)
            .output()
            .unwrap()
    };
    let first = run();
    let stderr = String::from_utf8_lossy(&first.stderr);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert_eq!(
        first.status.code(),
        Some(1),
        "some rows were rejected: {stderr}"
    );
    assert!(
        stdout.contains("imported 2 domain(s), rejected 2 row(s)"),
        "{stdout}"
    );
    assert!(
        stderr.contains("line 3:") && stderr.contains("not a valid domain name"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 5:") && stderr.contains("not an email address"),
        "{stderr}"
    );

    // Importing again changes nothing and says the same.
    let again = run();
    assert!(String::from_utf8_lossy(&again.stdout).contains("imported 2 domain(s)"));

    let db = Database::connect(&database_url).await.unwrap();
    let mut names: Vec<String> = entities::domain::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    names.sort();
    assert_eq!(names, ["example.com", "xn--bcher-kva.de"]);
}

#[test]
fn a_wrong_header_imports_nothing_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("wrong.csv");
    std::fs::write(&csv, "name,email\nexample.com,a@example.com\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_transfer-desk"))
        .env("ROCKET_PROFILE", "release")
        .args(["domains", "import"])
        .arg(&csv)
        .env("TRANSFER_DESK_DATA_DIR", dir.path().join("data"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/db.sqlite3?mode=rwc", dir.path().display()),
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("header must be domain,registrant_name,registrant_email"));
}

#[test]
fn reviewer_commands_add_list_and_disable_with_the_password_from_stdin() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}/db.sqlite3?mode=rwc", dir.path().display());
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_transfer-desk"))
            .env("ROCKET_PROFILE", "release")
            .args(args)
            .env("TRANSFER_DESK_DATA_DIR", dir.path().join("data"))
            .env("DATABASE_URL", &database_url)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        )
    };
    let (code, said) = run(&["reviewer", "add", "alice", "--admin"], "short\n");
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("12 to 128 characters"));
    assert_eq!(
        run(
            &["reviewer", "add", "alice", "--admin"],
            "correct horse battery staple\n"
        )
        .0,
        Some(0)
    );
    assert_eq!(
        run(&["reviewer", "add", "bob"], "another long passphrase\n").0,
        Some(0)
    );
    let (code, said) = run(&["reviewer", "add", "bob"], "another long passphrase\n");
    assert_eq!(code, Some(1));
    assert!(said.contains("already exists"));
    assert_eq!(run(&["reviewer", "disable", "bob"], "").0, Some(0));
    let (_, list) = run(&["reviewer", "list"], "");
    assert!(list.contains("alice\tadmin\tactive"), "{list}");
    assert!(list.contains("bob\treviewer\tdisabled"), "{list}");
    assert!(
        !list.contains("correct horse"),
        "no password is ever printed"
    );
}

#[tokio::test]
async fn the_first_admin_link_goes_to_a_private_file_never_to_the_log() {
    use std::os::unix::fs::PermissionsExt;
    let server = common::server::Server::start(&[]).await;
    let link = server.setup_link();
    assert!(link.contains("/review/setup/"), "{link}");
    let file = server.data_dir().join("first-admin-link.txt");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let log = server.log();
    assert!(
        log.contains("first-admin-link.txt"),
        "the log says where: {log}"
    );
    assert!(
        !log.contains("/review/setup/"),
        "the link itself is not logged: {log}"
    );
    let token = link.rsplit('/').next().unwrap();
    assert!(!log.contains(token));
}

#[tokio::test]
async fn sweep_runs_the_background_jobs_once_for_cron() {
    let dir = tempfile::tempdir().unwrap();
    let uploads = dir.path().join("uploads");
    let database_url = common::fresh_postgres_database().await;
    let sweep = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_transfer-desk"));
        command.env("ROCKET_PROFILE", "release");
        command
            .arg("sweep")
            .env("TRANSFER_DESK_DATA_DIR", dir.path().join("data"))
            .env("TRANSFER_DESK_UPLOADS_DIR", &uploads);
        if let Some(url) = &database_url {
            command.env("DATABASE_URL", url);
        }
        command.output().unwrap()
    };
    let first = sweep();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // What a crash between writing a document and committing its request leaves behind.
    let orphan = uploads.join(format!("{}.sealed", uuid::Uuid::new_v4()));
    std::fs::write(&orphan, b"ciphertext nobody refers to").unwrap();
    let touched = Command::new("touch")
        .arg("-d")
        .arg("1 hour ago")
        .arg(&orphan)
        .status()
        .unwrap();
    assert!(touched.success());
    let second = sweep();
    let said = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success());
    assert!(said.contains("removed 1 orphaned file(s)"), "{said}");
    assert!(!orphan.exists());
}

#[test]
fn the_binary_prints_its_hardened_systemd_unit() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_transfer-desk"))
        .arg("systemd-unit")
        .env_clear()
        .env("ROCKET_PROFILE", "release")
        .output()
        .unwrap();
    assert!(output.status.success());
    let unit = String::from_utf8(output.stdout).unwrap();
    for directive in [
        "DynamicUser=yes",
        "UMask=0077",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=transfer-desk",
        "LimitCORE=0",
        "MemoryDenyWriteExecute=yes",
        "ExecStart=/usr/local/bin/transfer-desk serve",
    ] {
        assert!(unit.lines().any(|l| l == directive), "{directive}");
    }
}
