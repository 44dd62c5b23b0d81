//! `audit verify`: the log recomputed from the stored events and checked against its
//! checkpoints.

use entities::audit_checkpoint;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder};

use super::{canonical, leaf_hash, open_note, root, sequenced};

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
