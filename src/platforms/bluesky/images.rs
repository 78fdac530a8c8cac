//! Images for blobs: format and aspect ratio from the header, and JPEG/PNG
//! files over the size limit scaled down and re-encoded.
//!
//! The result must be the same bytes on every run (a rerun writes the same
//! record, whose blob refs are content hashes), so scaling is a pure function
//! of the input bytes and the limit: fixed filter, fixed JPEG quality, fixed
//! steps.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat};

use crate::media_probe;

/// An image ready to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    /// Scaled down and re-encoded to fit the limit.
    pub reencoded: bool,
}

/// The formats Bluesky shows, by their first bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Returns `bytes` as they are when within `max_bytes`, else a scaled-down
/// re-encoding (JPEG and PNG only). The error says why it cannot be sent.
pub fn prepare(bytes: Vec<u8>, max_bytes: u64) -> Result<Prepared, String> {
    let Some(mime) = sniff(&bytes) else {
        return Err("not a JPEG, PNG, WebP or GIF image".to_owned());
    };
    let (width, height) = imagesize::blob_size(&bytes)
        .map(|s| (s.width as u32, s.height as u32))
        .map_err(|e| format!("cannot read the image header: {e}"))?;
    // The aspect ratio is the image as shown: a phone's portrait photo is stored
    // landscape with EXIF orientation 6 or 8.
    let orientation = media_probe::exif_orientation(&bytes);
    if bytes.len() as u64 <= max_bytes {
        let (width, height) =
            if orientation.is_some_and(media_probe::swaps_sides) { (height, width) } else { (width, height) };
        return Ok(Prepared { bytes, mime, width, height, reencoded: false });
    }
    let format = match mime {
        "image/jpeg" => ImageFormat::Jpeg,
        "image/png" => ImageFormat::Png,
        _ => {
            return Err(format!(
                "{} bytes is over the limit of {max_bytes}, and only JPEG and PNG can be scaled down",
                bytes.len()
            ));
        }
    };
    let mut img =
        image::load_from_memory_with_format(&bytes, format).map_err(|e| format!("cannot decode the image: {e}"))?;
    // The re-encoding carries no EXIF: the turn is applied to the pixels instead.
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    shrink(&img, bytes.len() as u64, max_bytes)
}

/// Scales by the square root of the size ratio (with a margin) until the
/// encoding fits; PNGs with transparency stay PNG, everything else becomes JPEG.
fn shrink(img: &DynamicImage, original: u64, max_bytes: u64) -> Result<Prepared, String> {
    let keep_png = img.color().has_alpha();
    let mut scale = ((max_bytes as f64 / original as f64).sqrt() * 0.9).min(1.0);
    for _ in 0..8 {
        let w = ((img.width() as f64 * scale).round() as u32).max(1);
        let h = ((img.height() as f64 * scale).round() as u32).max(1);
        let small = img.resize_exact(w, h, FilterType::Triangle);
        let mut out = Cursor::new(Vec::new());
        let (result, mime) = if keep_png {
            (small.write_to(&mut out, ImageFormat::Png), "image/png")
        } else {
            let rgb = DynamicImage::ImageRgb8(small.to_rgb8());
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
            (rgb.write_with_encoder(encoder), "image/jpeg")
        };
        result.map_err(|e| format!("cannot encode the scaled image: {e}"))?;
        let bytes = out.into_inner();
        if bytes.len() as u64 <= max_bytes {
            return Ok(Prepared { bytes, mime, width: w, height: h, reencoded: true });
        }
        scale *= 0.75 * (max_bytes as f64 / bytes.len() as f64).sqrt().min(1.0);
        if w == 1 && h == 1 {
            break;
        }
    }
    Err(format!("scaling it down did not bring it under {max_bytes} bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A noisy RGB image (noise compresses badly, so it is big as PNG).
    fn noisy_png(w: u32, h: u32) -> Vec<u8> {
        let mut seed: u32 = 12345;
        let img = image::RgbImage::from_fn(w, h, |_, _| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let b = seed.to_be_bytes();
            image::Rgb([b[0], b[1], b[2]])
        });
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img).write_to(&mut out, ImageFormat::Png).expect("encode");
        out.into_inner()
    }

    #[test]
    fn small_images_pass_unchanged() {
        let png = noisy_png(30, 20);
        let p = prepare(png.clone(), 1_000_000).expect("fits");
        assert_eq!((p.mime, p.width, p.height, p.reencoded), ("image/png", 30, 20, false));
        assert_eq!(p.bytes, png);
    }

    #[test]
    fn large_png_is_scaled_under_the_limit_deterministically() {
        let png = noisy_png(600, 400);
        assert!(png.len() > 500_000, "{}", png.len());
        let a = prepare(png.clone(), 100_000).expect("scaled");
        assert!(a.reencoded && a.bytes.len() <= 100_000, "{}", a.bytes.len());
        assert_eq!(a.mime, "image/jpeg");
        // Aspect ratio kept (within rounding).
        let ratio = a.width as f64 / a.height as f64;
        assert!((ratio - 1.5).abs() < 0.02, "{ratio}");
        assert_eq!(prepare(png, 100_000).expect("scaled"), a, "the same bytes every run");
    }

    fn noisy_jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::load_from_memory(&noisy_png(w, h)).expect("decode");
        let mut out = Cursor::new(Vec::new());
        img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)).expect("encode");
        out.into_inner()
    }

    #[test]
    fn exif_orientation_gives_the_aspect_ratio_as_shown_and_is_applied_when_scaling() {
        // A phone's portrait photo: stored 60×40, orientation 6 (turned a quarter to show).
        let turned = media_probe::with_exif_orientation(&noisy_jpeg(60, 40), 6);
        let p = prepare(turned.clone(), 1_000_000).expect("fits");
        assert_eq!((p.width, p.height, p.reencoded), (40, 60, false));
        assert_eq!(p.bytes, turned, "sent as is: the app applies the orientation");
        let upright = media_probe::with_exif_orientation(&noisy_jpeg(60, 40), 1);
        assert_eq!(prepare(upright, 1_000_000).map(|p| (p.width, p.height)), Ok((60, 40)));

        // Over the limit: re-encoded without EXIF, so the pixels are turned.
        let big = media_probe::with_exif_orientation(&noisy_jpeg(600, 400), 8);
        let s = prepare(big.clone(), big.len() as u64 / 3).expect("scaled");
        assert!(s.reencoded && s.height > s.width, "{}×{}", s.width, s.height);
        let decoded = image::load_from_memory(&s.bytes).expect("decode");
        assert_eq!((decoded.width(), decoded.height()), (s.width, s.height));
        assert_eq!(media_probe::exif_orientation(&s.bytes), None);
    }

    #[test]
    fn other_formats_over_the_limit_and_garbage_are_refused() {
        let mut gif = b"GIF89a".to_vec();
        gif.extend_from_slice(&[10, 0, 10, 0, 0, 0, 0]);
        gif.resize(5000, 0);
        assert!(prepare(gif, 100).expect_err("too big").contains("only JPEG and PNG"));
        assert!(prepare(b"hello".to_vec(), 100).is_err());
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
    }
}
