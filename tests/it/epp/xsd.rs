//! The desk's EPP commands checked against the XML schemas of RFC 5730 (epp-1.0, eppcom-1.0)
//! and RFC 5731 (domain-1.0) in tests/it/epp/xsd/, by libxml2's validator (`xmllint`, which
//! CI installs): a check of our XML that does not rest on instant-epp's own serialisation.

use std::path::Path;
use std::process::Command;

/// Whether `xml` is valid; the validator's complaint when it is not.
pub fn validate(xml: &str) -> Result<(), String> {
    let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/epp/xsd");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("frame.xml");
    std::fs::write(&file, xml).unwrap();
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(schemas.join("epp-1.0.xsd"))
        .arg(&file)
        .output()
        .expect("xmllint (apt-get install libxml2-utils) validates the EPP commands");
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

pub fn assert_valid(xml: &str) {
    if let Err(complaint) = validate(xml) {
        panic!("not valid under RFC 5730/5731's schemas: {complaint}\n{xml}");
    }
}

#[test]
fn the_schemas_refuse_what_rfc_5730_and_5731_forbid() {
    let frame = |command: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command>{command}<clTRID>td-check-1</clTRID></command></epp>"#
        )
    };
    let update = |inner: &str| {
        frame(&format!(
            r#"<update><update xmlns="urn:ietf:params:xml:ns:domain-1.0"><name>example.com</name>{inner}</update></update>"#
        ))
    };
    assert_valid(&update("<chg><authInfo><null/></authInfo></chg>"));
    for wrong in [
        // An empty authInfo, a null beside a pw, chg before add, an unknown element.
        update("<chg><authInfo></authInfo></chg>"),
        update("<chg><authInfo><pw>abc</pw><null/></authInfo></chg>"),
        update("<chg><authInfo><null/></authInfo></chg><add><ns><hostObj>a.ch</hostObj></ns></add>"),
        update("<chg><authInfo><nul/></authInfo></chg>"),
        // A login password longer than pwType's 16 characters.
        frame("<login><clID>desk-01</clID><pw>seventeen-chars-x</pw><options><version>1.0</version><lang>en</lang></options><svcs><objURI>urn:ietf:params:xml:ns:domain-1.0</objURI></svcs></login>"),
    ] {
        assert!(validate(&wrong).is_err(), "accepted: {wrong}");
    }
}
