//! The four languages of every page, message and email: Fluent files under
//! `templates/locales/<lang>/` (a translator edits those alone), compiled into the binary.
//! Pages call `t(key=…, lang=lang, …)`; Rust code calls [`Lang::t`] or [`Lang::t_with`].
//! Times are shown in the service's time zone (`TRANSFER_DESK_TIME_ZONE`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{FluentLoader, LanguageIdentifier, Loader};
use serde::Serialize;

fluent_templates::static_loader! {
    pub static LOCALES = {
        locales: "./templates/locales",
        fallback_language: "en",
        // Fluent wraps arguments in invisible bidi isolation marks by default; every
        // language here is left-to-right, and the marks would end up in emails and copies.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language the pages are written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "fr")]
    Fr,
    #[serde(rename = "de")]
    De,
    #[serde(rename = "it")]
    It,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Fr, Lang::De, Lang::It];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::It => "it",
        }
    }

    /// The language's own name, for the switch on every page.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
            Lang::De => "Deutsch",
            Lang::It => "Italiano",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|lang| lang.code().eq_ignore_ascii_case(code.trim()))
    }

    /// The best language for an `Accept-Language` header, by its quality values; English
    /// when none of ours is asked for.
    pub fn negotiate(accept_language: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for item in accept_language.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split(['-', '_']).next().unwrap_or_default();
            if let Some(lang) = Lang::from_code(primary) {
                if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                    best = Some((quality, lang));
                }
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    fn id(self) -> LanguageIdentifier {
        self.code()
            .parse()
            .expect("our language codes are valid identifiers")
    }

    /// The message `key` in this language.
    pub fn t(self, key: &str) -> String {
        LOCALES.lookup(&self.id(), key)
    }

    /// The message `key` with its arguments (numbers select plural forms).
    pub fn t_with(self, key: &str, args: &[(&str, Arg)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Arg::Text(text) => FluentValue::from(text.clone()),
                    Arg::Number(n) => FluentValue::from(*n),
                };
                (Cow::Owned((*name).to_owned()), value)
            })
            .collect();
        LOCALES.lookup_with_args(&self.id(), key, &args)
    }
}

/// A message to be said in the reader's language, once it is known: its key and arguments.
#[derive(Clone, Debug)]
pub struct Text {
    pub key: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

impl Text {
    pub fn new(key: &'static str) -> Self {
        Text {
            key,
            args: Vec::new(),
        }
    }

