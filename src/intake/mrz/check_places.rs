//! Where each check digit of a zone stands and what it covers, and the one correction a
//! misread allows: where nothing but a digit can stand.

use super::*;

/// Characters of a zone: a line and a range in it.
pub(super) type Span = (usize, Range<usize>);

/// Where a check digit stands and what it covers, in a zone's lines.
pub(super) struct Place {
    pub(super) field: Checked,
    pub(super) covers: Vec<Span>,
    pub(super) digit: (usize, usize),
}

impl Place {
    pub(super) fn new(field: Checked, covers: &[Span], digit: (usize, usize)) -> Self {
        Place {
            field,
            covers: covers.to_vec(),
            digit,
        }
    }

    /// What it covers, and its digit, in `lines`.
    pub(super) fn read(&self, lines: &[String]) -> (String, u8) {
        let covered = self
            .covers
            .iter()
            .map(|(line, range)| &lines[*line][range.clone()])
            .collect();
        (covered, lines[self.digit.0].as_bytes()[self.digit.1])
    }

    pub(super) fn holds(&self, lines: &[String]) -> bool {
        let (covered, digit) = self.read(lines);
        digit_holds(&covered, digit)
    }

    /// A date holds nothing but digits; a number or optional data holds letters and digits.
    pub(super) fn covers_only_digits(&self) -> bool {
        matches!(self.field, Checked::BirthDate | Checked::ExpiryDate)
    }
}

/// The check digits of `layout`, the composite last (it covers the others).
pub(super) fn places(layout: Layout, lines: &[String]) -> Vec<Place> {
    use Checked::*;
    match layout {
        Layout::Td3 => vec![
            Place::new(DocumentNumber, &[(1, 0..9)], (1, 9)),
            Place::new(BirthDate, &[(1, 13..19)], (1, 19)),
            Place::new(ExpiryDate, &[(1, 21..27)], (1, 27)),
            Place::new(PersonalNumber, &[(1, 28..42)], (1, 42)),
            Place::new(Composite, &[(1, 0..10), (1, 13..20), (1, 21..43)], (1, 43)),
        ],
        Layout::Td2 => vec![
            Place::new(DocumentNumber, &[(1, 0..9)], (1, 9)),
            Place::new(BirthDate, &[(1, 13..19)], (1, 19)),
            Place::new(ExpiryDate, &[(1, 21..27)], (1, 27)),
            Place::new(Composite, &[(1, 0..10), (1, 13..20), (1, 21..35)], (1, 35)),
        ],
        Layout::Td1 => {
            let (number, digit) = td1_number(&lines[0]);
            vec![
                Place::new(DocumentNumber, &number, digit),
                Place::new(BirthDate, &[(1, 0..6)], (1, 6)),
                Place::new(ExpiryDate, &[(1, 8..14)], (1, 14)),
                Place::new(
                    Composite,
                    &[(0, 5..30), (1, 0..7), (1, 8..15), (1, 18..29)],
                    (1, 29),
                ),
            ]
        }
    }
}

/// Where a TD1 document number stands, and its check digit: a number longer than nine
/// characters goes on in the optional data, its check digit after it, with a filler where
/// the digit would be.
pub(super) fn td1_number(line: &str) -> (Vec<Span>, (usize, usize)) {
    let bytes = line.as_bytes();
    if bytes[14] == b'<' && bytes[15] != b'<' {
        let digit = line.trim_end_matches('<').len() - 1;
        return (vec![(0, 5..14), (0, 15..digit)], (0, digit));
    }
    (vec![(0, 5..14)], (0, 14))
}

/// `lines` with the misreads their check digits settle corrected: where nothing but a digit
/// can stand (a date, a check digit), letters taken for the digits they resemble, when the
/// check digit then holds. The composite, last, sees the fields' corrections.
pub(super) fn corrected(places: &[Place], lines: &[String]) -> Vec<String> {
    let mut taken = lines.to_vec();
    for place in places {
        if place.holds(&taken) {
            continue;
        }
        let (line, at) = place.digit;
        let mut only_digits = vec![(line, at..at + 1)];
        if place.covers_only_digits() {
            only_digits.extend(place.covers.iter().cloned());
        }
        let mut trial = taken.clone();
        for (line, range) in only_digits {
            let digits: String = trial[line][range.clone()]
                .bytes()
                .map(|c| as_digit(c) as char)
                .collect();
            trial[line].replace_range(range, &digits);
        }
        if place.holds(&trial) {
            taken = trial;
        }
    }
    taken
}
