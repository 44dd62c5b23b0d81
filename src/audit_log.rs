//! The audit trail as a Merkle log (RFC 6962), as Certificate Transparency keeps one: each
//! event, in a canonical encoding, is a leaf (SHA-256(0x00 ‖ encoding)); nodes are
//! SHA-256(0x01 ‖ left ‖ right). The sweeper sequences new events (one writer at a time) and
//! signs checkpoints (C2SP `tlog-checkpoint` in a `signed-note`, Ed25519), so that a copy of a
//! checkpoint kept elsewhere proves later that no earlier event was edited, removed or
//! reordered. `verify` recomputes everything from the stored events.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use entities::{audit_checkpoint, audit_event, audit_node, log_key};
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set, Statement,
};

use crate::crypto::{sha256, CryptoError};
use crate::keyring::{KeyRing, LOG_KEY_CONTEXT};

/// The first line of every event's encoding; a new encoding gets a new version.
pub const ENCODING: &str = "transfer-desk-audit-event/v1";
/// Events sequenced per transaction.
const BATCH: u64 = 500;
/// The PostgreSQL advisory lock that makes one instance at a time the log's writer
/// ("TDLOG1" read as a number).
const SEQUENCER_LOCK: i64 = 0x5444_4c4f_4731;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("the log's signing key cannot be made or opened: {0}")]
    Key(#[from] CryptoError),
    #[error("the log's signing key is unreadable")]
    KeyUnreadable,
}

/// The event as the log commits to it: its index, time, actor, action and request, and for
/// its detail only SHA-256(salt ‖ detail), so that no personal data is in the log itself.
pub fn canonical(event: &audit_event::Model, index: u64) -> Vec<u8> {
    let detail = match (&event.detail, &event.detail_salt) {
        (Some(detail), Some(salt)) => {
            let mut salted = salt.clone();
            salted.extend_from_slice(detail.as_bytes());
            crate::crypto::hex(&sha256(&salted))
        }
        (Some(detail), None) => crate::crypto::hex(&sha256(detail.as_bytes())),
        (None, _) => "-".to_owned(),
    };
    let request = event
        .request_id
        .map_or_else(|| "-".to_owned(), |id| id.hyphenated().to_string());
    format!(
        "{ENCODING}\nindex {index}\nat {}\nactor {}\naction {}\nrequest {request}\ndetail {detail}\n",
        event.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        event.actor.replace('\n', " "),
        event.action,
    )
    .into_bytes()
}

pub fn leaf_hash(encoded: &[u8]) -> [u8; 32] {
    let mut prefixed = Vec::with_capacity(encoded.len() + 1);
    prefixed.push(0);
    prefixed.extend_from_slice(encoded);
    sha256(&prefixed)
}

fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
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
fn split_of(n: usize) -> usize {
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

/// The proof that the log of `old_size` events is a prefix of the latest checkpoint's, for a
/// witness that kept an older checkpoint: the latest checkpoint and the proof.
pub async fn consistency(
    db: &impl ConnectionTrait,
    old_size: u64,
) -> Result<Option<(audit_checkpoint::Model, Vec<[u8; 32]>)>, DbErr> {
    let Some(checkpoint) = latest_checkpoint(db).await? else {
        return Ok(None);
    };
    if old_size == 0 || old_size > checkpoint.size as u64 {
        return Ok(None);
    }
    let ranges = consistency_ranges(old_size as usize, checkpoint.size as usize);
    let proof = hashes_of(db, ranges).await?;
    Ok(Some((checkpoint, proof)))
}

/// Event `index` in the latest checkpoint that covers it: the checkpoint, the event's
/// encoding and the proof. `None` until a checkpoint covers the event.
pub async fn inclusion(
    db: &impl ConnectionTrait,
    index: u64,
) -> Result<Option<(audit_checkpoint::Model, Vec<u8>, Vec<[u8; 32]>)>, DbErr> {
    let Some(checkpoint) = latest_checkpoint(db).await? else {
        return Ok(None);
    };
    let size = checkpoint.size as u64;
    if index >= size {
        return Ok(None);
    }
    let Some(event) = audit_event::Entity::find()
        .filter(audit_event::Column::LeafIndex.eq(index as i64))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let ranges = inclusion_ranges(index as usize, 0, size as usize);
    let proof = hashes_of(db, ranges).await?;
    Ok(Some((checkpoint, canonical(&event, index), proof)))
}

/// Stores the new leaf, and each complete subtree it completes: while the node is a right
/// child, its parent from its stored left sibling.
async fn store_subtrees(
    db: &impl ConnectionTrait,
    index: u64,
    leaf: [u8; 32],
) -> Result<(), DbErr> {
    let (mut level, mut position, mut hash) = (0i32, index as i64, leaf);
    loop {
        audit_node::ActiveModel {
            level: Set(level),
            position: Set(position),
            hash: Set(hash.to_vec()),
        }
        .insert(db)
        .await?;
        if position % 2 == 0 {
            return Ok(());
        }
        let left = stored_node(db, level, position - 1).await?;
        hash = node_hash(&left, &hash);
        level += 1;
        position /= 2;
    }
}

async fn stored_node(
    db: &impl ConnectionTrait,
    level: i32,
    position: i64,
) -> Result<[u8; 32], DbErr> {
    audit_node::Entity::find_by_id((level, position))
        .one(db)
        .await?
        .and_then(|node| node.hash.try_into().ok())
        .ok_or_else(|| DbErr::Custom(format!("the log has no node {level}/{position}")))
}

/// The tree hash of leaves `start..end` from the stored subtrees: at most two lookups a
/// level, never the leaves themselves. `start` is a multiple of a power of two at least
/// `end - start`, as in every range RFC 6962's proofs use.
async fn subtree_hash(db: &impl ConnectionTrait, start: u64, end: u64) -> Result<[u8; 32], DbErr> {
    let size = end - start;
    if size == 0 {
        return Ok(sha256(b""));
    }
    if size.is_power_of_two() && start.is_multiple_of(size) {
        return stored_node(db, size.trailing_zeros() as i32, (start / size) as i64).await;
    }
    let middle = start + split_of(size as usize) as u64;
    let left = Box::pin(subtree_hash(db, start, middle)).await?;
    let right = Box::pin(subtree_hash(db, middle, end)).await?;
    Ok(node_hash(&left, &right))
}

async fn hashes_of(
    db: &impl ConnectionTrait,
    ranges: Vec<(usize, usize)>,
) -> Result<Vec<[u8; 32]>, DbErr> {
    let mut hashes = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        hashes.push(subtree_hash(db, start as u64, end as u64).await?);
    }
    Ok(hashes)
}

/// An event's inclusion proof as a text an admin can hand to anyone: the event's encoding,
/// its leaf hash, the proof, and the signed checkpoint.
pub async fn proof_document(
    db: &impl ConnectionTrait,
    index: u64,
) -> Result<Option<String>, DbErr> {
    let Some((checkpoint, event, proof)) = inclusion(db, index).await? else {
        return Ok(None);
    };
    let mut text = format!(
        "transfer-desk audit inclusion proof v1\nindex {index}\nleaf {}\nsize {}\n",
        BASE64.encode(leaf_hash(&event)),
        checkpoint.size
    );
    for hash in proof {
        text.push_str(&format!("proof {}\n", BASE64.encode(hash)));
    }
    text.push_str("\nThe event (its leaf hash is SHA-256 of a 0 byte and these lines):\n");
    text.push_str(&String::from_utf8_lossy(&event));
    text.push_str("\nThe signed checkpoint:\n");
    text.push_str(&checkpoint.note);
    Ok(Some(text))
}

/// Gives the events not yet in the log their places, in the order they were recorded; one
/// instance at a time (a PostgreSQL advisory lock; SQLite has one writer anyway). Returns
/// the log's size.
pub async fn sequence(db: &DatabaseConnection) -> Result<u64, DbErr> {
    loop {
        let txn = crate::db::begin_writing(db).await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT pg_advisory_xact_lock({SEQUENCER_LOCK})"),
            ))
            .await?;
        } else {
            // SQLite's write lock first (a write that changes nothing takes it, waiting for
            // another process's): the reads below then see that writer's work.
            txn.execute_unprepared("UPDATE audit_events SET leaf_index = leaf_index WHERE 1 = 0")
                .await?;
        }
        let last = audit_event::Entity::find()
            .filter(audit_event::Column::LeafIndex.is_not_null())
            .order_by_desc(audit_event::Column::LeafIndex)
            .one(&txn)
            .await?;
        let mut next = last.and_then(|e| e.leaf_index).map_or(0, |i| i as u64 + 1);
        let waiting = audit_event::Entity::find()
            .filter(audit_event::Column::LeafIndex.is_null())
            .order_by_asc(audit_event::Column::Id)
            .paginate(&txn, BATCH)
            .fetch_page(0)
            .await?;
        let done = (waiting.len() as u64) < BATCH;
        for event in waiting {
            let leaf = leaf_hash(&canonical(&event, next));
            let mut active = event.into_active_model();
            active.leaf_index = Set(Some(next as i64));
            active.leaf_hash = Set(Some(leaf.to_vec()));
            active.update(&txn).await?;
            store_subtrees(&txn, next, leaf).await?;
            next += 1;
        }
        txn.commit().await?;
        if done {
            return Ok(next);
        }
    }
}

