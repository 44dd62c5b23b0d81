//! The log's signing key: made once, on the service's first start, kept in the database
//! sealed under the master key, and its public half pinned outside the database (see
//! `pins`). Nothing else makes a key: a key missing from the database later, or another one
//! in its place, stops the signing, loudly, and never leads to a new key.

use std::path::Path;

use chrono::Utc;
use entities::{audit_checkpoint, audit_event, audit_node, log_key};
use ring::signature::{Ed25519KeyPair, KeyPair};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use super::note::LogKey;
use super::{pins, LogError};
use crate::platform::config::log_key::PublicLogKey;
use crate::platform::keyring::{KeyRing, LOG_KEY_CONTEXT};

/// The log's signing key, as the database holds it, once it is the pinned one.
pub async fn signing_key(
    db: &impl ConnectionTrait,
    keys: &KeyRing,
    pinned: &PublicLogKey,
) -> Result<LogKey, LogError> {
    let stored = log_key::Entity::find_by_id(pinned.name.clone())
        .one(db)
        .await?
        .ok_or_else(|| LogError::KeyMissing(pinned.name.clone()))?;
    if stored.public_key != pinned.key {
        return Err(LogError::KeyChanged(pinned.name.clone()));
    }
    let pkcs8 = keys.open_secret(LOG_KEY_CONTEXT, &stored.sealed_private)?;
    let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| LogError::KeyUnreadable)?;
    if pair.public_key().as_ref() != pinned.key {
        return Err(LogError::KeyChanged(pinned.name.clone()));
    }
    Ok(LogKey {
        name: pinned.name.clone(),
        pair,
    })
}

/// How the start found the log's key.
#[derive(Debug)]
pub enum Established {
    /// The first start: the key was made now, and pinned.
    Made(PublicLogKey),
    /// The key the database holds, pinned now: this data directory had none (the first
    /// start of this version, or of a new instance).
    PinnedFromDatabase(PublicLogKey),
    /// The key pinned before (in the data directory or the environment).
    Pinned(PublicLogKey),
    /// No key can be pinned: the database holds a log but not its key (deleted?). Nothing
    /// is signed.
    Refused(String),
}

/// At start: the pinned key (`given` from the environment, or the data directory's), or on
/// the first start a new key, made and pinned. A data directory without a pin beside a
/// database that has a key pins that key; beside a database that has a log but no key, it
/// pins nothing.
pub async fn establish(
    db: &impl ConnectionTrait,
    keys: &KeyRing,
    dir: &Path,
    given: Option<PublicLogKey>,
    origin: &str,
) -> Result<Established, LogError> {
    if let Some(pinned) = given.or(pins::pinned_key(dir)?) {
        return Ok(Established::Pinned(pinned));
    }
    let stored = log_key::Entity::find_by_id(origin.to_owned())
        .one(db)
        .await?;
    let stored = match stored {
        Some(stored) => Some(stored),
        // The public URL changed since the key was made: the log keeps its first name.
        None => {
            log_key::Entity::find()
                .order_by_desc(log_key::Column::CreatedAt)
                .one(db)
                .await?
        }
    };
    let (found, made) = match stored {
        Some(stored) => (stored, false),
        None if log_exists(db).await? => {
            return Ok(Established::Refused(
                "the database holds an audit log but no key of it, and no key is pinned: the \
                 key was deleted, or this data directory belongs to another database"
                    .into(),
            ))
        }
        None => (make_key(db, keys, origin).await?, true),
    };
    let key = PublicLogKey {
        name: found.name,
        key: found
            .public_key
            .try_into()
            .map_err(|_| LogError::KeyUnreadable)?,
    };
    pins::pin_key(dir, &key)?;
    // Another start in the same data directory may have pinned first: its pin stands.
    let pinned = pins::pinned_key(dir)?.unwrap_or(key);
    Ok(if made {
        Established::Made(pinned)
    } else {
        Established::PinnedFromDatabase(pinned)
    })
}

/// Whether the database has any trace of a log: a checkpoint, or an event with a place.
async fn log_exists(db: &impl ConnectionTrait) -> Result<bool, sea_orm::DbErr> {
    let checkpoints = audit_checkpoint::Entity::find().count(db).await?;
    let nodes = audit_node::Entity::find().count(db).await?;
    let placed = audit_event::Entity::find()
        .filter(audit_event::Column::LeafIndex.is_not_null())
        .count(db)
        .await?;
    Ok(checkpoints + nodes + placed > 0)
}

/// Makes the log's key and stores it sealed; another instance's key made at the same moment
/// wins, and is returned instead.
async fn make_key(
    db: &impl ConnectionTrait,
    keys: &KeyRing,
    name: &str,
) -> Result<log_key::Model, LogError> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| LogError::KeyUnreadable)?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| LogError::KeyUnreadable)?;
    let row = log_key::ActiveModel {
        name: Set(name.to_owned()),
        public_key: Set(pair.public_key().as_ref().to_vec()),
        sealed_private: Set(keys.seal_secret(LOG_KEY_CONTEXT, pkcs8.as_ref())?),
        created_at: Set(Utc::now()),
    };
    match row.insert(db).await {
        Ok(made) => Ok(made),
        Err(error) => log_key::Entity::find_by_id(name.to_owned())
            .one(db)
            .await?
            .ok_or(LogError::Database(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::audit::{self, Action, Actor};
    use crate::evidence::log::{pins::KEY_FILE, sequence};
    use crate::workflow::testing;

    const NAME: &str = "localhost/transfer-desk/audit";

    /// Nothing but the first start makes a key: later starts keep the pin, a data directory
    /// without one pins the database's key, and a database with a log but no key gets none.
    #[tokio::test]
    async fn only_the_first_start_makes_a_key() {
        let (services, _dir) = testing::services().await;
        let (db, ring, dir) = (
            &services.db,
            &services.master_key,
            &services.settings.data_dir,
        );
        let first = services
            .log_key
            .clone()
            .expect("the first start made and pinned a key");
        assert_eq!(pins::pinned_key(dir).unwrap(), Some(first.clone()));

        let again = establish(db, ring, dir, None, NAME).await.unwrap();
        assert!(
            matches!(&again, Established::Pinned(key) if *key == first),
            "{again:?}"
        );

        std::fs::remove_file(dir.join(KEY_FILE)).unwrap();
        let repinned = establish(db, ring, dir, None, NAME).await.unwrap();
        assert!(
            matches!(&repinned, Established::PinnedFromDatabase(key) if *key == first),
            "{repinned:?}"
        );

        std::fs::remove_file(dir.join(KEY_FILE)).unwrap();
        log_key::Entity::delete_many().exec(db).await.unwrap();
        audit::record(db, Actor::System, Action::Logout, None, None)
            .await
            .unwrap();
        sequence(db).await.unwrap();
        let refused = establish(db, ring, dir, None, NAME).await.unwrap();
        assert!(matches!(refused, Established::Refused(_)), "{refused:?}");
        assert_eq!(log_key::Entity::find().count(db).await.unwrap(), 0);
        assert_eq!(pins::pinned_key(dir).unwrap(), None);
        assert!(matches!(
            signing_key(db, ring, &first).await,
            Err(LogError::KeyMissing(_))
        ));
    }
}
