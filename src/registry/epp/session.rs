//! One EPP session (RFC 5730 §2): connect over TLS, read the greeting, log in with the domain
//! object URI, send the commands, log out. Every command carries a clTRID derived from the
//! request and the attempt, recorded in the audit trail before it is sent.
//!
//! instant-epp writes whole requests to the log at debug level, the login's password and a
//! transfer code among them: its futures run with logging switched off.

use std::borrow::Cow;
use std::future::Future;

use instant_epp::client::RustlsConnector;
use instant_epp::common::NoExtension;
use instant_epp::login::{Login, Services};
use instant_epp::logout::Logout;
use instant_epp::request::{Command, Extension, Transaction};
use instant_epp::response::Response;
use instant_epp::EppClient;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};
use tracing::instrument::WithSubscriber;
use uuid::Uuid;

use super::outcome::EppError;
use crate::evidence::audit::{self, Action, Actor};
use crate::platform::config::epp::EppSettings;

/// Runs one of instant-epp's futures with logging off (see the module documentation).
async fn quietly<T>(future: impl Future<Output = T>) -> T {
    future.with_subscriber(tracing::Dispatch::none()).await
}

/// Where the clTRIDs of a session come from and are recorded.
pub struct TrIds<'a> {
    prefix: String,
    next: u32,
    journal: Option<(&'a DatabaseConnection, Uuid)>,
}

impl<'a> TrIds<'a> {
    /// For a hand-off of `request`: `td-<request>-<attempt>-<n>`, where the attempt counts
    /// the sessions already recorded for the request, so that a clTRID is never reused.
    pub async fn for_request(db: &'a DatabaseConnection, request: Uuid) -> Result<Self, EppError> {
        let earlier = entities::audit_event::Entity::find()
            .filter(entities::audit_event::Column::RequestId.eq(request))
            .filter(entities::audit_event::Column::Action.eq(Action::RegistryCommand.as_str()))
            .filter(entities::audit_event::Column::Detail.starts_with("login "))
            .count(db)
            .await?;
        Ok(Self {
            prefix: format!("td-{}-{}", request.simple(), earlier + 1),
            next: 1,
            journal: Some((db, request)),
        })
    }

    /// For the operator's check: recorded nowhere but on the screen.
    pub fn for_check() -> Self {
        let tag = Uuid::new_v4().simple().to_string();
        Self {
            prefix: format!("td-check-{}", &tag[..12]),
            next: 1,
            journal: None,
        }
    }

    async fn next(
        &mut self,
        db: Option<&impl ConnectionTrait>,
        command: &str,
    ) -> Result<String, EppError> {
        let id = format!("{}-{}", self.prefix, self.next);
        self.next += 1;
        if let (Some(db), Some((_, request))) = (db, self.journal) {
            let detail = format!("{command} {id}");
            audit::record(
                db,
                Actor::System,
                Action::RegistryCommand,
                Some(request),
                Some(&detail),
            )
            .await?;
        }
        Ok(id)
    }
}

/// A logged-in session.
pub struct Session<'a> {
    client: EppClient<RustlsConnector>,
    ids: TrIds<'a>,
    settings: &'a EppSettings,
    /// The clTRIDs sent, in order (the operator's check prints them).
    pub sent: Vec<(&'static str, String)>,
}

impl<'a> Session<'a> {
    /// Connects (the registry's certificate is verified before anything is sent), reads the
    /// greeting and logs in.
    pub async fn open(settings: &'a EppSettings, ids: TrIds<'a>) -> Result<Self, EppError> {
        let connector = RustlsConnector::builder((settings.host.clone(), settings.port))
            .map_err(|e| EppError::Unreachable(e.to_string()))?
            .build_with_config(settings.tls.clone());
        let connecting = EppClient::new(connector, settings.host.clone(), settings.connect_timeout);
        let client = match tokio::time::timeout(settings.connect_timeout, quietly(connecting)).await
        {
            Ok(Ok(client)) => client,
            Ok(Err(error)) => return Err(EppError::from_connect(error)),
            Err(_) => return Err(EppError::Unreachable("no greeting in time".to_owned())),
        };
        let mut session = Self {
            client,
            ids,
            settings,
            sent: Vec::new(),
        };
        let mut login = Login::new(&settings.client_id, settings.password.expose(), None, None);
        login.services(Services {
            obj_uris: vec![Cow::Borrowed(instant_epp::domain::XMLNS)],
            svc_ext: None,
        });
        session.send("login", &login).await?;
        Ok(session)
    }

    /// Sends `command`, after recording its clTRID, and waits for its answer.
    pub async fn send<Cmd>(
        &mut self,
        name: &'static str,
        command: &Cmd,
    ) -> Result<Response<Cmd::Response, <NoExtension as Extension>::Response>, EppError>
    where
        Cmd: Transaction<NoExtension> + Command,
    {
        let db = self.ids.journal.map(|(db, _)| db);
        let id = self.ids.next(db, name).await?;
        self.sent.push((name, id.clone()));
        let answer = tokio::time::timeout(
            self.settings.command_timeout,
            quietly(self.client.transact(command, &id)),
        )
        .await;
        match answer {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => Err(EppError::from_client(name, error)),
            Err(_) => Err(EppError::ConnectionLost {
                command: name,
                why: "no answer in time".to_owned(),
            }),
        }
    }

    /// Logs out and closes the connection. What was done is done: a failure here is only
    /// logged.
    pub async fn close(mut self) {
        if let Err(error) = self.send("logout", &Logout).await {
            tracing::info!(%error, "the EPP logout failed; the session ends anyway");
        }
        let _ = tokio::time::timeout(
            self.settings.command_timeout,
            quietly(self.client.shutdown()),
        )
        .await;
    }
}
