//! What every concern stands on: settings, keys and envelope encryption, the database and
//! the document store, counters and metric names, languages, the compiled-in assets, external
//! programs, backups and the systemd unit. Nothing here knows a request, a reviewer or a mail.

pub mod assets;
pub mod backup;
pub mod config;
pub mod counters;
pub mod crypto;
pub mod db;
pub mod external;
pub mod i18n;
pub mod keyring;
pub mod meters;
pub mod storage;
pub mod uid;
