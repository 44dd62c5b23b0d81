//! The registry a test app hands off to, by either way the desk knows: the operator's command
//! (which appends what it receives to a file) or EPP (a fake registry over TLS, `fake_epp`).
//! The hand-off stories run once each way (`both_ways!`) and read what the registry holds
//! the same way whichever it is.

pub mod fake_epp;
pub mod pki;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use fake_epp::FakeRegistry;
use pki::{Authority, ClientFiles};
use transfer_desk::platform::config::epp::{self as settings, EppSettings};
use transfer_desk::Settings;

/// 6 to 16 characters, as RFC 5730 allows.
pub const EPP_PASSWORD: &str = "Pw-9f3kQ-nvrLg";

/// The way to the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    Command,
    Epp,
}

/// Who the desk trusts and who the registry trusts, for the EPP refusal tests.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    Both,
    /// The desk's CA file names another CA than the registry's.
    OtherRegistryCa,
    /// The desk's client certificate is from a CA the registry does not know.
    OtherClientCa,
}

/// A registry holding example.com, and the desk's way to it.
pub struct TestRegistry {
    pub way: Way,
    /// The command way: the file the command appends each hand-off to.
    received: PathBuf,
    /// What the registry held before the first hand-off.
    nameservers: Vec<String>,
    /// The EPP way: the fake registry, and the variables of the desk's account at it.
    pub epp: Option<FakeRegistry>,
    epp_vars: HashMap<&'static str, String>,
    _files: tempfile::TempDir,
}

impl TestRegistry {
    /// A registry holding `nameservers` for example.com, reached by `way`.
    pub async fn start(way: Way, nameservers: &[&str]) -> Self {
        Self::start_trusting(way, Trust::Both, nameservers).await
    }

    pub async fn start_trusting(way: Way, trust: Trust, nameservers: &[&str]) -> Self {
        let files = tempfile::tempdir().unwrap();
        let received = files.path().join("received");
        let (epp, epp_vars) = match way {
            Way::Command => (None, HashMap::new()),
            Way::Epp => {
                let (registry, vars) = epp_account(trust, nameservers, files.path()).await;
                (Some(registry), vars)
            }
        };
        Self {
            way,
            received,
            nameservers: nameservers.iter().map(|n| (*n).to_owned()).collect(),
            epp,
            epp_vars,
            _files: files,
        }
    }

    /// The settings of the desk's way to this registry.
    pub fn configure(&self, settings: &mut Settings) {
        match self.way {
            Way::Command => {
                let out = self.received.display();
                settings.registry_command = Some(format!("cat >> '{out}'; echo --- >> '{out}'"));
            }
            Way::Epp => settings.epp = Some(self.epp_settings()),
        }
    }

    /// The desk's EPP account, as the settings read it (with short waits for the tests).
    pub fn epp_settings(&self) -> EppSettings {
        let mut epp = settings::from_vars(|name| self.epp_vars.get(name).cloned(), false)
            .unwrap()
            .expect("EPP configured");
        epp.backoff = Duration::from_millis(20);
        epp.connect_timeout = Duration::from_secs(10);
        epp.command_timeout = Duration::from_secs(10);
        epp
    }

    /// The fake EPP registry (the EPP way only).
    pub fn fake(&self) -> &FakeRegistry {
        self.epp.as_ref().expect("the EPP way")
    }

    /// The transfer code the registry holds now, as far as the desk told it: `None` before
    /// any (the command way) and once cancelled.
    pub fn code(&self) -> Option<String> {
        match &self.epp {
            Some(registry) => registry.with(|r| r.auth_info.clone()),
            None => {
                let mut code = None;
                for (action, lines) in self.commands() {
                    match action.as_str() {
                        "set_transfer_code" => code = lines.first().cloned(),
                        "cancel_transfer_code" => code = None,
                        _ => {}
                    }
                }
                code
            }
        }
    }

