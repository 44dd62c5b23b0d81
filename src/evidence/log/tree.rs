//! The Merkle tree of RFC 6962 over leaf hashes, in memory: roots, inclusion and consistency
//! proofs, and their verification (RFC 9162 §2.1). Pure functions; the stored tree is in the
//! parent module.

use crate::platform::crypto::sha256;

pub fn leaf_hash(encoded: &[u8]) -> [u8; 32] {
    let mut prefixed = Vec::with_capacity(encoded.len() + 1);
    prefixed.push(0);
    prefixed.extend_from_slice(encoded);
    sha256(&prefixed)
}

pub(super) fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut both = [0u8; 65];
    both[0] = 1;
    both[1..33].copy_from_slice(left);
    both[33..].copy_from_slice(right);
    sha256(&both)
}

/// The Merkle tree hash of the leaves (RFC 6962 §2.1): the tree splits at the largest power
/// of two below its size.
pub fn root(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => sha256(b""),
        1 => leaves[0],
        n => {
            // The largest power of two below n: the highest bit of n - 1.
            let split = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&root(&leaves[..split]), &root(&leaves[split..]))
        }
    }
}

/// The largest power of two below `n` (n ≥ 2): where RFC 6962 splits a tree of n leaves.
pub(super) fn split_of(n: usize) -> usize {
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// The leaf ranges whose tree hashes prove leaf `index` is in the tree of leaves
/// `start..end` (RFC 6962 §2.1.1 PATH), from the leaf's sibling up. Every range starts at a
/// multiple of a power of two at least its size, so it is made of stored subtrees.
pub fn inclusion_ranges(index: usize, start: usize, end: usize) -> Vec<(usize, usize)> {
    if end - start <= 1 {
        return Vec::new();
    }
    let middle = start + split_of(end - start);
    let (mut path, sibling) = if index < middle {
        (inclusion_ranges(index, start, middle), (middle, end))
    } else {
        (inclusion_ranges(index, middle, end), (start, middle))
    };
    path.push(sibling);
    path
}

/// The leaf ranges whose tree hashes prove the tree of the first `old_size` leaves is a
/// prefix of the tree of the first `size` (RFC 6962 §2.1.2 PROOF).
pub fn consistency_ranges(old_size: usize, size: usize) -> Vec<(usize, usize)> {
    fn subproof(m: usize, start: usize, end: usize, whole: bool) -> Vec<(usize, usize)> {
        if m == end - start {
            return if whole {
                Vec::new()
            } else {
                vec![(start, end)]
            };
        }
        let k = split_of(end - start);
        if m <= k {
            let mut proof = subproof(m, start, start + k, whole);
            proof.push((start + k, end));
            proof
        } else {
            let mut proof = subproof(m - k, start + k, end, false);
            proof.push((start, start + k));
            proof
        }
    }
    if old_size == 0 || old_size > size {
        return Vec::new();
    }
    subproof(old_size, 0, size, true)
}

/// The inclusion proof of leaf `index` among `leaves`, computed from the leaves.
pub fn inclusion_proof(leaves: &[[u8; 32]], index: usize) -> Vec<[u8; 32]> {
    inclusion_ranges(index, 0, leaves.len())
        .into_iter()
        .map(|(start, end)| root(&leaves[start..end]))
        .collect()
}

/// Whether `proof` shows `leaf` at `index` in a tree of `size` leaves whose root is `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &[u8; 32],
    index: u64,
    size: u64,
    proof: &[[u8; 32]],
    root: &[u8; 32],
) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut hash = *leaf;
    for sibling in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            hash = node_hash(sibling, &hash);
            shift_until_set(&mut fn_, &mut sn);
        } else {
            hash = node_hash(&hash, sibling);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && hash == *root
}

