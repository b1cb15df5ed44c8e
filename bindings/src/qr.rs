//! What the wallet shows: the QR text and its code, as objects whose string forms reveal nothing.

use std::sync::Arc;
use std::time::SystemTime;

use crate::convert::system_time;
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
    pub fn version(&self) -> u8 {
        self.0.version()
    }

    /// The error correction level it was encoded with.
    pub fn ec_level(&self) -> EcLevel {
        self.0.ec_level()
    }

    /// Modules per side, without the 4-module quiet zone.
    pub fn width(&self) -> u32 {
        u32::try_from(self.0.width()).unwrap_or(u32::MAX)
    }

    /// Row-major modules, `true` for dark: draw them with the platform's own canvas.
    pub fn modules(&self) -> Vec<bool> {
        self.0.modules()
    }

    /// An SVG document, `module_size` pixels per module, quiet zone included.
    pub fn svg(&self, module_size: u32) -> String {
        self.0.to_svg(module_size)
    }

    /// A greyscale PNG, `module_size` pixels per module (1 to 64), quiet zone included.
    pub fn png(&self, module_size: u32) -> Result<Vec<u8>, VaxpassError> {
        Ok(self.0.to_png(module_size)?)
    }

    /// The code as text for a terminal (two modules per character cell), quiet zone included.
    pub fn terminal(&self) -> String {
        self.0.to_terminal()
    }
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
