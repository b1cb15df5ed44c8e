//! Reading a QR code back from a PNG, as a shop's camera would: real decoding from pixels with
//! `rqrr`, not a shortcut through the text.

use std::io::Cursor;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use image::{ImageFormat, ImageReader, Limits};

use crate::context::read_file;
use crate::error::{Error, Result};

/// Pixels per QR module in the PNG and SVG files the tool writes.
pub const MODULE_PIXELS: u32 = 4;
/// Larger images are refused: a screenshot of a QR code is far smaller.
const MAX_SIDE: u32 = 8192;

/// A QR code read from an image.
#[derive(Debug)]
pub struct Decoded {
    pub text: String,
    pub version: usize,
    /// The error correction level read from the format bits: L, M, Q or H.
    pub ecc: &'static str,
}

/// Reads the PNG at `path` and decodes the first readable QR code in it.
pub fn decode_png(path: &Path) -> Result<Decoded> {
    let bytes = read_file(path)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), ImageFormat::Png);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| Error::file(path, format!("not a readable PNG: {e}")))?
        .to_luma8();
    // rqrr is a third-party decoder fed with untrusted pixels: a panic in it must not become ours.
    let found = panic::catch_unwind(AssertUnwindSafe(move || {
        let mut prepared = rqrr::PreparedImage::prepare(image);
        prepared
            .detect_grids()
            .iter()
            .find_map(|grid| grid.decode().ok())
    }))
    .map_err(|_| Error::file(path, "the QR decoder failed on this image"))?;
    let (meta, text) = found.ok_or_else(|| Error::file(path, "no readable QR code found"))?;
    Ok(Decoded {
        text,
        version: meta.version.0,
        // rqrr reports the two format bits as they are encoded: 0 = M, 1 = L, 2 = H, 3 = Q.
        ecc: ["M", "L", "H", "Q"]
            .get(usize::from(meta.ecc_level))
            .copied()
            .unwrap_or("?"),
    })
}
