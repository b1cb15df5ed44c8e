// Shared fixtures of the JVM tests: a fixed clock, the holder, an authority with its signed lists,
// a verifier fed with them, and the enrolment of a wallet. Stores live in a temporary directory.
package io.vaxpass

import java.nio.file.Path
import java.time.Duration
import java.time.Instant
import kotlin.io.path.createTempDirectory
import kotlin.io.path.deleteRecursively
import kotlin.io.path.ExperimentalPathApi

/** The first day of Korea's vaccine-pass mandate, at lunchtime (12:10 KST). */
val NOW: Instant = Instant.parse("2021-12-13T03:10:00Z")

val PERSON = Person(name = "김민준", dateOfBirth = "1985-03-14")

/** Two Comirnaty doses and a booster: valid under the Korean rules of early 2022. */
val EVENTS: List<Event> = listOf(
    Event.Vaccination(Product.COMIRNATY, dose = 1, of = 2, date = "2021-06-20"),
    Event.Vaccination(Product.COMIRNATY, dose = 2, of = 2, date = "2021-07-25"),
    Event.Vaccination(Product.COMIRNATY, dose = 3, of = 2, date = "2021-12-01"),
)

val LIST_VALIDITY: Duration = Duration.ofDays(1)

/**
 * The wallet's monotonic clock in the JVM tests: `System.nanoTime()` stands in for Android's
 * `SystemClock.elapsedRealtime()`. Each test run is a "boot"; the wallet's trusted time is the
 * fixed clock's [NOW], from the pass it imports, carried forward by this clock.
 */
object BootClock : MonotonicClock {
    override fun elapsedSinceBoot(): Duration = Duration.ofNanos(System.nanoTime())
}

/**
 * An authority created 30 days before [now], its trust and revocation lists (made an hour before
 * [now], valid 24 hours) and a verifier that has applied both.
 */
class TestWorld(val now: Instant = NOW) : AutoCloseable {
    val dir: Path = createTempDirectory("vaxpass-kotlin-test-")
    val authority: Authority = Authority.create(path("authority.sqlite"), "KR", now - Duration.ofDays(30))
    val rootPublicKey: ByteArray = authority.rootPublicKey()
    val trustList: ByteArray = authority.trustList(now - Duration.ofHours(1), LIST_VALIDITY)
    val revocationList: ByteArray = authority.revocationList(now - Duration.ofHours(1), LIST_VALIDITY)
    /** The Korean rules of early 2022, in force on any date. */
    val rulesList: ByteArray = authority.rulesList(now - Duration.ofHours(1), LIST_VALIDITY)
    val verifier: Verifier = Verifier.open(path("verifier.sqlite"), rootPublicKey, defaultVerifierConfig()).also {
        it.applyTrustList(trustList, now)
        it.applyRevocationList(revocationList, now)
        it.applyRulesList(rulesList, now)
    }

    fun path(name: String): String = dir.resolve(name).toString()

    /** The issuer's side of an enrolment: checks the request against the nonce, returns the bundle. */
    fun answer(request: ByteArray, nonce: ByteArray): ByteArray = authority.answerEnrolment(
        request, nonce, PERSON, EVENTS,
        notBefore = now - Duration.ofDays(1),
        expires = now - Duration.ofDays(1) + Duration.ofDays(365),
        now = now,
    )

    /** Enrols [wallet] (nonce, request, answer) and imports the pass after checking the trust list. */
    fun enrol(wallet: Wallet): PassSummary {
        val nonce = newNonce()
        val request = wallet.enrolmentRequest(nonce, "identity checked at the counter".encodeToByteArray())
        val bundle = answer(request, nonce)
        return TrustList.verify(trustList, rootPublicKey).use { trust ->
            wallet.importPasses(bundle, trust, now).single()
        }
    }

    @OptIn(ExperimentalPathApi::class)
    override fun close() {
        verifier.close()
        authority.close()
        dir.deleteRecursively()
    }
}

/** Whether a verdict admits someone (a live phone or a paper pass). */
val Verdict.admits: Boolean get() = this is Verdict.Valid

/** Asserts a verdict is valid for [PERSON], from a live phone unless [paper]; returns it. */
fun assertValidFor(verdict: Verdict, person: Person = PERSON, paper: Boolean = false): Verdict.Valid {
    val valid = when (verdict) {
        is Verdict.Valid -> verdict
        is Verdict.NotValid -> kotlin.test.fail("expected valid, got ${verdict.reason.code}")
        is Verdict.Exempt -> kotlin.test.fail("expected valid, got exempt")
    }
    kotlin.test.assertEquals(person.name, valid.holder.name())
    kotlin.test.assertEquals(person.dateOfBirth, valid.holder.dateOfBirth())
    kotlin.test.assertEquals(paper, valid.idCheckRequired, "a paper pass, and only a paper pass, needs an ID check")
    return valid
}

/** Asserts a verdict is not valid, for [reason]: a refused pass has no holder to read. */
fun assertRefused(verdict: Verdict, reason: Reason) {
    when (verdict) {
        is Verdict.Valid -> kotlin.test.fail("expected ${reason.code}, got a valid verdict")
        is Verdict.NotValid -> kotlin.test.assertEquals(reason, verdict.reason, "expected ${reason.code}, got ${verdict.reason.code}")
        is Verdict.Exempt -> kotlin.test.fail("expected ${reason.code}, got exempt")
    }
}
