//! Signing checkpoints: when one is due, and the checks that come first. A checkpoint is
//! signed only with the pinned key, and only over a log that extends every checkpoint signed
//! before (the last one this service signed, kept outside the database, and the latest in
//! the database): a log rewritten, rehashed or cut short is refused, never signed again.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use entities::audit_checkpoint;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set};

use super::note::{open_note, Checkpoint};
use super::tree::{consistency_ranges, verify_consistency};
use super::{hashes_of, latest_checkpoint, pins, sequence, signing_key, subtree_hash, LogError};
use crate::platform::config::log_key::PublicLogKey;
use crate::platform::keyring::KeyRing;

/// Sequences new events and, when the log has grown and the last checkpoint is older than
/// `every`, signs a new one with the `pinned` key and keeps it in `dir` as the last signed.
/// Returns the new checkpoint's size.
pub async fn checkpoint_if_due(
    db: &DatabaseConnection,
    keys: &KeyRing,
    pinned: &PublicLogKey,
    dir: &Path,
    every: Duration,
    now: DateTime<Utc>,
) -> Result<Option<u64>, LogError> {
    let size = sequence(db).await?;
    let key = signing_key(db, keys, pinned).await?;
    let latest = latest_checkpoint(db).await?;
    let mut signed_before = 0;
    let kept = pins::last_signed(dir)?.map(|note| {
        let what = format!(
            "the last checkpoint the service signed (kept in {})",
            dir.join(pins::CHECKPOINT_FILE).display()
        );
        (what, note)
    });
    let stored = latest.as_ref().map(|c| {
        (
            "the latest checkpoint in the database".to_owned(),
            c.note.clone(),
        )
    });
    for (what, note) in kept.into_iter().chain(stored) {
        let signed =
            open_note(&note, &pinned.name, &pinned.key).map_err(|why| LogError::Unsigned {
                what: what.clone(),
                why,
            })?;
        extends(db, &signed, size, what).await?;
        signed_before = signed_before.max(signed.size);
    }
    let due = latest.as_ref().is_none_or(|l| now - l.created_at >= every);
    if size <= signed_before || !due {
        return Ok(None);
    }
    let checkpoint = Checkpoint {
        origin: pinned.name.clone(),
        size,
        root: subtree_hash(db, 0, size).await?,
    };
    let note = checkpoint.sign(&key);
    // Kept before it is published: whatever happens to the database, the next checkpoint
    // must extend this one.
    pins::record_signed(dir, &note)?;
    let row = audit_checkpoint::ActiveModel {
        size: Set(checkpoint.size as i64),
        root: Set(checkpoint.root.to_vec()),
        note: Set(note),
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

/// Whether the stored log of `size` events extends `signed`: by its root when of the same
/// size, else by an RFC 6962 consistency proof from the stored subtrees.
async fn extends(
    db: &impl ConnectionTrait,
    signed: &Checkpoint,
    size: u64,
    what: String,
) -> Result<(), LogError> {
    if size < signed.size {
        return Err(LogError::Shrunk {
            size,
            signed: signed.size,
            what,
        });
    }
    if signed.size == 0 {
        return Ok(());
    }
    let root = subtree_hash(db, 0, size).await?;
    let proof = hashes_of(db, consistency_ranges(signed.size as usize, size as usize)).await?;
    if verify_consistency(signed.size, size, &signed.root, &root, &proof) {
        Ok(())
    } else {
        Err(LogError::Rewritten {
            signed: signed.size,
            what,
        })
    }
}