    /// The nameservers the registry holds now.
    pub fn nameservers(&self) -> Vec<String> {
        match &self.epp {
            Some(registry) => registry.with(|r| r.nameservers.clone()),
            None => self
                .commands()
                .into_iter()
                .filter(|(action, _)| action == "set_nameservers")
                .map(|(_, hosts)| hosts)
                .next_back()
                .unwrap_or_else(|| self.nameservers.clone()),
        }
    }

    /// How many changes the registry was sent (commands run, or EPP updates).
    pub fn changes_sent(&self) -> usize {
        match &self.epp {
            Some(registry) => registry.with(|r| r.of_kind("update").len()),
            None => self.commands().len(),
        }
    }

    /// Whether `text` was ever sent to the registry (in a command's input or an EPP frame).
    pub fn was_sent(&self, text: &str) -> bool {
        match &self.epp {
            Some(registry) => registry.with(|r| r.received.iter().any(|f| f.contains(text))),
            None => std::fs::read_to_string(&self.received).is_ok_and(|t| t.contains(text)),
        }
    }

    /// The command way's hand-offs: each action with the values of its other lines, read
    /// strictly in the command's format (version 1, action, domain example.com).
    fn commands(&self) -> Vec<(String, Vec<String>)> {
        let text = std::fs::read_to_string(&self.received).unwrap_or_default();
        text.split_terminator("---\n")
            .map(|block| {
                let mut lines = block.lines();
                assert_eq!(lines.next(), Some("version 1"), "{block}");
                let action = lines.next().and_then(|l| l.strip_prefix("action "));
                let action = action.unwrap_or_else(|| panic!("no action: {block}"));
                assert_eq!(lines.next(), Some("domain example.com"), "{block}");
                let key = match action {
                    "set_transfer_code" => "code ",
                    _ => "nameserver ",
                };
                let values = lines
                    .map(|l| {
                        l.strip_prefix(key)
                            .unwrap_or_else(|| panic!("{l}: {block}"))
                    })
                    .map(str::to_owned)
                    .collect();
                (action.to_owned(), values)
            })
            .collect()
    }
}

/// A fake registry and the desk's account at it (certificates and password written to
/// `dir`), whose trust is as `trust` says.
async fn epp_account(
    trust: Trust,
    nameservers: &[&str],
    dir: &std::path::Path,
) -> (FakeRegistry, HashMap<&'static str, String>) {
    let registry_ca = Authority::new("Registry CA");
    let client_ca = Authority::new("Registry client CA");
    let stranger = Authority::new("Someone else");
    let server = registry_ca.leaf(&["localhost"]);
    let registry = FakeRegistry::start(&server, &client_ca, nameservers).await;
    let trusted = match trust {
        Trust::OtherRegistryCa => &stranger,
        _ => &registry_ca,
    };
    let client = match trust {
        Trust::OtherClientCa => stranger.leaf(&["desk.example"]),
        _ => client_ca.leaf(&["desk.example"]),
    };
    let files = ClientFiles::write(dir, trusted, &client, EPP_PASSWORD);
    let path = |p: PathBuf| p.display().to_string();
    let vars = HashMap::from([
        (
            settings::SERVER,
            format!("localhost:{}", registry.addr.port()),
        ),
        (settings::CA_FILE, path(files.ca)),
        (settings::CLIENT_CERT, path(files.cert)),
        (settings::CLIENT_KEY, path(files.key)),
        (settings::CLIENT_ID, "desk-01".to_owned()),
        (settings::PASSWORD_FILE, path(files.password)),
    ]);
    (registry, vars)
}

/// Runs each story `async fn story(way: Way)` twice, as the tests `story::command` and
/// `story::epp`: the hand-off told by the registry command, then in EPP.
// The benches include these helpers without the stories that use the macro.
#[allow(unused_macros)]
macro_rules! both_ways {
    ($($story:ident),+ $(,)?) => {
        $(
            mod $story {
                use $crate::common::registry::Way;

                #[rocket::async_test]
                async fn command() {
                    super::$story(Way::Command).await
                }

                #[rocket::async_test]
                async fn epp() {
                    super::$story(Way::Epp).await
                }
            }
        )+
    };
}
#[allow(unused_imports)]
pub(crate) use both_ways;
