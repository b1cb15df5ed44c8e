//! EU DCC decoding and verification (work in progress).
