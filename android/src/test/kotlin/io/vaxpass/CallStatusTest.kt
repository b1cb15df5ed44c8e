// The generated Kotlin reuses each thread's FFI call statuses (scripts/patch-bindings.py). An error
// must never leak into the next call, nor from a call made inside a callback into the call around it.
package io.vaxpass

import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import org.junit.Test

class CallStatusTest {
    /** Calls the library from inside the wallet's call into it: one call that succeeds, one that fails. */
    private class ReentrantProtector(private val inner: KeyProtector) : KeyProtector {
        val nestedErrors = AtomicInteger()

        private fun callTheLibrary() {
            check(newNonce().size == 32)
            try {
                TrustList.verify(ByteArray(3), ByteArray(32))
            } catch (e: VaxpassException) {
                nestedErrors.incrementAndGet()
            }
        }

        override fun wrap(secret: ByteArray): ByteArray {
            callTheLibrary()
            return inner.wrap(secret)
        }

        override fun unwrap(wrapped: ByteArray): ByteArray {
            callTheLibrary()
            return inner.unwrap(wrapped)
        }
    }

    @Test
    fun callsInsideACallbackKeepTheirOwnStatus(): Unit = TestWorld().use { world ->
        val path = world.path("wallet.sqlite")
        val protector = ReentrantProtector(AesGcmKeyProtector())

        // The outer call succeeds although a call inside it failed.
        Wallet.open(path, protector, BootClock).use { wallet ->
            val pass = world.enrol(wallet)
            assertValidFor(world.verifier.verify(wallet.presentation(pass.id, world.now).text(), world.now))
        }
        assertEquals(1, protector.nestedErrors.get())

        // The outer call fails with its own error, not the one inside it.
        val stranger = ReentrantProtector(AesGcmKeyProtector())
        assertFailsWith<VaxpassException.DeviceKeyUnavailable> { Wallet.open(path, stranger, BootClock) }
        assertEquals(1, stranger.nestedErrors.get())

        Wallet.open(path, protector, BootClock).use { wallet -> assertEquals(1, wallet.passes().size) }
        assertEquals(2, protector.nestedErrors.get())
    }

    @Test
    fun anErrorLeavesNothingBehindForTheNextCall(): Unit = TestWorld().use { world ->
        val trust = TrustList.verify(world.trustList, world.rootPublicKey)
        val otherRoot = TestWorld().use { it.rootPublicKey }
        repeat(200) {
            assertFailsWith<VaxpassException.ListRefused> { TrustList.verify(ByteArray(3), world.rootPublicKey) }
            assertTrue(trust.sequence() > 0L)
            assertFailsWith<VaxpassException.ListRefused> { TrustList.verify(world.trustList, otherRoot) }
            if (it % 100 == 0) assertFailsWith<InternalException> { panicForCrashReportingTest() }
            assertRefused(world.verifier.verify("VP1:", world.now), Reason.Malformed)
        }
        trust.close()
    }
}
