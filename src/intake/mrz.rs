//! The machine-readable zone of passports and identity cards (ICAO Doc 9303): found in OCR
//! output, every check digit checked. A misread is corrected only where nothing but a digit
//! can stand (dates, check digits) and the check digits then agree, and such a check says it
//! holds once corrected. Document numbers and optional data hold letters and digits alike:
//! they are never changed, so a changed character there stays a failing check.
//!
//! Layouts: TD1 (cards, three lines of 30), TD2 (two of 36), TD3 (passports, two of 44).

mod check_places;

use std::ops::Range;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use check_places::{corrected, places};

/// The 7-3-1 check digit over `field`: digits count as themselves, `A`–`Z` as 10–35, and the
/// filler `<` (or anything else) as 0.
pub fn check_digit(field: &str) -> u32 {
    field
        .bytes()
        .zip([7, 3, 1].into_iter().cycle())
        .map(|(c, weight)| char_value(c) * weight)
        .sum::<u32>()
        % 10
}

fn char_value(c: u8) -> u32 {
    match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        b'A'..=b'Z' => u32::from(c - b'A') + 10,
        _ => 0,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    Td1,
    Td2,
    Td3,
}

impl Layout {
    const ALL: [Layout; 3] = [Layout::Td3, Layout::Td2, Layout::Td1];

    fn shape(self) -> (usize, usize) {
        match self {
            Layout::Td1 => (3, 30),
            Layout::Td2 => (2, 36),
            Layout::Td3 => (2, 44),
        }
    }
}

/// A field a check digit covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Checked {
    DocumentNumber,
    BirthDate,
    ExpiryDate,
    PersonalNumber,
    Composite,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub field: Checked,
    pub holds: bool,
    /// What the check covers and its digit as read, where that differs from what was
    /// checked: the check holds once corrected, not on what was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_as: Option<String>,
}

/// A zone as read: its fields, and whether each check digit holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub layout: Layout,
    /// `P` for a passport, `I`, `ID`, `A` or `C` for an identity card, as printed.
    pub document_code: String,
    pub issuing_state: String,
    pub document_number: String,
    pub surname: String,
    pub given_names: String,
    pub nationality: String,
    pub birth_date: Option<NaiveDate>,
    pub sex: String,
    pub expiry_date: Option<NaiveDate>,
    pub checks: Vec<Check>,
    /// The zone's lines as checked: as read, but for the corrections its checks name and
    /// the names' trailing fillers.
    pub lines: Vec<String>,
}

impl Zone {
    pub fn all_checks_hold(&self) -> bool {
        self.checks.iter().all(|c| c.holds)
    }

    pub fn is_passport(&self) -> bool {
        self.document_code.starts_with('P')
    }

    /// Identity cards and similar official documents carry `I`, `A` or `C` (Doc 9303 part 5).
    pub fn is_identity_card(&self) -> bool {
        self.document_code.starts_with(['I', 'A', 'C'])
    }

    pub fn expired_on(&self, today: NaiveDate) -> bool {
        self.expiry_date.is_some_and(|expiry| expiry < today)
    }

