//! The shapes a photo of a document can have. What no document has (a strip of one pixel by
//! two thousand, a thumbnail) is refused from its declared size, before it is decoded: it
//! shows nothing a reviewer could check, and only such pictures make the work on them blow up.

use std::fmt;

/// What a photo is meant to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A passport page or an identity card, front or back: the requester's or the holder's.
    IdentityDocument,
    /// A page, such as the holder's signed authorisation letter.
    Page,
}

/// Shorter side, in pixels, under which a picture can show no document legibly: a card
/// photographed in VGA is still some 300 px high. (Between this and the quality check's
/// 600 px the requester is warned and may send the photo anyway.)
pub const MIN_SHORTER_SIDE: u32 = 200;

/// Longest side over shorter side. An ID-1 card is 1.59:1 and a passport page 1.42:1;
/// photos of them are taken with a margin, in either orientation, on phones whose frames are
/// up to 20:9 (2.2:1). Beyond 4:1 a picture is a strip, not a document.
pub const MAX_IDENTITY_ASPECT: u32 = 4;

/// The same for a page: A4 is 1.41:1, but a letter may come as a phone's long screenshot of
/// a page and a half.
pub const MAX_PAGE_ASPECT: u32 = 6;

/// What is wrong with a picture's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShapeProblem {
    /// Far longer than it is wide (or the other way round).
    TooNarrow,
    /// Too few pixels across to show anything legible.
    TooSmall,
}

impl Subject {
    fn max_aspect(self) -> u32 {
        match self {
            Subject::IdentityDocument => MAX_IDENTITY_ASPECT,
            Subject::Page => MAX_PAGE_ASPECT,
        }
    }

    /// Whether a picture of `width` × `height` can show this subject (orientation aside).
    pub fn shape_problem(self, width: u32, height: u32) -> Option<ShapeProblem> {
        let (shorter, longer) = (width.min(height), width.max(height));
        if u64::from(longer) > u64::from(shorter) * u64::from(self.max_aspect()) {
            Some(ShapeProblem::TooNarrow)
        } else if shorter < MIN_SHORTER_SIDE {
            Some(ShapeProblem::TooSmall)
        } else {
            None
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Subject::IdentityDocument => "an identity document",
            Subject::Page => "a page",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_of_documents_pass_in_either_orientation() {
        for subject in [Subject::IdentityDocument, Subject::Page] {
            for (width, height) in [(4000, 3000), (1080, 2400), (856, 540), (200, 800)] {
                assert_eq!(
                    subject.shape_problem(width, height),
                    None,
                    "{width}×{height}"
                );
                assert_eq!(
                    subject.shape_problem(height, width),
                    None,
                    "{height}×{width}"
                );
            }
        }
    }

    #[test]
    fn strips_and_thumbnails_are_named_for_what_is_wrong() {
        let id = Subject::IdentityDocument;
        assert_eq!(id.shape_problem(1, 2000), Some(ShapeProblem::TooNarrow));
        assert_eq!(id.shape_problem(2000, 1), Some(ShapeProblem::TooNarrow));
        assert_eq!(id.shape_problem(400, 2000), Some(ShapeProblem::TooNarrow));
        assert_eq!(id.shape_problem(150, 150), Some(ShapeProblem::TooSmall));
        assert_eq!(id.shape_problem(199, 600), Some(ShapeProblem::TooSmall));
        // A long page is a page; a strip is not.
        assert_eq!(Subject::Page.shape_problem(400, 2000), None);
        assert_eq!(
            Subject::Page.shape_problem(300, 2000),
            Some(ShapeProblem::TooNarrow)
        );
    }
}
