//! The one public error. Each variant is something an app does (show a message, retry, ask for an
//! update, re-enrol, report a bug); the core's errors are sorted into them here, in one exhaustive
//! match, and the table in docs/bindings.md says why. Details come from the core and carry no
//! personal data: they are for logs, not for the user.

use crate::types::Reason;

/// Why a call failed, sorted by what the app should do about it. A pass that is *not valid* is
/// not an error: it is a [`crate::Verdict`]. Every variant carries `detail`, a message for logs.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum VaxpassError {
    /// The bytes or text are not a genuine vaxpass code, credential bundle or request (not well
    /// formed, too large, a signature that does not verify, the wrong nonce). A wallet shows
    /// "this is not a vaxpass code"; an issuer refuses the request.
    #[error("{detail}")]
    NotVaxpass {
        /// For logs.
        detail: String,
    },
    /// A genuine credential was refused on import, with the reason a verifier would give: show it.
    #[error("{detail}")]
    Refused {
        /// Why, as a verifier would say.
        reason: Reason,
        /// For logs.
        detail: String,
    },
    /// A trust or revocation list was refused (not well formed, a bad signature, older than or
    /// conflicting with the stored one, issued in the future, or an HTTP answer the SDK does not
    /// handle). Nothing changed: keep using the old list, retry at the next refresh, and alert
    /// if it keeps happening. (A server asking to retry later, 429 or 5xx, is not an error.)
    #[error("{detail}")]
    ListRefused {
        /// For logs.
        detail: String,
    },
    /// The data was written by a newer version of the SDK, or a rules list is in a format version
    /// newer than this SDK understands (nothing of it was read): ask the user to update the app.
    #[error("{detail}")]
    UpdateRequired {
        /// For logs.
        detail: String,
    },
    /// The device key cannot be used: the key protector or device signer failed, or the key it
    /// gives is not the wallet's (the platform keystore was reset, biometrics changed). Throw
    /// this from a `KeyProtector` or `DeviceSigner` that fails. If it persists, enrol again.
    #[error("{detail}")]
    DeviceKeyUnavailable {
        /// For logs.
        detail: String,
    },
    /// The wallet will not sign at this time: the device clock is ahead of the last trusted
    /// time, or none was seen yet. Going online (an import, `observe_trusted_time`) fixes it;
    /// ask the user to check the clock if it does not.
    #[error("{detail}")]
    ClockNotTrusted {
        /// For logs.
        detail: String,
    },
    /// A value the app passed is outside what the SDK accepts (a bad date, a pass id that is not
    /// 12 hex digits or names no pass, a QR module size out of range): a bug in the app.
    #[error("{detail}")]
    InvalidArgument {
        /// For logs.
        detail: String,
    },
    /// The call is not possible in this state (a wallet opened with the wrong kind of device
    /// key, an authority created twice, no issuer key valid now): a bug in the app's setup or
    /// order of calls.
    #[error("{detail}")]
    WrongState {
        /// For logs.
        detail: String,
    },
    /// The database or a file failed (disk full, permissions, a damaged file). Nothing was
    /// half-written: retry, or tell the user the storage is full or broken.
    #[error("{detail}")]
    Storage {
        /// For logs.
        detail: String,
    },
    /// Something that should not happen (a callback threw an exception of another type, the
    /// SDK failed to encode its own output): report a bug.
    #[error("{detail}")]
    Internal {
        /// For logs.
        detail: String,
    },
}

impl From<vaxpass::Error> for VaxpassError {
    /// Sorts a core error by what the app should do. No catch-all: a new core error does not
    /// compile until it is placed here (and in docs/bindings.md).
    fn from(error: vaxpass::Error) -> Self {
        use vaxpass::Error as E;
        let detail = error.to_string();
        match error {
            E::Malformed { .. } | E::TooLarge { .. } | E::BadSignature(_) | E::NonceMismatch => {
                Self::NotVaxpass { detail }
            }
            E::Rejected(reason) => Self::Refused { reason, detail },
            E::Rollback { .. }
            | E::Equivocation(_)
            | E::FromTheFuture(_)
            | E::UnexpectedStatus(_) => Self::ListRefused { detail },
            E::SchemaTooNew { .. } | E::RulesTooNew { .. } => Self::UpdateRequired { detail },
            E::KeyProtection(_) | E::Signer(_) => Self::DeviceKeyUnavailable { detail },
            E::ClockNotTrusted(_) => Self::ClockNotTrusted { detail },
            E::InvalidArgument(_) | E::NotFound(_) | E::Qr(_) => Self::InvalidArgument { detail },
            E::WrongState(_) => Self::WrongState { detail },
            E::Storage(_) | E::Io(_) => Self::Storage { detail },
            E::Internal(_) => Self::Internal { detail },
        }
    }
}

