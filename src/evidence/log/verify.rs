//! `audit verify`: the log recomputed from the stored events and checked against the key
//! pinned outside the database (or given), every checkpoint in the database, the last one
//! the service signed and one kept elsewhere; and no event may wait longer than the
//! checkpoint interval for a checkpoint.

use chrono::{DateTime, Utc};
use entities::{audit_checkpoint, log_key};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder};

use super::{canonical, leaf_hash, open_note, root, sequenced};
use crate::platform::config::log_key::PublicLogKey;

/// What the log is checked against.
pub struct Expected<'a> {
    /// The log's key: pinned, or given on the command line.
    pub key: &'a PublicLogKey,
    /// Where the key comes from, as findings name it ("pinned in data/log-key.pub").
    pub key_from: &'a str,
    /// Checkpoints kept outside the database, each with what it is ("the last checkpoint
    /// the service signed (kept in …)"): signed notes.
    pub kept: Vec<(String, String)>,
    /// Events recorded before this must be in a checkpoint.
    pub covered_before: DateTime<Utc>,
}

/// What `verify` found: the log's size, the checkpoints checked, and every problem.
#[derive(Debug)]
pub struct Report {
    pub events: u64,
    pub checkpoints: u64,
    pub problems: Vec<Problem>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// The database has no key of the log's name.
    KeyMissing { name: String, key_from: String },
    /// The database's key of the log's name is another one.
    KeyChanged { name: String, key_from: String },
    /// The first event that does not fit: its place in the log, and why.
    EventDoesNotFit {
        index: u64,
        id: Option<i64>,
        why: &'static str,
    },
    /// A checkpoint whose root the events no longer give, or whose signature is not the
    /// log's.
    CheckpointDoesNotFit { what: String, why: String },
    /// A checkpoint of more events than the log holds.
    Smaller {
        what: String,
        size: u64,
        signed: u64,
    },
    /// Events older than the checkpoint interval that no checkpoint covers.
    Uncovered {
        count: u64,
        first_index: u64,
        first_at: DateTime<Utc>,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::KeyMissing { name, key_from } => write!(
                f,
                "the database holds no signing key for the log {name}, whose key is {key_from}: \
                 the key was deleted, or this is not the log's database"
            ),
            Problem::KeyChanged { name, key_from } => write!(
                f,
                "the key of the log {name} in the database is not the key {key_from}: it was \
                 replaced, and what it signs proves nothing"
            ),
            Problem::EventDoesNotFit { index, id, why } => {
                let id = id.map_or_else(String::new, |id| format!(" (audit event id {id})"));
                write!(f, "event {index} of the log{id} does not fit: {why}")
            }
            Problem::CheckpointDoesNotFit { what, why } => {
                write!(f, "{what} does not fit: {why}")
            }
            Problem::Smaller { what, size, signed } => write!(
                f,
                "the log is smaller than {what}: it holds {size} events, the checkpoint \
                 {signed}; events were deleted"
            ),
            Problem::Uncovered {
                count,
                first_index,
                first_at,
            } => write!(
                f,
                "no checkpoint covers {count} event(s) recorded longer ago than the checkpoint \
                 interval (the first: event {first_index}, at {}): the service stopped \
                 signing checkpoints, or they were removed",
                first_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        }
    }
}

/// Recomputes the log from the stored events and checks it against `expected`.
pub async fn verify(db: &impl ConnectionTrait, expected: &Expected<'_>) -> Result<Report, DbErr> {
    let mut problems = Vec::new();
    let (name, key_from) = (&expected.key.name, expected.key_from.to_owned());
    match log_key::Entity::find_by_id(name.clone()).one(db).await? {
        None => problems.push(Problem::KeyMissing {
            name: name.clone(),
            key_from,
        }),
        Some(stored) if stored.public_key != expected.key.key => {
            problems.push(Problem::KeyChanged {
                name: name.clone(),
                key_from,
            })
        }
        Some(_) => {}
    }
    let events = sequenced(db).await?;
    let mut leaves = Vec::with_capacity(events.len());
    for (position, event) in events.iter().enumerate() {
        let index = event.leaf_index.unwrap_or_default() as u64;
        if index != position as u64 {
            problems.push(Problem::EventDoesNotFit {
                index: position as u64,
                id: None,
                why: "missing from the log (deleted, or its place changed)",
            });
            break;
        }
        let leaf = leaf_hash(&canonical(event, index));
        if event.leaf_hash.as_deref() != Some(leaf.as_slice()) {
            problems.push(Problem::EventDoesNotFit {
                index,
                id: Some(event.id),
                why: "changed since it entered the log",
            });
            break;
        }
        leaves.push(leaf);
    }
    let stored: Vec<(String, String)> = audit_checkpoint::Entity::find()
        .order_by_asc(audit_checkpoint::Column::Size)
        .all(db)
        .await?
        .into_iter()
        .map(|c| {
            let what = format!("the checkpoint of {} event(s) in the database", c.size);
            (what, c.note)
        })
        .collect();
    let checkpoints = stored.len() as u64;
    let mut covered = 0;
    for (what, note) in stored.into_iter().chain(expected.kept.iter().cloned()) {
        let checkpoint = match open_note(&note, name, &expected.key.key) {
            Ok(checkpoint) => checkpoint,
            Err(error) => {
                let why = error.to_string();
                problems.push(Problem::CheckpointDoesNotFit { what, why });
                continue;
            }
        };
        let size = checkpoint.size;
        if size > events.len() as u64 {
            let held = events.len() as u64;
            problems.push(Problem::Smaller {
                what,
                size: held,
                signed: size,
            });
            continue;
        }
        covered = covered.max(size);
        // Past an event that does not fit, the roots are wrong already; it was said.
        if size as usize <= leaves.len() && root(&leaves[..size as usize]) != checkpoint.root {
            let why = format!(
                "the first {size} events no longer give its root: one of them was changed, \
                 removed or moved"
            );
            problems.push(Problem::CheckpointDoesNotFit { what, why });
        }
    }
    let mut overdue = events
        .iter()
        .skip(covered as usize)
        .filter(|event| event.at < expected.covered_before);
    if let Some(oldest) = overdue.next() {
        problems.push(Problem::Uncovered {
            count: 1 + overdue.count() as u64,
            first_index: oldest.leaf_index.unwrap_or_default() as u64,
            first_at: oldest.at,
        });
    }
    Ok(Report {
        events: events.len() as u64,
        checkpoints,
        problems,
    })
}
