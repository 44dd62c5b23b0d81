//! The domain commands the desk sends (RFC 5731), and RFC 9154's `<domain:null/>`, which
//! instant-epp lacks: written here as a command of its own through its `Transaction` trait.

use std::borrow::Cow;

use instant_epp::common::NoExtension;
use instant_epp::domain::update::{DomainAdd, DomainChangeInfo, DomainRemove};
use instant_epp::domain::{DomainAuthInfo, DomainUpdate, HostInfo, HostObj, NameServers, XMLNS};
use instant_epp::request::{Command, Transaction};
use instant_xml::ToXml;

/// RFC 5730's namespace (instant-epp keeps its constant to itself).
const EPP_XMLNS: &str = "urn:ietf:params:xml:ns:epp-1.0";

/// `domain:update` that unsets the domain's authorization information (RFC 9154 §4.2):
/// `<domain:chg><domain:authInfo><domain:null/></domain:authInfo></domain:chg>`.
#[derive(Debug, ToXml)]
#[xml(rename = "update", ns(EPP_XMLNS))]
pub struct UnsetAuthInfo<'a> {
    domain: UnsetAuthInfoData<'a>,
}

#[derive(Debug, ToXml)]
#[xml(rename = "update", ns(XMLNS))]
struct UnsetAuthInfoData<'a> {
    name: &'a str,
    chg: Change,
}

#[derive(Debug, ToXml)]
#[xml(rename = "chg", ns(XMLNS))]
struct Change {
    auth_info: NullAuthInfo,
}

#[derive(Debug, ToXml)]
#[xml(rename = "authInfo", ns(XMLNS))]
struct NullAuthInfo {
    null: Null,
}

#[derive(Debug, ToXml)]
#[xml(rename = "null", ns(XMLNS))]
struct Null;

impl<'a> UnsetAuthInfo<'a> {
    pub fn new(domain: &'a str) -> Self {
        Self {
            domain: UnsetAuthInfoData {
                name: domain,
                chg: Change {
                    auth_info: NullAuthInfo { null: Null },
                },
            },
        }
    }
}

impl Transaction<NoExtension> for UnsetAuthInfo<'_> {}

impl Command for UnsetAuthInfo<'_> {
    type Response = ();
    const COMMAND: &'static str = "update";
}

/// `domain:update` that sets the authorization information to `code`.
pub fn set_auth_info<'a>(domain: &'a str, code: &'a str) -> DomainUpdate<'a> {
    let mut update = DomainUpdate::new(domain);
    update.info(DomainChangeInfo {
        registrant: None,
        auth_info: Some(DomainAuthInfo::new(code)),
    });
    update
}

/// The hosts to add and to remove so that `current` becomes `wanted` (names compared as
/// registries do: without case, without a trailing dot).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NameserverChange {
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

impl NameserverChange {
    pub fn between(current: &[String], wanted: &[String]) -> Self {
        let key = |host: &String| host.trim_end_matches('.').to_ascii_lowercase();
        let current_keys: Vec<String> = current.iter().map(key).collect();
        let wanted_keys: Vec<String> = wanted.iter().map(key).collect();
        Self {
            add: wanted
                .iter()
                .filter(|host| !current_keys.contains(&key(host)))
                .map(key)
                .collect(),
            remove: current
                .iter()
                .filter(|host| !wanted_keys.contains(&key(host)))
                .cloned()
                .collect(),
        }
    }

    /// Nothing to do: the registry holds what is wanted already.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

fn host_objects(hosts: &[String]) -> Option<NameServers<'_>> {
    (!hosts.is_empty()).then(|| NameServers {
        ns: Cow::Owned(
            hosts
                .iter()
                .map(|host| {
                    HostInfo::Obj(HostObj {
                        name: Cow::Borrowed(host.as_str()),
                    })
                })
                .collect(),
        ),
    })
}

/// `domain:update` that adds and removes host objects in one command (so the domain never
/// goes without nameservers in between).
pub fn change_nameservers<'a>(domain: &'a str, change: &'a NameserverChange) -> DomainUpdate<'a> {
    let mut update = DomainUpdate::new(domain);
    if let Some(ns) = host_objects(&change.add) {
        update.add(DomainAdd {
            ns: Some(ns),
            contacts: None,
            statuses: None,
        });
    }
    if let Some(ns) = host_objects(&change.remove) {
        update.remove(DomainRemove {
            ns: Some(ns),
            contacts: None,
            statuses: None,
        });
    }
    update
}

/// The host names of a `domain:info` answer, host objects and host attributes alike.
pub fn nameservers_of(info: &instant_epp::domain::InfoData) -> Vec<String> {
    info.ns
        .iter()
        .flat_map(|ns| ns.ns.iter())
        .map(|host| match host {
            HostInfo::Obj(obj) => obj.name.to_string(),
            HostInfo::Attr(attr) => attr.name.to_string(),
        })
        .map(|host| host.trim_end_matches('.').to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn a_change_adds_the_new_and_removes_the_old() {
        let change = NameserverChange::between(
            &hosts(&["ns1.old.ch", "ns2.shared.ch"]),
            &hosts(&["NS2.shared.ch.", "ns3.new.ch"]),
        );
        assert_eq!(change.add, hosts(&["ns3.new.ch"]));
        assert_eq!(change.remove, hosts(&["ns1.old.ch"]));
        assert!(NameserverChange::between(&hosts(&["a.ch"]), &hosts(&["A.ch."])).is_empty());
    }

    #[test]
    fn the_null_update_says_domain_null_in_the_domain_namespace() {
        let xml = instant_xml::to_string(&UnsetAuthInfo::new("example.ch")).unwrap();
        assert_eq!(
            xml,
            "<update xmlns=\"urn:ietf:params:xml:ns:epp-1.0\">\
             <update xmlns=\"urn:ietf:params:xml:ns:domain-1.0\"><name>example.ch</name>\
             <chg><authInfo><null /></authInfo></chg></update></update>"
        );
    }
}
