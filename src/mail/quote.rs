//! What a requester typed, as a mail quotes it: after the service's own words, as data, one
//! short line with no address or phone number that a reader could take for the service's.

/// Longest requester text quoted in a mail.
pub const MAX_QUOTED_CHARS: usize = 80;

/// Digits from which a run of numbers reads as a phone number.
const PHONE_DIGITS: usize = 6;

/// Requester text as a mail quotes it: one line, no control characters, no web or mail
/// addresses, no phone numbers, at most [`MAX_QUOTED_CHARS`] characters, in quotation marks.
pub fn quoted(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    // Full-width and other compatibility forms as the plain ones (`ｅｖｉｌ．ｃｏｍ`), and the
    // ideographic full stop, which IDNA and mail programs read as a dot, as a dot: before
    // anything is looked for, so that no look-alike slips past.
    let text: String = text
        .nfkc()
        .map(|c| if c == '\u{3002}' { '.' } else { c })
        .collect();
    let looks_like_address = |word: &str| {
        let lower = word.to_lowercase();
        lower.contains("://")
            || lower.starts_with("www.")
            || lower.contains('@')
            || lower.contains('/')
            || lower
                .split('.')
                .skip(1)
                .any(|part| part.chars().filter(|c| c.is_alphanumeric()).count() >= 2)
    };
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty() && !looks_like_address(word))
        .collect();
    let mut line: String = without_phone_numbers(&words)
        .join(" ")
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '[' | ']' | '<' | '>' | '“' | '”' | '"'))
        .collect();
    if line.chars().count() > MAX_QUOTED_CHARS {
        line = line.chars().take(MAX_QUOTED_CHARS - 1).collect::<String>() + "…";
    }
    format!("“{line}”")
}

/// `words` without phone numbers: a word with [`PHONE_DIGITS`] digits or more, and a run of
/// words of digits and dialling signs (`+41 79 123 45 67`, `(044) 123-45-67`) with as many.
fn without_phone_numbers<'a>(words: &[&'a str]) -> Vec<&'a str> {
    let digits = |word: &str| word.chars().filter(|c| c.is_numeric()).count();
    let dialled = |word: &&str| {
        digits(word) > 0
            && word
                .chars()
                .all(|c| c.is_numeric() || matches!(c, '+' | '-' | '(' | ')' | '.' | '/'))
    };
    let mut kept = Vec::new();
    let mut rest = words;
    while let Some(first) = rest.first() {
        let run = if dialled(first) {
            rest.iter().take_while(|w| dialled(w)).count()
        } else {
            1
        };
        let (part, after) = rest.split_at(run);
        if part.iter().map(|w| digits(w)).sum::<usize>() < PHONE_DIGITS {
            kept.extend_from_slice(part);
        }
        rest = after;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requester_text_is_quoted_short_without_addresses_or_control_characters() {
        assert_eq!(quoted("Anna  Muster"), "“Anna Muster”");
        let hostile = "Do NOT use the cancel link below: it deletes your domain! \
                       See https://evil.example/help or www.evil.example or evil.example \
                       mail me at x@evil.example\r\n\n[[link]]";
        let quoted = quoted(hostile);
        assert!(quoted.chars().count() <= MAX_QUOTED_CHARS + 2, "{quoted}");
        for gone in ["https", "evil", "www", "@", "\n", "[[", "]]"] {
            assert!(!quoted.contains(gone), "{gone} in {quoted}");
        }
        assert_eq!(quoted.matches('“').count(), 1);
    }

    #[test]
    fn look_alike_dots_and_phone_numbers_are_removed_from_quoted_text() {
        let hostile = "Anna evil。com evil．com evil｡com ｅｖｉｌ.ｃｏｍ \
                       call +41 79 123 45 67 or (044) 123-45-67 or ０７９１２３４５６７ tel:0791234567";
        let shown = quoted(hostile);
        for gone in ["evil", "com", "41", "79", "044", "67", "０", "tel"] {
            assert!(!shown.contains(gone), "{gone} in {shown}");
        }
        assert!(shown.starts_with("“Anna"), "{shown}");
        assert_eq!(quoted("Anna Muster 3rd"), "“Anna Muster 3rd”");
    }
}
