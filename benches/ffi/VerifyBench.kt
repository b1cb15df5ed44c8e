// The Kotlin (JVM + JNA) program of the FFI benchmark (benches/ffi/README.md): times
// Verifier.verify through the generated bindings, and beside it a bare call (TrustList.sequence(), no
// arguments, a Long back), and prints one JSON line. Run by benches/ffi/run.sh.
package io.vaxpass.bench

import io.vaxpass.Authority
import io.vaxpass.Event
import io.vaxpass.MonotonicClock
import io.vaxpass.Person
import io.vaxpass.Product
import io.vaxpass.Reason
import io.vaxpass.TrustList
import io.vaxpass.Verdict
import io.vaxpass.Verifier
import io.vaxpass.Wallet
import io.vaxpass.defaultVerifierConfig
import io.vaxpass.newNonce
import java.time.Duration
import java.time.Instant
import java.util.Locale
import kotlin.io.path.ExperimentalPathApi
import kotlin.io.path.createTempDirectory
import kotlin.io.path.deleteRecursively

const val WARMUP_CALLS = 3_000
const val ROUNDS = 21
const val CALLS_PER_ROUND = 2_000
const val BARE_CALLS_PER_ROUND = 20_000

/** Times [ROUNDS] rounds of [calls] calls each; returns the per-call times, fastest first. */
inline fun perCallNs(calls: Int, call: () -> Unit): DoubleArray {
    val rounds = DoubleArray(ROUNDS) {
        val start = System.nanoTime()
        repeat(calls) { call() }
        (System.nanoTime() - start).toDouble() / calls
    }
    rounds.sort()
    return rounds
}

/** Changes base45 body characters [30, 33) of a `VP1:` text, so the issuer's signature no longer matches. */
fun tamper(text: String): String {
    val body = text.removePrefix("VP1:")
    val replacement = if (body.substring(30, 33) == "000") "100" else "000"
    return "VP1:" + body.replaceRange(30, 33, replacement)
}

@OptIn(ExperimentalPathApi::class)
/** The one argument names the bindings measured: `kotlin`, or `kotlin-unpatched` (run.sh). */
fun main(args: Array<String>) {
    val language = args.singleOrNull() ?: "kotlin"
    val now = Instant.parse("2021-12-13T03:10:00Z")
    val dir = createTempDirectory("vaxpass-ffi-bench-")
    fun path(name: String) = dir.resolve(name).toString()

    val authority = Authority.create(path("authority.sqlite"), "KR", now - Duration.ofDays(30))
    val root = authority.rootPublicKey()
    val trustList = authority.trustList(now - Duration.ofHours(1), Duration.ofDays(1))
    val revocationList = authority.revocationList(now - Duration.ofHours(1), Duration.ofDays(1))

    val clock = object : MonotonicClock {
        override fun elapsedSinceBoot(): Duration = Duration.ofNanos(System.nanoTime())
    }
    val wallet = Wallet.open(path("wallet.sqlite"), null, clock)
    val nonce = newNonce()
    val request = wallet.enrolmentRequest(nonce, "identity proof".encodeToByteArray())
    val bundle = authority.answerEnrolment(
        request, nonce, Person(name = "김민준", dateOfBirth = "1985-03-14"),
        listOf(
            Event.Vaccination(Product.COMIRNATY, dose = 1, of = 2, date = "2021-06-20"),
            Event.Vaccination(Product.COMIRNATY, dose = 2, of = 2, date = "2021-07-25"),
            Event.Vaccination(Product.COMIRNATY, dose = 3, of = 2, date = "2021-12-01"),
        ),
        notBefore = now - Duration.ofDays(1),
        expires = now - Duration.ofDays(1) + Duration.ofDays(365),
        now = now,
    )
    val pass = wallet.importPasses(bundle, TrustList.verify(trustList, root), now).single()

    val verifier = Verifier.open(path("verifier.sqlite"), root, defaultVerifierConfig())
    verifier.applyTrustList(trustList, now)
    verifier.applyRevocationList(revocationList, now)
    val text = wallet.presentation(pass.id, now).text()

    check(verifier.verify(text, now) is Verdict.Valid) { "the presentation is not valid" }
    val refused = verifier.verify(tamper(text), now)
    check(refused is Verdict.NotValid && refused.reason == Reason.BadSignature) { "a tampered text was not refused" }

    // Each verdict is destroyed at once, freeing its Holder as Rust, Swift and Python do in the loop.
    var valid = 0
    fun call() {
        val verdict = verifier.verify(text, now)
        if (verdict is Verdict.Valid) valid++
        verdict.destroy()
    }
    repeat(WARMUP_CALLS) { call() }
    val verify = perCallNs(CALLS_PER_ROUND) { call() }
    check(valid == WARMUP_CALLS + ROUNDS * CALLS_PER_ROUND) { "only $valid valid verdicts" }

    val trust = TrustList.verify(trustList, root)
    var sequences = 0L
    repeat(WARMUP_CALLS) { sequences += trust.sequence() }
    val bare = perCallNs(BARE_CALLS_PER_ROUND) { sequences += trust.sequence() }
    check(sequences == (WARMUP_CALLS + ROUNDS * BARE_CALLS_PER_ROUND).toLong() * trust.sequence())

    println(
        String.format(
            Locale.ROOT,
            "{\"language\":\"%s\",\"median_ns\":%.1f,\"min_ns\":%.1f,\"rounds\":%d,\"calls_per_round\":%d,\"bare_call_ns\":%.1f}",
            language, verify[ROUNDS / 2], verify[0], ROUNDS, CALLS_PER_ROUND, bare[ROUNDS / 2],
        )
    )
    trust.close()
    verifier.close()
    wallet.close()
    authority.close()
    dir.deleteRecursively()
}
