// Small Kotlin conveniences over the generated bindings (vaxpass.kt, generated at build time).
// Everything here is a one-line delegation; the SDK's behaviour lives in Rust.
package io.vaxpass

import java.time.Instant

/** The stable machine-readable code of a reason, e.g. `"presentation_too_old"`. */
val Reason.code: String get() = reasonCode(this)

/** The stable machine-readable code of a warning, e.g. `"lists_aging"`. */
val Warning.code: String get() = warningCode(this)

/** Judges a scanned QR text against the device clock. Not valid is a [Verdict], not an exception. */
fun Verifier.verifyNow(text: String): Verdict = verify(text, Instant.now())

/** A rotating presentation signed now; show a fresh one at [Shown.refreshAt]. */
fun Wallet.presentationNow(passId: String): Shown = presentation(passId, Instant.now())
