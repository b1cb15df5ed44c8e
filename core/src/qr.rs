//! QR codes for display: the module matrix, and SVG, PNG and terminal renderings. Text is encoded
//! in alphanumeric mode (the whole vaxpass text is in that set) at ECC level M by default.

use std::fmt;

use qrcode::render::{svg, unicode};
use qrcode::{Color, QrCode, Version};

use crate::error::{Error, Result};

/// Error correction level: the share of the code that may be damaged and still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EcLevel {
    /// About 7%.
    L,
    /// About 15%: the default, a good trade for phone screens.
    #[default]
    M,
    /// About 25%: for printed passes that get folded.
    Q,
    /// About 30%.
    H,
}

impl fmt::Display for EcLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EcLevel::L => "L",
            EcLevel::M => "M",
            EcLevel::Q => "Q",
            EcLevel::H => "H",
        })
    }
}

/// Modules of quiet zone around the code, as the QR standard asks.
pub const QUIET_ZONE: usize = 4;

/// A square 8-bit greyscale image: `side` × `side` pixels, row-major from the top left, one
/// byte each, 0 for a dark module and 255 for a light one.
#[derive(Clone, PartialEq, Eq)]
pub struct Bitmap {
    /// Pixels per side, quiet zone included.
    pub side: u32,
    /// `side * side` bytes.
    pub pixels: Vec<u8>,
}

/// Its size only: the pixels are the QR text, which may be personal data.
impl fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bitmap {{ side: {} }}", self.side)
    }
}

/// An encoded QR code. `Debug` shows its version and size, never its content.
#[derive(Clone)]
pub struct Qr {
    code: QrCode,
    ec: EcLevel,
}

impl fmt::Debug for Qr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Qr {{ version: {}, width: {}, ec: {:?} }}",
            self.version(),
            self.width(),
            self.ec
        )
    }
}

impl Qr {
    /// Encodes `text` at error correction level `ec`, in the smallest version it fits;
    /// [`Error::Qr`] if it fits in none.
    pub fn encode(text: &str, ec: EcLevel) -> Result<Self> {
        let level = match ec {
            EcLevel::L => qrcode::EcLevel::L,
            EcLevel::M => qrcode::EcLevel::M,
            EcLevel::Q => qrcode::EcLevel::Q,
            EcLevel::H => qrcode::EcLevel::H,
        };
        let code = QrCode::with_error_correction_level(text, level)
            .map_err(|_| Error::Qr("text does not fit in a QR code"))?;
        Ok(Self { code, ec })
    }

    /// QR version, 1 to 40.
    pub fn version(&self) -> u8 {
        match self.code.version() {
            Version::Normal(v) | Version::Micro(v) => v as u8,
        }
    }

    /// The error correction level it was encoded with.
    pub fn ec_level(&self) -> EcLevel {
        self.ec
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.code.width()
    }

    /// Row-major modules, `true` for dark, without the quiet zone.
    pub fn modules(&self) -> Vec<bool> {
        self.code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect()
    }

    /// An SVG document with `module_size` pixels per module and the quiet zone.
    pub fn to_svg(&self, module_size: u32) -> String {
        self.code
            .render::<svg::Color<'_>>()
            .module_dimensions(module_size, module_size)
            .build()
    }

    /// Two modules per character cell, for terminals; dark-on-light with the quiet zone.
    pub fn to_terminal(&self) -> String {
        self.code
            .render::<unicode::Dense1x2>()
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .build()
    }

    /// The code as an 8-bit greyscale image with `module_size` pixels per module (1 to 64) and
    /// the quiet zone: what [`Self::to_png`] encodes, for a platform canvas to draw directly.
    pub fn to_bitmap(&self, module_size: u32) -> Result<Bitmap> {
        if !(1..=64).contains(&module_size) {
            return Err(Error::InvalidArgument(
                "module size must be 1 to 64 pixels".into(),
            ));
        }
        let scale = module_size as usize;
        let width = self.width();
        let side = (width + 2 * QUIET_ZONE) * scale;
        let modules = self.modules();
        let mut pixels = vec![255u8; side * side];
        for (i, _) in modules.iter().enumerate().filter(|(_, dark)| **dark) {
            let (x, y) = (
                (i % width + QUIET_ZONE) * scale,
                (i / width + QUIET_ZONE) * scale,
            );
            for row in y..y + scale {
                pixels[row * side + x..row * side + x + scale].fill(0);
            }
        }
        let side = u32::try_from(side).map_err(|_| Error::Qr("image too large"))?;
        Ok(Bitmap { side, pixels })
    }

    /// A greyscale PNG with `module_size` pixels per module (1 to 64) and the quiet zone.
    pub fn to_png(&self, module_size: u32) -> Result<Vec<u8>> {
        let Bitmap { side, pixels } = self.to_bitmap(module_size)?;
        let mut png_bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut png_bytes, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|_| Error::Qr("PNG encoding failed"))?;
        writer
            .write_image_data(&pixels)
            .map_err(|_| Error::Qr("PNG encoding failed"))?;
        writer
            .finish()
            .map_err(|_| Error::Qr("PNG encoding failed"))?;
        Ok(png_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphanumeric_text_gets_the_smallest_version() {
        // 25 alphanumeric characters: version 1 at M holds 20, version 2 holds 38.
        let qr = Qr::encode("VP1:ABCDEFGHIJKLMNOPQRSTU", EcLevel::M).unwrap();
        assert_eq!(qr.version(), 2);
        assert_eq!(qr.width(), 25);
        assert_eq!(qr.modules().len(), 25 * 25);
        assert!(qr.to_svg(4).starts_with("<?xml"));
        assert!(qr.to_terminal().lines().count() >= (25 + 8) / 2);
        let png = qr.to_png(3).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert!(qr.to_png(0).is_err());
        assert!(qr.to_bitmap(65).is_err());
    }

    #[test]
    fn bitmap_is_the_modules_scaled_inside_the_quiet_zone() {
        let qr = Qr::encode("VP1:ABCDEFGHIJKLMNOPQRSTU", EcLevel::M).unwrap();
        let bitmap = qr.to_bitmap(2).unwrap();
        let side = (25 + 2 * QUIET_ZONE) * 2;
        assert_eq!(bitmap.side as usize, side);
        assert_eq!(bitmap.pixels.len(), side * side);
        let modules = qr.modules();
        for y in 0..side {
            for x in 0..side {
                let (mx, my) = (
                    (x / 2).checked_sub(QUIET_ZONE),
                    (y / 2).checked_sub(QUIET_ZONE),
                );
                let dark = match (mx, my) {
                    (Some(mx), Some(my)) if mx < 25 && my < 25 => modules[my * 25 + mx],
                    _ => false,
                };
                assert_eq!(
                    bitmap.pixels[y * side + x],
                    if dark { 0 } else { 255 },
                    "{x},{y}"
                );
            }
        }
    }

    #[test]
    fn too_long_text_is_an_error_not_a_panic() {
        assert!(Qr::encode(&"A".repeat(5000), EcLevel::M).is_err());
    }
}
