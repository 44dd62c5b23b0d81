//! One bound on every image this process makes from a document: a decoded upload, a resized
//! copy, an OCR crop, a rotation, a watermarked view. Each computes the size of what it is
//! about to allocate and asks here first, so a picture of an odd shape cannot turn into
//! gigabytes somewhere down the line (a strip of 1 × 2,000 px once scaled to 1,400 px wide
//! became 2.8 billion pixels).

/// Most pixels any one image may have: the largest original intake accepts (50 MP, some
/// 150 MB as 8-bit RGB). What is derived from a document is far smaller.
pub const PIXEL_BUDGET: u64 = 50_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an image of {width} × {height} pixels would exceed the budget of {PIXEL_BUDGET} pixels")]
pub struct OverPixelBudget {
    pub width: u64,
    pub height: u64,
}

/// Whether an image of `width` × `height` may be made (sides of zero make an empty one).
pub fn within_pixel_budget(
    width: impl Into<u64>,
    height: impl Into<u64>,
) -> Result<(), OverPixelBudget> {
    let (width, height) = (width.into(), height.into());
    match width.checked_mul(height) {
        Some(pixels) if pixels <= PIXEL_BUDGET => Ok(()),
        _ => Err(OverPixelBudget { width, height }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_takes_the_largest_original_and_nothing_past_it() {
        assert!(within_pixel_budget(10_000u32, 5_000u32).is_ok());
        assert!(within_pixel_budget(0u32, u32::MAX).is_ok());
        assert_eq!(
            within_pixel_budget(1_400u32, 2_800_000u32),
            Err(OverPixelBudget {
                width: 1_400,
                height: 2_800_000
            })
        );
        assert!(within_pixel_budget(u64::MAX, 2u64).is_err());
    }
}