    /// Whether `typed` names the person of the zone: accents, case, order and extra spaces
    /// aside, every typed name is in the zone, and the zone's surname and at least one given
    /// name were typed (people leave out middle names). "Müller" matches both `MULLER` and
    /// the German transliteration `MUELLER`.
    pub fn names_agree_with(&self, typed: &str) -> bool {
        let words = |part: &str| -> Vec<String> {
            part.split(' ')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let surname = words(&self.surname);
        let given = words(&self.given_names);
        [given.clone()]
            .into_iter()
            .chain(with_a_misread_filler(&given))
            .any(|given| {
                [fold_plain(typed), fold_german(typed)]
                    .iter()
                    .any(|typed| names_agree(&surname, &given, &words(typed)))
            })
    }
}

/// Whether `typed` names the person whose names a credential disclosed (the e-ID's
/// `family_name` and `given_name`): the comparison of [`Zone::names_agree_with`], with the
/// disclosed names folded into the zone's alphabet as typed ones are.
pub fn disclosed_names_agree_with(family_name: &str, given_name: &str, typed: &str) -> bool {
    let words = |part: String| -> Vec<String> {
        part.split(' ')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let fold = [fold_plain, fold_german];
    fold.iter().any(|fold_disclosed| {
        let surname = words(fold_disclosed(family_name));
        let given = words(fold_disclosed(given_name));
        fold.iter()
            .any(|fold_typed| names_agree(&surname, &given, &words(fold_typed(typed))))
    })
}

/// Every typed name is in the zone, and the zone's surname and at least one given name were
/// typed.
fn names_agree(surname: &[String], given: &[String], typed: &[String]) -> bool {
    !typed.is_empty()
        && !surname.is_empty()
        && typed
            .iter()
            .all(|t| surname.contains(t) || given.contains(t))
        && surname.iter().all(|s| typed.contains(s))
        && (given.is_empty() || given.iter().any(|g| typed.contains(g)))
}

/// The given names read again with one filler misread as a letter: one name split at a
/// `K`, `X`, `C`, `S` or `E` into two of at least two letters (`ANNAKMARIA` for
/// `ANNA<MARIA`), or without such a first letter (`KMARIA` for `<MARIA` read as `<KMARIA`).
fn with_a_misread_filler(given: &[String]) -> Vec<Vec<String>> {
    let mut readings = Vec::new();
    for (n, name) in given.iter().enumerate() {
        for (at, c) in name.char_indices() {
            if !FILLER_MISREADS.contains(&c) {
                continue;
            }
            let pieces = if at == 0 && name.len() >= 3 {
                vec![name[1..].to_owned()]
            } else if at >= 2 && name.len() - at > 2 {
                vec![name[..at].to_owned(), name[at + 1..].to_owned()]
            } else {
                continue;
            };
            let mut reading = given.to_vec();
            reading.splice(n..=n, pieces);
            readings.push(reading);
        }
    }
    readings
}

/// A typed name in the zone's alphabet: `Jörg-Peter O'Brien` → `JORG PETER O BRIEN`.
fn fold_plain(name: &str) -> String {
    deunicode::deunicode(name)
        .to_uppercase()
        .chars()
        .map(|c| if c.is_ascii_uppercase() { c } else { ' ' })
        .collect()
}

/// As [`fold_plain`], with Doc 9303's German transliterations (Ä → AE, Ö → OE, Ü → UE).
fn fold_german(name: &str) -> String {
    let spelled: String = name
        .chars()
        .map(|c| match c {
            'ä' | 'Ä' => "AE".to_owned(),
            'ö' | 'Ö' => "OE".to_owned(),
            'ü' | 'Ü' => "UE".to_owned(),
            other => other.to_string(),
        })
        .collect();
    fold_plain(&spelled)
}

/// Finds the zone in `ocr_text` (lines as an OCR tool printed them), the one whose check
/// digits hold best. `today` sets the century of two-digit years.
pub fn find(ocr_text: &str, today: NaiveDate) -> Option<Zone> {
    find_in_readings(&[ocr_text], today)
}

/// Most combinations of lines tried in one search.
const MOST_COMBINATIONS: usize = 512;

/// Finds the zone in several readings of one document (OCR of differently prepared images
/// of it). Each line of a zone may read best in a different reading, so the lines that fit
/// each position of a layout are combined across readings; the combination whose check
/// digits hold best wins, the earliest reading first among equals.
pub fn find_in_readings(readings: &[&str], today: NaiveDate) -> Option<Zone> {
    let readings: Vec<Vec<String>> = readings.iter().map(|text| cleaned_lines(text)).collect();
    let mut best: Option<(usize, Zone)> = None;
    for layout in Layout::ALL {
        let (count, width) = layout.shape();
        let mut at: Vec<Vec<String>> = vec![Vec::new(); count];
        for lines in &readings {
            for window in lines.windows(count) {
                let fitted: Vec<Vec<String>> =
                    window.iter().map(|line| fit_line(line, width)).collect();
                if fitted.iter().any(Vec::is_empty) {
                    continue;
                }
                for (position, options) in fitted.into_iter().enumerate() {
                    for option in options {
                        if !at[position].contains(&option) {
                            at[position].push(option);
                        }
                    }
                }
            }
        }
        for candidate in combinations(&at) {
            let Some(zone) = read_zone(layout, &candidate, today) else {
                continue;
            };
            let holding = zone.checks.iter().filter(|c| c.holds).count();
            if best.as_ref().is_none_or(|(score, _)| holding > *score) {
                best = Some((holding, zone));
            }
        }
    }
    best.map(|(_, zone)| zone)
}

/// The lines of an OCR tool's output in the zone's alphabet, without spaces; lines too short
/// to be a zone's are left out.
fn cleaned_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            line.chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| c.to_ascii_uppercase())
                .filter(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '<')
                .collect::<String>()
        })
        .filter(|line| line.len() >= 20)
        .collect()
}