/// The log's events in order.
async fn sequenced(db: &impl ConnectionTrait) -> Result<Vec<audit_event::Model>, DbErr> {
    audit_event::Entity::find()
        .filter(audit_event::Column::LeafIndex.is_not_null())
        .order_by_asc(audit_event::Column::LeafIndex)
        .all(db)
        .await
}

/// The log's name, which checkpoints and the key carry: the public host's, or `localhost`.
pub fn origin(public_url: Option<&str>) -> String {
    let host = public_url
        .and_then(|url| url.split("://").nth(1))
        .and_then(|rest| rest.split(['/', ':']).next())
        .filter(|host| !host.is_empty())
        .unwrap_or("localhost");
    format!("{host}/transfer-desk/audit")
}

/// The log's Ed25519 key.
pub struct LogKey {
    pub name: String,
    pair: Ed25519KeyPair,
}

impl LogKey {
    pub fn public_key(&self) -> [u8; 32] {
        let mut key = [0; 32];
        key.copy_from_slice(self.pair.public_key().as_ref());
        key
    }

    /// The key as signed-note verifiers write it: `name+keyid+base64(0x01 ‖ key)`.
    pub fn verifier_key(&self) -> String {
        verifier_key(&self.name, &self.public_key())
    }

    /// The public key as PEM (SubjectPublicKeyInfo), for `openssl`.
    pub fn pem(&self) -> String {
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(&self.public_key());
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            BASE64.encode(der)
        )
    }
}

/// The signed-note key id: the first four bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ key).
fn key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    let mut input = name.as_bytes().to_vec();
    input.push(b'\n');
    input.push(1);
    input.extend_from_slice(public_key);
    let hash = sha256(&input);
    [hash[0], hash[1], hash[2], hash[3]]
}

pub fn verifier_key(name: &str, public_key: &[u8; 32]) -> String {
    let mut typed = vec![1];
    typed.extend_from_slice(public_key);
    format!(
        "{name}+{}+{}",
        crate::crypto::hex(&key_id(name, public_key)),
        BASE64.encode(typed)
    )
}

/// The log's signing key, made on first use and kept sealed under the master key.
pub async fn signing_key(
    db: &impl ConnectionTrait,
    keys: &KeyRing,
    name: &str,
) -> Result<LogKey, LogError> {
    if let Some(stored) = log_key::Entity::find_by_id(name.to_owned()).one(db).await? {
        let pkcs8 = keys.open_secret(LOG_KEY_CONTEXT, &stored.sealed_private)?;
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| LogError::KeyUnreadable)?;
        return Ok(LogKey {
            name: name.to_owned(),
            pair,
        });
    }
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| LogError::KeyUnreadable)?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| LogError::KeyUnreadable)?;
    let row = log_key::ActiveModel {
        name: Set(name.to_owned()),
        public_key: Set(pair.public_key().as_ref().to_vec()),
        sealed_private: Set(keys.seal_secret(LOG_KEY_CONTEXT, pkcs8.as_ref())?),
        created_at: Set(Utc::now()),
    };
    if row.insert(db).await.is_err() {
        // Another instance made it first: theirs is the log's key.
        return Box::pin(signing_key(db, keys, name)).await;
    }
    Ok(LogKey {
        name: name.to_owned(),
        pair,
    })
}

/// A checkpoint: the log's name, size and root hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: [u8; 32],
}

impl Checkpoint {
    /// The note's text (C2SP tlog-checkpoint), which the signature covers.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    /// The signed note: the body, a blank line, and the signature line.
    pub fn sign(&self, key: &LogKey) -> String {
        key.sign_note(&self.body())
    }
}

impl LogKey {
    /// `body` (lines, each ending in a line feed) as a C2SP signed note: the body, a blank
    /// line, and the signature line.
    pub fn sign_note(&self, body: &str) -> String {
        let signature = self.pair.sign(body.as_bytes());
        let mut signed = key_id(&self.name, &self.public_key()).to_vec();
        signed.extend_from_slice(signature.as_ref());
        format!("{body}\n\u{2014} {} {}\n", self.name, BASE64.encode(signed))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("not a checkpoint note")]
    Malformed,
    #[error("no signature by the log's key {0}")]
    NotSigned(String),
}