    pub fn with(mut self, name: &'static str, value: impl Into<Arg>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    pub fn in_lang(&self, lang: Lang) -> String {
        lang.t_with(self.key, &self.args)
    }
}

/// An argument of a message.
#[derive(Clone, Debug)]
pub enum Arg {
    Text(String),
    Number(i64),
}

impl From<&str> for Arg {
    fn from(text: &str) -> Self {
        Arg::Text(text.to_owned())
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Self {
        Arg::Text(text)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Number(n)
    }
}

impl From<usize> for Arg {
    fn from(n: usize) -> Self {
        Arg::Number(n as i64)
    }
}

static TIME_ZONE: OnceLock<chrono_tz::Tz> = OnceLock::new();

/// Sets the time zone pages and emails show times in; the first call wins (one service,
/// one zone).
pub fn set_time_zone(zone: chrono_tz::Tz) {
    let _ = TIME_ZONE.set(zone);
}

pub fn time_zone() -> chrono_tz::Tz {
    *TIME_ZONE.get().unwrap_or(&chrono_tz::Europe::Zurich)
}

/// A moment as readers of `lang` write it, in the service's time zone:
/// "26.11.2026 19:37 CET" (French, German, Italian as written in Switzerland),
/// "2026-11-26 19:37 CET" (English).
pub fn local_time(at: DateTime<Utc>, lang: Lang) -> String {
    local_format(at, lang, "%H:%M %Z")
}

/// A day as readers of `lang` write it.
pub fn local_date(at: DateTime<Utc>, lang: Lang) -> String {
    local_format(at, lang, "")
}

/// The local day in `lang`'s order, then `clock` (a chrono pattern, possibly empty).
fn local_format(at: DateTime<Utc>, lang: Lang, clock: &str) -> String {
    let day = match lang {
        Lang::En => "%Y-%m-%d",
        Lang::Fr | Lang::De | Lang::It => "%d.%m.%Y",
    };
    let pattern = format!("{day} {clock}");
    let local = at.with_timezone(&time_zone());
    local.format(pattern.trim_end()).to_string()
}

/// The Tera function `t(key, lang, …args)` and the filters `time(lang)` and `day(lang)`.
pub fn register(tera: &mut rocket_dyn_templates::tera::Tera) {
    use rocket_dyn_templates::tera::{self, Value};
    tera.register_function(
        "t",
        FluentLoader::new(&*LOCALES).with_default_lang(Lang::En.id()),
    );
    fn moment(
        value: &Value,
        args: &HashMap<String, Value>,
        format: fn(DateTime<Utc>, Lang) -> String,
    ) -> tera::Result<Value> {
        let at = value
            .as_str()
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .ok_or_else(|| tera::Error::msg(format!("not a moment: {value}")))?;
        let lang = args
            .get("lang")
            .and_then(Value::as_str)
            .and_then(Lang::from_code)
            .unwrap_or(Lang::En);
        Ok(Value::String(format(at.with_timezone(&Utc), lang)))
    }
    tera.register_filter("time", |value: &Value, args: &HashMap<String, Value>| {
        moment(value, args, local_time)
    });
    tera.register_filter("day", |value: &Value, args: &HashMap<String, Value>| {
        moment(value, args, local_date)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    const ROOT: &str = env!("CARGO_MANIFEST_DIR");

    /// Each message of a language's files with the variables it uses.
    fn messages(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
        let dir = Path::new(ROOT).join("templates/locales").join(lang.code());
        let variable = regex::Regex::new(r"\{\s*\$([a-z0-9_-]+)").unwrap();
        let mut found = BTreeMap::new();
        let mut current: Option<String> = None;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for line in text.lines() {
                if let Some((id, _)) = line
                    .split_once(" =")
                    .filter(|_| line.starts_with(|c: char| c.is_ascii_lowercase()))
                {
                    current = Some(id.trim().to_owned());
                    assert!(
                        found
                            .insert(id.trim().to_owned(), BTreeSet::new())
                            .is_none(),
                        "{} defines {id} twice",
                        lang.code()
                    );
                }
                if let Some(id) = &current {
                    let vars = found.get_mut(id).unwrap();
                    vars.extend(variable.captures_iter(line).map(|c| c[1].to_owned()));
                }
            }
        }
        found
    }

    /// Every file under `dir` (recursively) whose name ends with `suffix`.
    fn files(dir: &Path, suffix: &str) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(files(&path, suffix));
            } else if path.to_string_lossy().ends_with(suffix) {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn every_language_has_every_message_with_the_same_variables() {
        let english = messages(Lang::En);
        assert!(english.len() > 300, "{}", english.len());
        for lang in [Lang::Fr, Lang::De, Lang::It] {
            let other = messages(lang);
            let missing: Vec<_> = english.keys().filter(|k| !other.contains_key(*k)).collect();
            let extra: Vec<_> = other.keys().filter(|k| !english.contains_key(*k)).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code());
            assert!(extra.is_empty(), "{} has unknown {extra:?}", lang.code());
            for (id, vars) in &english {
                assert_eq!(
                    &other[id],
                    vars,
                    "{} {id} uses other variables",
                    lang.code()
                );
            }
        }
    }

    /// The keys pages and code use: literal keys in templates (`t(key="…")`) and string
    /// literals in the Rust sources that have a message prefix; keys built from a prefix
    /// and a value (`"document-" ~ kind`) are checked for every value the value can take.
    #[test]
    fn every_key_the_pages_and_code_use_exists() {
        let english = messages(Lang::En);
        let mut used = BTreeSet::new();
        let in_template = regex::Regex::new(r#"t\(key="([a-z0-9_-]+)""#).unwrap();
        for path in files(&Path::new(ROOT).join("templates"), ".tera") {
            let text = std::fs::read_to_string(&path).unwrap();
            used.extend(in_template.captures_iter(&text).map(|c| c[1].to_owned()));
        }
        let in_code = regex::Regex::new(
            r#""((?:problem|error|review|account|login|password|reviewers|notices|reason|request|queue|track|form|holder|mail|state|event)-[a-z0-9_-]+)""#,
        )
        .unwrap();
        for path in files(&Path::new(ROOT).join("src"), ".rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            used.extend(in_code.captures_iter(&text).map(|c| c[1].to_owned()));
        }
        use entities::enums::{DocumentKind, RequestState, RequesterRelation};
        use sea_orm::{ActiveEnum, Iterable};
        for kind in DocumentKind::iter() {
            used.insert(format!("document-{}", kind.to_value()));
        }
        for state in RequestState::iter() {
            used.insert(format!("review-state-{}", state.to_value()));
        }
        for relation in RequesterRelation::iter() {
            used.insert(format!("relation-{}", relation.to_value()));
        }
        for event in crate::workflow::Event::ALL {
            used.insert(format!("event-{}", event.as_str()));
            used.insert(format!("staff-event-{}", event.as_str()));
        }
        for severity in crate::workflow::notices::SEVERITIES {
            used.insert(format!("severity-{severity}"));
        }
        for language in crate::workflow::notices::LANGUAGES {
            used.insert(format!("notices-in-{language}"));
        }
        used.extend(crate::workflow::REJECTION_REASONS.map(str::to_owned));
        // A key that ends in "-" is a prefix a template completes with a value: each of
        // those values was added above.
        let (prefixes, keys): (Vec<_>, Vec<_>) = used.iter().partition(|k| k.ends_with('-'));
        for prefix in prefixes {
            let completed = keys
                .iter()
                .filter(|k| k.starts_with(prefix.as_str()))
                .count();
            assert!(completed > 0, "no values checked for the prefix {prefix}");
        }
        let unknown: Vec<_> = keys.iter().filter(|k| !english.contains_key(**k)).collect();
        assert!(unknown.is_empty(), "unknown keys: {unknown:?}");
    }

    #[test]
    fn the_loader_speaks_each_language_with_plural_forms() {
        assert_eq!(Lang::De.t("form-send"), "Antrag senden");
        assert_eq!(Lang::Fr.t("form-send"), "Envoyer ma demande");
        assert_eq!(Lang::It.t("form-send"), "Inviare la richiesta");
        let one = Lang::En.t_with("form-error-summary", &[("count", Arg::Number(1))]);
        let two = Lang::En.t_with("form-error-summary", &[("count", Arg::Number(2))]);
        assert_eq!(one, "Please correct 1 thing");
        assert_eq!(two, "Please correct 2 things");
        assert_eq!(
            Lang::Fr.t_with("form-error-summary", &[("count", Arg::Number(3))]),
            "Veuillez corriger 3 points"
        );
    }

    #[test]
    fn accept_language_picks_our_best_language_by_quality() {
        assert_eq!(Lang::negotiate("de-CH,de;q=0.9,en;q=0.8"), Lang::De);
        assert_eq!(Lang::negotiate("en-GB;q=0.5, fr-CH"), Lang::Fr);
        assert_eq!(Lang::negotiate("es, it;q=0.3"), Lang::It);
        assert_eq!(Lang::negotiate("es, pt"), Lang::En);
        assert_eq!(Lang::negotiate(""), Lang::En);
        assert_eq!(Lang::negotiate("fr;q=0, de;q=0.1"), Lang::De);
    }

    #[test]
    fn times_are_local_to_zurich_and_written_as_each_language_writes_them() {
        let winter = DateTime::parse_from_rfc3339("2026-11-26T18:37:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(local_time(winter, Lang::De), "26.11.2026 19:37 CET");
        assert_eq!(local_time(winter, Lang::En), "2026-11-26 19:37 CET");
        let summer = DateTime::parse_from_rfc3339("2026-07-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(local_time(summer, Lang::Fr), "01.07.2026 12:00 CEST");
    }
}
