//! The Swiss business identification number (UID, `CHE-123.456.788`): nine digits, the last
//! a modulo-11 check digit over the first eight (weights 5, 4, 3, 2, 7, 6, 5, 4).

/// The UID in its usual form, if `input` is one whose check digit is right. Spaces, dots,
/// dashes and a missing or lowercase `CHE` are forgiven.
pub fn normalize(input: &str) -> Option<String> {
    let upper = input.trim().to_ascii_uppercase();
    let rest = upper.strip_prefix("CHE").unwrap_or(&upper);
    let digits: Vec<u32> = rest
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    if digits.len() != 9 {
        return None;
    }
    let sum: u32 = digits[..8]
        .iter()
        .zip([5, 4, 3, 2, 7, 6, 5, 4])
        .map(|(d, w)| d * w)
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return None,
        check => check,
    };
    if digits[8] != check {
        return None;
    }
    let d: String = digits
        .iter()
        .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
        .collect();
    Some(format!("CHE-{}.{}.{}", &d[0..3], &d[3..6], &d[6..9]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_right_check_digit_passes_in_any_usual_spelling() {
        for input in [
            "CHE-123.456.788",
            "che123456788",
            "CHE 123 456 788",
            "123.456.788",
        ] {
            assert_eq!(
                normalize(input).as_deref(),
                Some("CHE-123.456.788"),
                "{input}"
            );
        }
    }

    #[test]
    fn a_wrong_check_digit_or_shape_fails() {
        for input in [
            "CHE-123.456.789",
            "CHE-123.456.78",
            "CHE-123.456.7888",
            "CHE-12A.456.788",
            "",
        ] {
            assert_eq!(normalize(input), None, "{input}");
        }
    }

    #[test]
    fn a_remainder_of_one_has_no_valid_check_digit() {
        // 0 3 0 0 0 0 0 0: the weighted sum is 3 × 4 = 12 ≡ 1 (mod 11), so the check digit
        // would have to be 10: no UID starts like this.
        assert_eq!(normalize("CHE-030.000.000"), None);
        assert_eq!(normalize("CHE-030.000.001"), None);
    }
}
