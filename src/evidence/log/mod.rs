//! The audit trail as a Merkle log (RFC 6962), as Certificate Transparency keeps one: each
//! event, in a canonical encoding, is a leaf (SHA-256(0x00 ‖ encoding)); nodes are
//! SHA-256(0x01 ‖ left ‖ right). The sweeper sequences new events (one writer at a time) and
//! signs checkpoints (C2SP `tlog-checkpoint` in a `signed-note`, Ed25519), so that a copy of a
//! checkpoint kept elsewhere proves later that no earlier event was edited, removed or
//! reordered. The key is pinned outside the database, and so is the last checkpoint signed:
//! a database writer can neither bring a key of their own nor have a rewritten log signed.
//! `verify` recomputes everything from the stored events.
//!
//! Here: the stored tree (events' places, subtrees, proofs from them). Apart: the tree math
//! (`tree`), the events' encoding (`encoding`), the key and signed notes (`note`, `keys`,
//! `pins`), signing (`sign`) and checking (`verify`).

mod encoding;
mod keys;
mod note;
pub mod pins;
mod sign;
mod tree;
mod verify;

pub use encoding::{canonical, new_salt, ENCODING, ENCODING_V1};
pub use keys::{establish, signing_key, Established};
pub use note::{open_note, Checkpoint, LogKey, NoteError};
pub use sign::checkpoint_if_due;
pub use tree::{
    consistency_proof, consistency_ranges, inclusion_proof, inclusion_ranges, leaf_hash, root,
    verify_consistency, verify_inclusion,
};
pub use verify::{verify, Expected, Problem, Report};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use entities::{audit_checkpoint, audit_event, audit_node};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set, Statement,
};

use crate::platform::crypto::{sha256, CryptoError};
use pins::PinError;
use tree::{node_hash, split_of};

/// Events sequenced per transaction.
const BATCH: u64 = 500;
/// The PostgreSQL advisory lock that makes one instance at a time the log's writer
/// ("TDLOG1" read as a number).
const SEQUENCER_LOCK: i64 = 0x5444_4c4f_4731;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("the log's signing key cannot be opened: {0}")]
    Key(#[from] CryptoError),
    #[error("the log's signing key is unreadable")]
    KeyUnreadable,
    #[error("the database holds no signing key for the audit log {0}, whose key is pinned outside it: the key was deleted, or this is not the log's database; nothing is signed")]
    KeyMissing(String),
    #[error("the key of the audit log {0} in the database is not the key pinned outside it: it was replaced; nothing is signed")]
    KeyChanged(String),
    #[error("no key of the audit log is pinned (the service said why when it started): nothing is signed")]
    NotPinned,
    #[error(transparent)]
    Pin(#[from] PinError),
    #[error("the log holds {size} events, fewer than the {signed} of {what}: events were deleted; nothing is signed")]
    Shrunk {
        size: u64,
        signed: u64,
        what: String,
    },
    #[error("the first {signed} events no longer give the root of {what}: events were changed, removed or reordered; nothing is signed")]
    Rewritten { signed: u64, what: String },
    #[error("{what} is not signed by the log's key ({why}); nothing is signed")]
    Unsigned { what: String, why: NoteError },
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
        let txn = crate::platform::db::begin_writing(db).await?;
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
        let taken = audit_node::Entity::find_by_id((0, next as i64))
            .one(&txn)
            .await?;
        if !waiting.is_empty() && taken.is_some() {
            return Err(DbErr::Custom(format!(
                "the log's tree already holds a leaf at place {next}, past its last event: \
                 events were deleted from its end; no new event is placed until that is \
                 looked into"
            )));
        }
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

pub async fn latest_checkpoint(
    db: &impl ConnectionTrait,
) -> Result<Option<audit_checkpoint::Model>, DbErr> {
    audit_checkpoint::Entity::find()
        .order_by_desc(audit_checkpoint::Column::Size)
        .one(db)
        .await
}
