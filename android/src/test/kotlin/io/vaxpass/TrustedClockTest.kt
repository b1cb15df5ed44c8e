// The wallet signs only at times it can trust: a phone clock set ahead gets no code for later.
package io.vaxpass

import java.time.Duration
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import org.junit.Test

class TrustedClockTest {
    /** A monotonic clock the test moves, written in Kotlin; a reboot sets it back near zero. */
    private class MovableClock(@Volatile var elapsed: Duration) : MonotonicClock {
        override fun elapsedSinceBoot(): Duration = elapsed
    }

    @Test
    fun aClockSetThreeHoursAheadGetsNoCodeThatVerifiesLater(): Unit = TestWorld().use { world ->
        val clock = MovableClock(Duration.ofHours(30))
        Wallet.open(world.path("wallet.sqlite"), null, clock).use { wallet ->
            // Imported with the verified trust list at world.now: the pass's issuance is trusted.
            val pass = world.enrol(wallet)
            clock.elapsed += Duration.ofMinutes(10)
            val real = world.now + Duration.ofMinutes(10)
            assertValidFor(world.verifier.verify(wallet.presentation(pass.id, real).text(), real))

            // The holder sets the phone's clock ahead and screenshots a code every two minutes
            // for eight hours; the monotonic clock barely moves meanwhile.
            val screenshots = (1..240).mapNotNull { k ->
                try {
                    wallet.presentation(pass.id, real + Duration.ofMinutes(2L * k)).text()
                } catch (e: VaxpassException.ClockNotTrusted) {
                    null
                }
            }
            assertTrue(screenshots.size <= 3, "only the tolerance is signed: ${screenshots.size}")
            val accepted = (0 until 200).sumOf { k ->
                val door = real + Duration.ofMinutes(8) + Duration.ofSeconds(144L * k)
                screenshots.count { world.verifier.verify(it, door).admits }
            }
            assertEquals(0, accepted, "no lent screenshot verifies at a later moment")

            // After a reboot only the stored trusted time is known: nothing far past it.
            clock.elapsed = Duration.ofSeconds(20)
            assertFailsWith<VaxpassException.ClockNotTrusted> {
                wallet.presentation(pass.id, real + Duration.ofHours(3))
            }
            wallet.presentation(pass.id, real + Duration.ofMinutes(1))

            // A day later the wallet needs a trusted time again; a verified list's issue time does.
            val tomorrow = world.now + Duration.ofDays(1)
            assertFailsWith<VaxpassException.ClockNotTrusted> { wallet.presentation(pass.id, tomorrow) }
            val list = world.authority.trustList(tomorrow - Duration.ofMinutes(1), LIST_VALIDITY)
            TrustList.verify(list, world.rootPublicKey).use { wallet.observeTrustedTime(it.issuedAt()) }
            wallet.presentation(pass.id, tomorrow)
        }
    }
}
