//! The machine-readable zone: 24 specimens (TD1, TD2, TD3) drawn in OCR-B, turned, blurred,
//! speckled and JPEG-compressed, each put through intake as an upload is, then read by
//! tesseract and our parser. Prints, for each, whether every check digit held and the number
//! was read right, and the time per image; then the totals.
//!
//! cargo bench --bench mrz   (needs tesseract and fonts-ocr-b)

#[path = "../tests/it/common/specimen.rs"]
mod specimen;

use std::time::Instant;

use specimen::Degradation;
use transfer_desk::intake::{sanitize, IntakeLimits, Subject};

fn date(y: i32, m: u32, d: u32) -> mrz::MrzDate {
    mrz::MrzDate::Calendar(mrz::Date::new(y, m, d))
}

/// The zone of specimen `n`: its layout turns with `n`, its fields differ.
fn zone(n: usize) -> (String, String) {
    let number = format!(
        "{}{:07}",
        ["C", "X", "PA", "L8"][n % 4],
        4_817_203 + n * 7_919
    );
    let number: String = number.chars().take(9).collect();
    let (surname, given) = [
        ("ERIKSSON", "ANNA MARIA"),
        ("MUSTER", "ERIKA"),
        ("ROSSI", "GIULIA"),
        ("DUBOIS", "JEAN LUC"),
    ][n % 4];
    let birth = date(
        1950 + (n as i32 * 3) % 50,
        1 + (n as u32 * 5) % 12,
        1 + (n as u32 * 7) % 28,
    );
    let expiry = date(
        2027 + (n as i32) % 10,
        1 + (n as u32 * 11) % 12,
        1 + (n as u32 * 3) % 28,
    );
    // The three layouts' fields differ only in their type.
    macro_rules! fields {
        ($layout:ident, $country:literal, $sex:ident) => {
            mrz::$layout {
                issuing_country: $country.into(),
                document_number: number.clone(),
                surname: surname.into(),
                given_names: given.into(),
                nationality: $country.into(),
                date_of_birth: birth,
                sex: mrz::Sex::$sex,
                date_of_expiry: expiry,
                ..Default::default()
            }
        };
    }
    let text = match n % 3 {
        0 => mrz::format_td3(&fields!(Td3Fields, "CHE", Female)),
        1 => mrz::format_td2(&fields!(Td2Fields, "FRA", Male)),
        _ => mrz::format_td1(&fields!(Td1Fields, "D", Female)),
    };
    (text, number)
}

fn degradation(n: usize) -> Degradation {
    Degradation {
        angle_degrees: [-3.0, -1.5, 0.0, 0.8, 2.0, 3.0][n % 6],
        blur_sigma: [0.6, 1.0, 1.4, 1.8][n % 4],
        jpeg_quality: [55, 70, 85][n % 3],
        noise: [6, 12, 18][(n / 3) % 3],
        seed: n as u64 + 1,
    }
}

#[tokio::main]
async fn main() {
    let Some(font) = specimen::ocr_b() else {
        println!(
            "no OCR-B font at {}: apt-get install fonts-ocr-b",
            specimen::OCR_B
        );
        return;
    };
    let Some(tesseract) = transfer_desk::platform::config::Settings::in_dir("/tmp").ocr_command
    else {
        println!("no tesseract on the PATH: apt-get install tesseract-ocr tesseract-ocr-eng");
        return;
    };
    let today = chrono::Utc::now().date_naive();
    let limits = IntakeLimits::default();
    let (mut read, mut times) = (0, Vec::new());
    println!(
        "{:>3} {:<4} {:>6} {:>5} {:>3} {:>5}  {:<9} {:>7}  result",
        "#", "kind", "angle", "blur", "q", "noise", "number", "ms"
    );
    for n in 0..24 {
        let (text, number) = zone(n);
        let lines: Vec<&str> = text.lines().collect();
        let how = degradation(n);
        let upload = specimen::document_with_zone(&font, &lines, how);
        let clean = sanitize(&upload, Subject::IdentityDocument, &limits)
            .expect("intake takes the specimen");
        let started = Instant::now();
        let zone = transfer_desk::intake::ocr::read_zone(&tesseract, &clean.jpeg, today)
            .await
            .expect("tesseract runs");
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        times.push(ms);
        let kind = ["TD3", "TD2", "TD1"][n % 3];
        let result = match &zone {
            Some(z) if z.all_checks_hold() && z.document_number == number => {
                read += 1;
                match z.checks.iter().filter(|c| c.read_as.is_some()).count() {
                    0 => "all check digits hold, number right".to_owned(),
                    corrected => {
                        format!("all check digits hold ({corrected} once corrected), number right")
                    }
                }
            }
            Some(z) => format!(
                "read {} with {} of {} check digits holding",
                z.document_number,
                z.checks.iter().filter(|c| c.holds).count(),
                z.checks.len()
            ),
            None => "no zone found".to_owned(),
        };
        println!(
            "{n:>3} {kind:<4} {:>6.1} {:>5.1} {:>3} {:>5}  {number:<9} {ms:>7.0}  {result}",
            how.angle_degrees, how.blur_sigma, how.jpeg_quality, how.noise
        );
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "\nread with every check digit holding and the number right: {read} of 24; time per image: median {:.0} ms, max {:.0} ms (one tesseract thread)",
        times[times.len() / 2],
        times[times.len() - 1]
    );
}
