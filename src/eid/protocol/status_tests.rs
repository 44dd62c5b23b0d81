use super::*;
use crate::eid::protocol::jose::unb64;

/// The examples of draft-ietf-oauth-status-list §4.1 (bits 1) and §4.2 (bits 2).
#[test]
fn the_drafts_example_lists_decode_to_their_statuses() {
    let one_bit = inflate_list("eNrbuRgAAhcBXQ").unwrap();
    let expected = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
    for (idx, status) in expected.iter().enumerate() {
        assert_eq!(
            status_at(&one_bit, 1, idx as u64).unwrap(),
            *status,
            "idx {idx}"
        );
    }
    let two_bits = inflate_list("eNo76fITAAPfAgc").unwrap();
    let expected = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];
    for (idx, status) in expected.iter().enumerate() {
        assert_eq!(
            status_at(&two_bits, 2, idx as u64).unwrap(),
            *status,
            "idx {idx}"
        );
    }
}

#[test]
fn an_index_beyond_the_list_or_odd_bits_are_refused() {
    let list = inflate_list("eNrbuRgAAhcBXQ").unwrap();
    assert!(status_at(&list, 1, 16).is_err());
    assert!(status_at(&list, 1, u64::MAX).is_err());
    assert!(status_at(&list, 3, 0).is_err());
    assert!(status_at(&list, 0, 0).is_err());
    assert_eq!(status_at(&[0xab], 8, 0).unwrap(), 0xab);
    assert_eq!(status_at(&[0xab], 4, 1).unwrap(), 0xa);
}

#[test]
fn a_list_that_inflates_beyond_the_cap_or_is_not_zlib_is_refused() {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(&vec![0u8; (MAX_LIST + 1) as usize])
        .unwrap();
    let bomb = crate::eid::protocol::jose::b64(&encoder.finish().unwrap());
    assert!(bomb.len() < 10_000);
    assert!(inflate_list(&bomb).is_err());
    // Raw DEFLATE without the zlib header is not a status list.
    let raw = unb64("eNrbuRgAAhcBXQ").unwrap();
    assert!(inflate_list(&crate::eid::protocol::jose::b64(&raw[2..])).is_err());
}