impl VaxpassError {
    /// For calls that read a signed list: bytes that are not a good list mean the list is
    /// refused (keep the old one), not that the user scanned something wrong.
    pub(crate) fn from_list(error: vaxpass::Error) -> Self {
        use vaxpass::Error as E;
        match error {
            E::Malformed { .. } | E::TooLarge { .. } | E::BadSignature(_) => Self::ListRefused {
                detail: error.to_string(),
            },
            other => other.into(),
        }
    }
}

/// A foreign callback threw something other than a `VaxpassError`. Its text is dropped: an app's
/// exception may carry anything, and this message may end up in logs.
impl From<uniffi::UnexpectedUniFFICallbackError> for VaxpassError {
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Internal {
            detail: "an app callback threw an unexpected exception".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vaxpass::Error as E;

    fn kind(error: &VaxpassError) -> &'static str {
        match error {
            VaxpassError::NotVaxpass { .. } => "NotVaxpass",
            VaxpassError::Refused { .. } => "Refused",
            VaxpassError::ListRefused { .. } => "ListRefused",
            VaxpassError::UpdateRequired { .. } => "UpdateRequired",
            VaxpassError::DeviceKeyUnavailable { .. } => "DeviceKeyUnavailable",
            VaxpassError::ClockNotTrusted { .. } => "ClockNotTrusted",
            VaxpassError::InvalidArgument { .. } => "InvalidArgument",
            VaxpassError::WrongState { .. } => "WrongState",
            VaxpassError::Storage { .. } => "Storage",
            VaxpassError::Internal { .. } => "Internal",
        }
    }

    #[test]
    fn each_core_error_lands_on_the_variant_that_says_what_to_do() {
        let cases = [
            (
                E::Malformed {
                    what: "credential",
                    why: "not CBOR",
                },
                "NotVaxpass",
            ),
            (
                E::TooLarge {
                    what: "QR text",
                    size: 9,
                    limit: 8,
                },
                "NotVaxpass",
            ),
            (E::BadSignature("enrolment request"), "NotVaxpass"),
            (E::NonceMismatch, "NotVaxpass"),
            (E::Rejected(Reason::Expired), "Refused"),
            (
                E::Rollback {
                    stored: 2,
                    offered: 1,
                },
                "ListRefused",
            ),
            (E::Equivocation(3), "ListRefused"),
            (E::FromTheFuture("trust list"), "ListRefused"),
            (E::UnexpectedStatus(418), "ListRefused"),
            (
                E::SchemaTooNew {
                    found: 9,
                    supported: 1,
                },
                "UpdateRequired",
            ),
            (
                E::RulesTooNew {
                    found: 2,
                    supported: 1,
                },
                "UpdateRequired",
            ),
            (E::KeyProtection("gone".into()), "DeviceKeyUnavailable"),
            (E::Signer("cancelled".into()), "DeviceKeyUnavailable"),
            (E::ClockNotTrusted("ahead"), "ClockNotTrusted"),
            (E::InvalidArgument("bad".into()), "InvalidArgument"),
            (E::NotFound("pass"), "InvalidArgument"),
            (E::Qr("too long"), "InvalidArgument"),
            (E::WrongState("twice"), "WrongState"),
            (E::Io(std::io::Error::other("disk full")), "Storage"),
            (E::Internal("a callback threw"), "Internal"),
        ];
        for (core, expected) in cases {
            let message = core.to_string();
            let public = VaxpassError::from(core);
            assert_eq!(kind(&public), expected, "{message}");
            assert_eq!(
                public.to_string(),
                message,
                "the detail is the core's message"
            );
        }
        // A real SQLite failure: a store in a directory that does not exist.
        let Err(storage) = vaxpass::Verifier::open(
            std::env::temp_dir().join("vaxpass no such directory/verifier.sqlite"),
            [0; 32],
            vaxpass::VerifierConfig::default(),
        ) else {
            panic!("a store in a missing directory cannot open");
        };
        assert!(matches!(storage, E::Storage(_)), "{storage}");
        assert_eq!(kind(&storage.into()), "Storage");
        let refused = VaxpassError::from(E::Rejected(Reason::Revoked));
        assert!(matches!(
            refused,
            VaxpassError::Refused {
                reason: Reason::Revoked,
                ..
            }
        ));
    }

    #[test]
    fn bytes_that_are_not_a_good_list_refuse_the_list_rather_than_blame_a_scan() {
        for core in [
            E::Malformed {
                what: "trust list",
                why: "not CBOR",
            },
            E::BadSignature("trust list"),
            E::TooLarge {
                what: "revocation list",
                size: 9,
                limit: 8,
            },
            E::Equivocation(4),
        ] {
            assert_eq!(kind(&VaxpassError::from_list(core)), "ListRefused");
        }
        // A rules list in a newer format is not a bad list: the app is too old to read it.
        let too_new = E::RulesTooNew {
            found: 2,
            supported: 1,
        };
        assert_eq!(kind(&VaxpassError::from_list(too_new)), "UpdateRequired");
        assert_eq!(
            kind(&VaxpassError::from_list(E::Io(std::io::Error::other("x")))),
            "Storage"
        );
    }
}