/// One line from each position, every way, in order, at most [`MOST_COMBINATIONS`].
fn combinations(at: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut combined: Vec<Vec<String>> = vec![Vec::new()];
    for options in at {
        combined = combined
            .into_iter()
            .flat_map(|prefix| {
                options.iter().map(move |option| {
                    let mut next = prefix.clone();
                    next.push(option.clone());
                    next
                })
            })
            .take(MOST_COMBINATIONS)
            .collect();
    }
    combined
}

/// A line brought to `width`: OCR often reads one filler more or less in a long run of
/// them, so a line a few characters off gets or loses fillers in each of its runs in turn.
fn fit_line(line: &str, width: usize) -> Vec<String> {
    const MOST_OFF: usize = 3;
    if line.len() == width {
        return vec![line.to_owned()];
    }
    let mut options = Vec::new();
    // A line that ends in fillers (the names) may have lost or gained many of them there.
    let tail = line.len()
        - line
            .trim_end_matches(|c: char| c == '<' || FILLER_MISREADS.contains(&c))
            .len();
    if tail >= 3 && line.len() - tail < width {
        let mut fitted: String = line.chars().take(width).collect();
        fitted.push_str(&"<".repeat(width - fitted.len()));
        options.push(fitted);
    }
    if line.len().abs_diff(width) > MOST_OFF {
        return options;
    }
    let mut runs = filler_runs(line);
    // OCR miscounts long runs of fillers rather than short ones.
    runs.sort_by_key(|&(_, len)| std::cmp::Reverse(len));
    for (start, len) in runs {
        if line.len() < width {
            let mut fitted = line.to_owned();
            fitted.insert_str(start, &"<".repeat(width - line.len()));
            options.push(fitted);
        } else if len > line.len() - width {
            let mut fitted = line.to_owned();
            fitted.replace_range(start..start + (line.len() - width), "");
            options.push(fitted);
        }
    }
    options
}

/// Runs of two or more fillers, as (start, length).
fn filler_runs(line: &str) -> Vec<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'<' {
            let start = i;
            while i < bytes.len() && bytes[i] == b'<' {
                i += 1;
            }
            if i - start >= 2 {
                runs.push((start, i - start));
            }
        } else {
            i += 1;
        }
    }
    runs
}

/// Letters an OCR tool reads in place of digits, in a place that holds only digits.
fn as_digit(c: u8) -> u8 {
    match c {
        b'O' | b'Q' | b'D' => b'0',
        b'I' | b'L' => b'1',
        b'Z' => b'2',
        b'S' => b'5',
        b'G' => b'6',
        b'B' => b'8',
        other => other,
    }
}

fn digit_holds(field: &str, digit: u8) -> bool {
    match digit {
        b'0'..=b'9' => check_digit(field) == u32::from(digit - b'0'),
        // Doc 9303 lets an empty optional field carry a filler as its check digit.
        b'<' => field.bytes().all(|c| c == b'<'),
        _ => false,
    }
}

/// Letters an OCR tool reads in place of a filler.
const FILLER_MISREADS: [char; 5] = ['K', 'S', 'X', 'C', 'E'];

/// Fillers misread as letters in a field's trailing fillers, made fillers again. The
/// trailing stretch is the end of the field that holds only fillers and such letters: in it,
/// all that follows three fillers in a row is filler (no name or number holds three), and a
/// letter that stands alone between fillers is one.
fn refill_trailing_fillers(field: &str) -> String {
    let is_filler_like = |c: char| c == '<' || FILLER_MISREADS.contains(&c);
    let tail_start = field
        .rfind(|c: char| !is_filler_like(c))
        .map_or(0, |i| i + 1);
    let field = match field[tail_start..].find("<<<") {
        Some(run) => {
            let from = tail_start + run;
            format!("{}{}", &field[..from], "<".repeat(field.len() - from))
        }
        None => field.to_owned(),
    };
    let read = field.as_bytes();
    let mut bytes = read.to_vec();
    for i in tail_start.max(1)..read.len() {
        let alone = read[i - 1] == b'<' && read.get(i + 1).is_none_or(|&c| c == b'<');
        if read[i] != b'<' && alone {
            bytes[i] = b'<';
        }
    }
    String::from_utf8(bytes).unwrap_or(field)
}

