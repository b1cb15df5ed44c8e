//! What the wallet shows: the QR text and its code, as objects whose string forms reveal nothing.

use std::sync::Arc;
use std::time::SystemTime;

use crate::convert::{invalid, system_time};
use crate::error::VaxpassError;
use crate::types::EcLevel;

/// An encoded QR code.
#[derive(Debug, uniffi::Object)]
pub struct Qr(vaxpass::Qr);

#[uniffi::export]
impl Qr {
    /// Encodes any text (alphanumeric mode when it fits the QR alphanumeric set).
    #[uniffi::constructor]
    pub fn encode(text: String, ec_level: EcLevel) -> Result<Arc<Self>, VaxpassError> {
        Ok(Arc::new(Self(vaxpass::Qr::encode(&text, ec_level)?)))
    }

    /// QR version, 1 to 40.
    pub fn version(&self) -> i32 {
        i32::from(self.0.version())
    }

    /// The error correction level it was encoded with.
    pub fn ec_level(&self) -> EcLevel {
        self.0.ec_level()
    }

    /// Modules per side, without the 4-module quiet zone (at most 177).
    pub fn width(&self) -> i32 {
        i32::try_from(self.0.width()).unwrap_or(i32::MAX)
    }

    /// The code as 8-bit greyscale pixels, `module_size` pixels per module (1 to 64), quiet zone
    /// included: one call draws it (a `CGImage` in the device grey colour space, a
    /// `BufferedImage` of `TYPE_BYTE_GRAY`, PIL's mode `L`). At 1, one byte per module: scale it
    /// up without smoothing (nearest neighbour) to keep the edges sharp.
    pub fn bitmap(&self, module_size: i32) -> Result<QrBitmap, VaxpassError> {
        let vaxpass::Bitmap { side, pixels } = self.0.to_bitmap(module_size_of(module_size)?)?;
        // At most 185 modules of 64 pixels: always an i32.
        let side =
            i32::try_from(side).map_err(|_| invalid("module size must be 1 to 64 pixels"))?;
        Ok(QrBitmap {
            width: side,
            height: side,
            pixels,
        })
    }

    /// An SVG document, `module_size` pixels per module (1 to 64), quiet zone included.
    pub fn svg(&self, module_size: i32) -> Result<String, VaxpassError> {
        Ok(self.0.to_svg(module_size_of(module_size)?))
    }

    /// A greyscale PNG, `module_size` pixels per module (1 to 64), quiet zone included
    /// (Android: `BitmapFactory.decodeByteArray`).
    pub fn png(&self, module_size: i32) -> Result<Vec<u8>, VaxpassError> {
        Ok(self.0.to_png(module_size_of(module_size)?)?)
    }

    /// The code as text for a terminal (two modules per character cell), quiet zone included.
    pub fn terminal(&self) -> String {
        self.0.to_terminal()
    }
}

/// A QR code as an image: `width` × `height` pixels (a square), row-major from the top left, one
/// byte per pixel, 0 for dark and 255 for light (8-bit greyscale).
#[derive(uniffi::Record)]
pub struct QrBitmap {
    /// Pixels per row.
    pub width: i32,
    /// Rows, equal to `width`.
    pub height: i32,
    /// `width * height` bytes.
    pub pixels: Vec<u8>,
}

/// The one rule for module sizes, for every rendering.
fn module_size_of(module_size: i32) -> Result<u32, VaxpassError> {
    u32::try_from(module_size)
        .ok()
        .filter(|size| (1..=64).contains(size))
        .ok_or_else(|| invalid("module size must be 1 to 64 pixels"))
}

/// A code to show at the door.
#[derive(Debug, uniffi::Object)]
pub struct Shown(vaxpass::Shown);

impl Shown {
    pub(crate) fn new(shown: vaxpass::Shown) -> Arc<Self> {
        Arc::new(Self(shown))
    }
}

#[uniffi::export]
impl Shown {
    /// The QR text (`VP1:` rotating presentation or `VC1:` paper pass). Personal data: do not log.
    pub fn text(&self) -> String {
        self.0.text.clone()
    }

    /// The QR code of `text`, to draw.
    pub fn qr(&self) -> Arc<Qr> {
        Arc::new(Qr(self.0.qr.clone()))
    }

    /// Paper passes carry no device signature: the shop must check an ID document.
    pub fn id_check_required(&self) -> bool {
        self.0.id_check_required
    }

    /// When to show a fresh code (rotating presentations only).
    pub fn refresh_at(&self) -> Option<SystemTime> {
        self.0.refresh_at.map(system_time)
    }
}