/// The proofs' climb past the levels where the node has no sibling to its right: "right-shift
/// both fn and sn equally until either LSB(fn) is set or fn is 0" (RFC 9162 §2.1.3.2).
fn shift_until_set(fn_: &mut u64, sn: &mut u64) {
    while *fn_ & 1 == 0 && *fn_ != 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// The consistency proof from the first `old_size` of `leaves`, computed from the leaves.
pub fn consistency_proof(leaves: &[[u8; 32]], old_size: usize) -> Vec<[u8; 32]> {
    consistency_ranges(old_size, leaves.len())
        .into_iter()
        .map(|(start, end)| root(&leaves[start..end]))
        .collect()
}

/// Whether `proof` shows the tree of `old_size` leaves with root `old_root` is a prefix of
/// the tree of `new_size` leaves with root `new_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &[u8; 32],
    new_root: &[u8; 32],
    proof: &[[u8; 32]],
) -> bool {
    if old_size == 0 || old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    let mut path: Vec<[u8; 32]> = proof.to_vec();
    if old_size.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            shift_until_set(&mut fn_, &mut sn);
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *old_root && sr == *new_root && sn == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        crate::platform::crypto::hex(bytes)
    }

    /// The leaves of RFC 6962's test tree (from its reference implementation's tests).
    fn rfc_leaves() -> Vec<[u8; 32]> {
        let inputs: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        inputs.iter().map(|input| leaf_hash(input)).collect()
    }

    #[test]
    fn roots_match_the_rfc_6962_test_vectors() {
        let leaves = rfc_leaves();
        let expected = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        for (size, root_hex) in expected.iter().enumerate() {
            assert_eq!(
                hex(&root(&leaves[..size + 1])),
                *root_hex,
                "size {}",
                size + 1
            );
        }
        assert_eq!(
            hex(&root(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn roots_agree_with_ct_merkle() {
        use ct_merkle::mem_backed_tree::MemoryBackedTree;
        let inputs: Vec<Vec<u8>> = (0u32..37)
            .map(|i| i.to_be_bytes().repeat(i as usize % 5))
            .collect();
        let mut tree = MemoryBackedTree::<sha2::Sha256, Vec<u8>>::new();
        for (n, input) in inputs.iter().enumerate() {
            tree.push(input.clone());
            let leaves: Vec<[u8; 32]> = inputs[..=n].iter().map(|i| leaf_hash(i)).collect();
            assert_eq!(
                root(&leaves).as_slice(),
                tree.root().as_bytes().as_slice(),
                "size {}",
                n + 1
            );
        }
    }

    #[test]
    fn inclusion_proofs_agree_with_ct_merkle_and_verify() {
        use ct_merkle::mem_backed_tree::MemoryBackedTree;
        let inputs: Vec<Vec<u8>> = (0u32..23).map(|i| i.to_le_bytes().to_vec()).collect();
        let mut tree = MemoryBackedTree::<sha2::Sha256, Vec<u8>>::new();
        for input in &inputs {
            tree.push(input.clone());
        }
        let leaves: Vec<[u8; 32]> = inputs.iter().map(|i| leaf_hash(i)).collect();
        let top = root(&leaves);
        for index in 0..leaves.len() {
            let proof = inclusion_proof(&leaves, index);
            assert_eq!(
                proof.concat(),
                tree.prove_inclusion(index).as_bytes(),
                "leaf {index}"
            );
            assert!(verify_inclusion(
                &leaves[index],
                index as u64,
                23,
                &proof,
                &top
            ));
            let wrong = (index + 1) % leaves.len();
            assert!(!verify_inclusion(
                &leaves[wrong],
                index as u64,
                23,
                &proof,
                &top
            ));
        }
    }

    #[test]
    fn consistency_proofs_agree_with_ct_merkle_and_verify() {
        use ct_merkle::mem_backed_tree::MemoryBackedTree;
        let leaves: Vec<[u8; 32]> = (0u32..20).map(|i| leaf_hash(&i.to_le_bytes())).collect();
        for new_size in 1..=leaves.len() {
            let mut tree = MemoryBackedTree::<sha2::Sha256, Vec<u8>>::new();
            for i in 0..new_size as u32 {
                tree.push(i.to_le_bytes().to_vec());
            }
            let new_root = root(&leaves[..new_size]);
            for old_size in 1..=new_size {
                let proof = consistency_proof(&leaves[..new_size], old_size);
                let additions = new_size - old_size;
                if additions > 0 && old_size > 0 {
                    let theirs = tree.prove_consistency(additions);
                    assert_eq!(
                        proof.concat(),
                        theirs.as_bytes(),
                        "{old_size} to {new_size}"
                    );
                }
                let old_root = root(&leaves[..old_size]);
                assert!(
                    verify_consistency(
                        old_size as u64,
                        new_size as u64,
                        &old_root,
                        &new_root,
                        &proof
                    ),
                    "{old_size} to {new_size}"
                );
                if old_size < new_size {
                    let wrong = root(&leaves[1..=old_size]);
                    assert!(!verify_consistency(
                        old_size as u64,
                        new_size as u64,
                        &wrong,
                        &new_root,
                        &proof
                    ));
                }
            }
        }
    }
}
