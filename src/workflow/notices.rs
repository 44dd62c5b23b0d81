//! The host's incident notices: admins post them; the public pages show the live ones. They
//! are served from memory (refreshed on every change and every minute, so several instances
//! agree within a minute), so the form stays fast while the database is busy.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use entities::incident_notice;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::evidence::audit::{self, Action, Actor};

pub const SEVERITIES: [&str; 3] = ["info", "warning", "outage"];
pub const LANGUAGES: [&str; 4] = ["en", "fr", "de", "it"];
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_TEXT_CHARS: usize = 4000;
pub const MAX_HOURS: i64 = 24 * 30;

/// A title and text in one language.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Words {
    pub title: String,
    pub text: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Notice {
    pub id: Uuid,
    pub severity: String,
    /// By language code; English is always there.
    pub texts: BTreeMap<String, Words>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Notice {
    /// The words in `language`, else in English.
    pub fn words(&self, language: &str) -> Option<&Words> {
        self.texts.get(language).or_else(|| self.texts.get("en"))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoticeError {
    #[error("an English title and text are required")]
    EnglishMissing,
    #[error("a title or text is too long")]
    TooLong,
    #[error("unknown severity")]
    Severity,
    #[error("a notice lasts 1 hour to 30 days")]
    Duration,
    #[error("at most {MAX_LIVE} notices are live at once")]
    TooMany,
}

/// Notices live at once: every one shows on every public page, so a few is already much;
/// more are refused (an admin ends one first).
pub const MAX_LIVE: u64 = 5;

/// What an admin posts.
pub struct NewNotice {
    pub severity: String,
    pub texts: BTreeMap<String, Words>,
    pub hours: i64,
}

fn validate(notice: &NewNotice) -> Result<BTreeMap<String, Words>, NoticeError> {
    if !SEVERITIES.contains(&notice.severity.as_str()) {
        return Err(NoticeError::Severity);
    }
    if !(1..=MAX_HOURS).contains(&notice.hours) {
        return Err(NoticeError::Duration);
    }
    let mut texts = BTreeMap::new();
    for (language, words) in &notice.texts {
        let words = Words {
            title: words.title.trim().to_owned(),
            text: words.text.trim().to_owned(),
        };
        if words.title.is_empty() && words.text.is_empty() {
            continue;
        }
        if words.title.chars().count() > MAX_TITLE_CHARS
            || words.text.chars().count() > MAX_TEXT_CHARS
        {
            return Err(NoticeError::TooLong);
        }
        if LANGUAGES.contains(&language.as_str()) {
            texts.insert(language.clone(), words);
        }
    }
    match texts.get("en") {
        Some(en) if !en.title.is_empty() && !en.text.is_empty() => Ok(texts),
        _ => Err(NoticeError::EnglishMissing),
    }
}

/// The live notices, in memory.
#[derive(Clone, Default)]
pub struct NoticeBoard {
    live: Arc<RwLock<Vec<Notice>>>,
}

impl NoticeBoard {
    /// The notices live at `now`, most severe first.
    pub fn live(&self, now: DateTime<Utc>) -> Vec<Notice> {
        let notices = self.live.read().map(|n| n.clone()).unwrap_or_default();
        notices
            .into_iter()
            .filter(|n| n.starts_at <= now && now < n.ends_at)
            .collect()
    }

    /// Reloads the notices not yet ended from the database.
    pub async fn refresh(
        &self,
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        // Every live one: posting is capped (MAX_LIVE), and a notice that is not loaded could
        // neither be shown nor ended.
        let rows = incident_notice::Entity::find()
            .filter(incident_notice::Column::EndsAt.gt(now))
            .order_by_desc(incident_notice::Column::UpdatedAt)
            .all(db)
            .await?;
        let mut notices: Vec<Notice> = rows.into_iter().filter_map(from_row).collect();
        notices.sort_by_key(|n| std::cmp::Reverse(severity_rank(&n.severity)));
        if let Ok(mut live) = self.live.write() {
            *live = notices;
        }
        Ok(())
    }

    pub async fn post(
        &self,
        db: &impl ConnectionTrait,
        notice: &NewNotice,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<Uuid, NoticeError>, DbErr> {
        let texts = match validate(notice) {
            Ok(texts) => texts,
            Err(error) => return Ok(Err(error)),
        };
        let live = incident_notice::Entity::find()
            .filter(incident_notice::Column::EndsAt.gt(now))
            .count(db)
            .await?;
        if live >= MAX_LIVE {
            return Ok(Err(NoticeError::TooMany));
        }
        let id = Uuid::new_v4();
        incident_notice::ActiveModel {
            id: Set(id),
            severity: Set(notice.severity.clone()),
            texts: Set(serde_json::to_string(&texts).unwrap_or_default()),
            starts_at: Set(now),
            ends_at: Set(now + Duration::hours(notice.hours)),
            updated_at: Set(now),
            created_by: Set(actor.to_owned()),
        }
        .insert(db)
        .await?;
        audit::record(
            db,
            Actor::Reviewer(actor),
            Action::NoticePosted,
            None,
            Some(&notice.severity),
        )
        .await?;
        self.refresh(db, now).await?;
        Ok(Ok(id))
    }

    /// Ends a notice now.
    pub async fn end(
        &self,
        db: &impl ConnectionTrait,
        id: Uuid,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbErr> {
        let ended = incident_notice::Entity::update_many()
            .col_expr(incident_notice::Column::EndsAt, Expr::value(now))
            .col_expr(incident_notice::Column::UpdatedAt, Expr::value(now))
            .filter(incident_notice::Column::Id.eq(id))
            .filter(incident_notice::Column::EndsAt.gt(now))
            .exec(db)
            .await?;
        if ended.rows_affected == 1 {
            audit::record(db, Actor::Reviewer(actor), Action::NoticeEnded, None, None).await?;
        }
        self.refresh(db, now).await?;
        Ok(ended.rows_affected == 1)
    }
}

fn severity_rank(severity: &str) -> usize {
    SEVERITIES.iter().position(|s| *s == severity).unwrap_or(0)
}

fn from_row(row: incident_notice::Model) -> Option<Notice> {
    Some(Notice {
        texts: serde_json::from_str(&row.texts).ok()?,
        id: row.id,
        severity: row.severity,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        updated_at: row.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(en: Option<(&str, &str)>, severity: &str, hours: i64) -> NewNotice {
        let mut texts = BTreeMap::new();
        if let Some((title, text)) = en {
            texts.insert(
                "en".to_owned(),
                Words {
                    title: title.into(),
                    text: text.into(),
                },
            );
        }
        texts.insert(
            "xx".to_owned(),
            Words {
                title: "ignored".into(),
                text: "ignored".into(),
            },
        );
        NewNotice {
            severity: severity.into(),
            texts,
            hours,
        }
    }

    #[test]
    fn a_notice_needs_english_a_known_severity_and_a_sane_duration() {
        let good = validate(&notice(
            Some(("Mail is down", "We are restoring it.")),
            "outage",
            48,
        ));
        assert_eq!(good.unwrap().keys().collect::<Vec<_>>(), ["en"]);
        assert_eq!(
            validate(&notice(None, "info", 1)),
            Err(NoticeError::EnglishMissing)
        );
        assert_eq!(
            validate(&notice(Some(("t", "x")), "panic", 1)),
            Err(NoticeError::Severity)
        );
        assert_eq!(
            validate(&notice(Some(("t", "x")), "info", 0)),
            Err(NoticeError::Duration)
        );
        let long = "x".repeat(MAX_TITLE_CHARS + 1);
        assert_eq!(
            validate(&notice(Some((&long, "x")), "info", 1)),
            Err(NoticeError::TooLong)
        );
    }
}