fn split_names(field: &str) -> (String, String) {
    let field = names_without_trailing_noise(field);
    let (surname, given) = field.split_once("<<").unwrap_or((&field, ""));
    let words = |part: &str| {
        part.split('<')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    (words(surname), words(given))
}

/// The names field with its fillers repaired: names never hold three fillers in a row, so
/// whatever follows the first three is filler, however it was read.
fn names_without_trailing_noise(field: &str) -> String {
    let field = refill_trailing_fillers(field);
    match field.find("<<<") {
        Some(end) => format!("{}{}", &field[..end], "<".repeat(field.len() - end)),
        None => field,
    }
}

fn date(field: &str, is_birth: bool, today: NaiveDate) -> Option<NaiveDate> {
    if !field.bytes().all(|c| c.is_ascii_digit()) || field.len() != 6 {
        return None;
    }
    let number = |range: Range<usize>| field[range].parse::<u32>().ok();
    let (yy, month, day) = (number(0..2)?, number(2..4)?, number(4..6)?);
    let this_century = today.year() - today.year() % 100;
    let in_this_century = NaiveDate::from_ymd_opt(this_century + yy as i32, month, day)?;
    // A birth date is never in the future; an expiry is at most fifty years ahead.
    let too_late = if is_birth {
        in_this_century > today
    } else {
        in_this_century.year() > today.year() + 50
    };
    if too_late {
        NaiveDate::from_ymd_opt(this_century - 100 + yy as i32, month, day)
    } else {
        Some(in_this_century)
    }
}

fn code(field: &str) -> String {
    field.trim_end_matches('<').replace('<', " ")
}

/// Reads one candidate zone, corrected where the fields' check digits and the composite check
/// digit then all agree, else as read. `None` when its lines do not have the layout's shape.
fn read_zone(layout: Layout, lines: &[String], today: NaiveDate) -> Option<Zone> {
    let corrected = parse(layout, lines, today, Repair::WhereOnlyDigitsStand)?;
    if corrected.checks.last().is_some_and(|c| c.holds) {
        Some(corrected)
    } else {
        parse(layout, lines, today, Repair::None)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Repair {
    None,
    WhereOnlyDigitsStand,
}

fn parse(layout: Layout, lines: &[String], today: NaiveDate, repair: Repair) -> Option<Zone> {
    let (count, width) = layout.shape();
    if lines.len() != count || lines.iter().any(|l| l.len() != width || !l.is_ascii()) {
        return None;
    }
    let first = lines[0].as_bytes()[0];
    if !matches!(first, b'P' | b'I' | b'A' | b'C') {
        return None;
    }
    let places = places(layout, lines);
    let mut taken = match repair {
        Repair::None => lines.to_vec(),
        Repair::WhereOnlyDigitsStand => corrected(&places, lines),
    };
    let checks: Vec<Check> = places
        .iter()
        .map(|place| {
            let (read, read_digit) = place.read(lines);
            let changed = place.read(&taken) != (read.clone(), read_digit);
            Check {
                field: place.field,
                holds: place.holds(&taken),
                read_as: changed.then(|| format!("{read}{}", read_digit as char)),
            }
        })
        .collect();
    let (number, _) = places[0].read(&taken);
    let (names_line, names_at, dates_at, nationality_at) = match layout {
        Layout::Td1 => (2, 0, 0, 15),
        Layout::Td2 | Layout::Td3 => (0, 5, 13, 10),
    };
    let names = names_without_trailing_noise(&taken[names_line][names_at..]);
    taken[names_line].replace_range(names_at.., &names);
    let (surname, given_names) = split_names(&names);
    let dates = &taken[1][dates_at..];
    Some(Zone {
        layout,
        document_code: code(&taken[0][..2]),
        issuing_state: code(&taken[0][2..5]),
        document_number: number.trim_end_matches('<').to_owned(),
        surname,
        given_names,
        nationality: code(&taken[1][nationality_at..nationality_at + 3]),
        birth_date: date(&dates[..6], true, today),
        sex: dates[7..8].to_owned(),
        expiry_date: date(&dates[8..14], false, today),
        checks,
        lines: taken,
    })
}

#[cfg(test)]
mod tests;