/// Reads a signed checkpoint, accepting it only with a valid signature by `name`'s `key`.
pub fn open_note(note: &str, name: &str, key: &[u8; 32]) -> Result<Checkpoint, NoteError> {
    let (body, signatures) = note.split_once("\n\n").ok_or(NoteError::Malformed)?;
    let body = format!("{body}\n");
    let mut lines = body.lines();
    let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
        return Err(NoteError::Malformed);
    };
    let size = size.parse().map_err(|_| NoteError::Malformed)?;
    let root: [u8; 32] = BASE64
        .decode(root)
        .ok()
        .and_then(|r| r.try_into().ok())
        .ok_or(NoteError::Malformed)?;
    let id = key_id(name, key);
    let signed = signatures.lines().any(|line| {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return false;
        };
        let Some((signer, signature)) = rest.split_once(' ') else {
            return false;
        };
        let Ok(signature) = BASE64.decode(signature) else {
            return false;
        };
        signer == name
            && signature.len() == 68
            && signature[..4] == id
            && UnparsedPublicKey::new(&ED25519, key)
                .verify(body.as_bytes(), &signature[4..])
                .is_ok()
    });
    if !signed {
        return Err(NoteError::NotSigned(name.to_owned()));
    }
    Ok(Checkpoint {
        origin: origin.to_owned(),
        size,
        root,
    })
}

/// Sequences new events and, when the log has grown and the last checkpoint is older than
/// `every`, signs a new one. Returns the new checkpoint's size.
pub async fn checkpoint_if_due(
    db: &DatabaseConnection,
    keys: &KeyRing,
    origin: &str,
    every: Duration,
    now: DateTime<Utc>,
) -> Result<Option<u64>, LogError> {
    let size = sequence(db).await?;
    let last = latest_checkpoint(db).await?;
    let grown = last.as_ref().map_or(size > 0, |l| (l.size as u64) < size);
    let due = last.as_ref().is_none_or(|l| now - l.created_at >= every);
    if !grown || !due {
        return Ok(None);
    }
    let checkpoint = Checkpoint {
        origin: origin.to_owned(),
        size,
        root: subtree_hash(db, 0, size).await?,
    };
    let key = signing_key(db, keys, origin).await?;
    let row = audit_checkpoint::ActiveModel {
        size: Set(checkpoint.size as i64),
        root: Set(checkpoint.root.to_vec()),
        note: Set(checkpoint.sign(&key)),
        created_at: Set(now),
    };
    // Another instance sweeping at the same moment may have signed this very size first:
    // its checkpoint stands, and this one is not needed.
    let inserted = audit_checkpoint::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(audit_checkpoint::Column::Size)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok((inserted == 1).then_some(checkpoint.size))
}

pub async fn latest_checkpoint(
    db: &impl ConnectionTrait,
) -> Result<Option<audit_checkpoint::Model>, DbErr> {
    audit_checkpoint::Entity::find()
        .order_by_desc(audit_checkpoint::Column::Size)
        .one(db)
        .await
}

/// What `verify` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Finding {
    /// Every event fits every checkpoint (and the one given).
    Consistent { events: u64, checkpoints: u64 },
    /// The first event that does not fit: its place in the log, and why.
    EventDoesNotFit {
        index: u64,
        id: Option<i64>,
        why: &'static str,
    },
    /// A checkpoint whose root the events no longer give, or whose signature is not the log's.
    CheckpointDoesNotFit { size: u64, why: String },
}

/// Recomputes the log from the stored events and checks it against every stored checkpoint,
/// and against `since` (an older checkpoint kept elsewhere), signed by `key`.
pub async fn verify(
    db: &impl ConnectionTrait,
    origin: &str,
    key: &[u8; 32],
    since: Option<&str>,
) -> Result<Finding, DbErr> {
    let events = sequenced(db).await?;
    let mut leaves = Vec::with_capacity(events.len());
    for (position, event) in events.iter().enumerate() {
        let index = event.leaf_index.unwrap_or_default() as u64;
        if index != position as u64 {
            return Ok(Finding::EventDoesNotFit {
                index: position as u64,
                id: None,
                why: "missing from the log (deleted, or its place changed)",
            });
        }
        let leaf = leaf_hash(&canonical(event, index));
        if event.leaf_hash.as_deref() != Some(leaf.as_slice()) {
            return Ok(Finding::EventDoesNotFit {
                index,
                id: Some(event.id),
                why: "changed since it entered the log",
            });
        }
        leaves.push(leaf);
    }
    let mut notes: Vec<(u64, String)> = audit_checkpoint::Entity::find()
        .order_by_asc(audit_checkpoint::Column::Size)
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.size as u64, c.note))
        .collect();
    let stored = notes.len() as u64;
    if let Some(given) = since {
        notes.insert(0, (0, given.to_owned()));
    }
    for (stored_size, note) in notes {
        let checkpoint = match open_note(&note, origin, key) {
            Ok(checkpoint) => checkpoint,
            Err(error) => {
                return Ok(Finding::CheckpointDoesNotFit {
                    size: stored_size,
                    why: error.to_string(),
                })
            }
        };
        let size = checkpoint.size as usize;
        if size > leaves.len() {
            return Ok(Finding::CheckpointDoesNotFit {
                size: checkpoint.size,
                why: format!("the log has only {} events", leaves.len()),
            });
        }
        if root(&leaves[..size]) != checkpoint.root {
            return Ok(Finding::CheckpointDoesNotFit {
                size: checkpoint.size,
                why: format!(
                    "the first {size} events no longer give its root: one of them was changed, removed or moved"
                ),
            });
        }
    }
    Ok(Finding::Consistent {
        events: leaves.len() as u64,
        checkpoints: stored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        crate::crypto::hex(bytes)
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

    /// The encoding is a contract with every checkpoint ever kept: this pins it.
    #[test]
    fn a_known_event_has_a_known_leaf_hash() {
        let event = audit_event::Model {
            id: 7,
            at: DateTime::parse_from_rfc3339("2026-11-30T18:00:00.123456Z")
                .unwrap()
                .with_timezone(&Utc),
            actor: "alice".into(),
            action: "approval".into(),
            request_id: Some(uuid::Uuid::from_u128(0x1234)),
            detail: Some("1 of 1".into()),
            leaf_index: None,
            leaf_hash: None,
            detail_salt: Some(vec![0xab; 16]),
        };
        let encoded = canonical(&event, 41);
        assert_eq!(
            String::from_utf8(encoded.clone()).unwrap(),
            "transfer-desk-audit-event/v1\nindex 41\nat 2026-11-30T18:00:00.123456Z\nactor alice\n\
             action approval\nrequest 00000000-0000-0000-0000-000000001234\n\
             detail 38e82290239ec07b731817a2bf6f4bca5f25edb6afbe0e2304d414e49104e335\n"
        );
        assert_eq!(
            hex(&leaf_hash(&encoded)),
            "763d40b36838c7fd202441d28f01127f07dbd8f88c7d9e7f481820e8c88e4b09"
        );
    }

    /// A fresh key for a log named `desk.example/transfer-desk/audit`.
    fn test_key() -> LogKey {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        LogKey {
            name: "desk.example/transfer-desk/audit".into(),
            pair: Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap(),
        }
    }

    #[test]
    fn a_checkpoint_we_sign_opens_with_our_key_only() {
        let key = test_key();
        let checkpoint = Checkpoint {
            origin: key.name.clone(),
            size: 3,
            root: [7; 32],
        };
        let note = checkpoint.sign(&key);
        assert_eq!(
            open_note(&note, &key.name, &key.public_key()),
            Ok(checkpoint.clone())
        );
        let other_key = test_key().public_key();
        assert!(open_note(&note, &key.name, &other_key).is_err());
        let forged = note.replace("\n3\n", "\n4\n");
        assert!(open_note(&forged, &key.name, &key.public_key()).is_err());
    }

    /// An independent implementation of C2SP signed-note accepts our checkpoints.
    #[test]
    fn signed_note_reads_our_checkpoints() {
        let key = test_key();
        let note = Checkpoint {
            origin: key.name.clone(),
            size: 12,
            root: [9; 32],
        }
        .sign(&key);
        let verifier = signed_note::StandardVerifier::new(&key.verifier_key()).unwrap();
        let parsed = signed_note::Note::from_bytes(note.as_bytes()).unwrap();
        let (verified, unverified) = parsed
            .verify(&signed_note::VerifierList::new(vec![Box::new(verifier)]))
            .unwrap();
        assert_eq!(verified.len(), 1);
        assert!(unverified.is_empty());
    }
}
