// Garbage in and a Rust panic: each surfaces as a typed exception, and the SDK keeps working.
package io.vaxpass

import kotlin.random.Random
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import org.junit.After
import org.junit.Test

class RobustnessTest {
    private val world = TestWorld()
    private val wallet = Wallet.open(world.path("wallet.sqlite"), null, BootClock)
    private val pass = world.enrol(wallet)
    private val garbage = Random(2021).nextBytes(300)

    @After
    fun tearDown() {
        wallet.close()
        world.close()
    }

    /** The whole flow still works: a fresh presentation is valid. */
    private fun assertStillWorking() {
        assertValidFor(world.verifier.verify(wallet.presentation(pass.id, world.now).text(), world.now))
    }

    @Test
    fun garbageTrustListIsRefused() {
        val error = assertFailsWith<VaxpassException.ListRefused> { world.verifier.applyTrustList(garbage, world.now) }
        assertTrue(error.detail.contains("trust list"), error.detail)
        assertStillWorking()
        // The stored list is untouched: the same list again is unchanged, not a rollback.
        assertTrue(world.verifier.applyTrustList(world.trustList, world.now) is Applied.Unchanged)
    }

    @Test
    fun forgedOrOlderListsAreRefused() {
        val newer = world.authority.trustList(world.now, LIST_VALIDITY)
        assertTrue(world.verifier.applyTrustList(newer, world.now) is Applied.Updated)
        val rollback = assertFailsWith<VaxpassException.ListRefused> { world.verifier.applyTrustList(world.trustList, world.now) }
        assertTrue(rollback.detail.contains("rollback"), rollback.detail)
        TestWorld().use { other ->
            val forged = other.authority.trustList(world.now, LIST_VALIDITY)
            assertFailsWith<VaxpassException.ListRefused> { world.verifier.applyTrustList(forged, world.now) }
        }
        assertStillWorking()
    }

    @Test
    fun garbageRevocationListIsRefused() {
        assertFailsWith<VaxpassException.ListRefused> { world.verifier.applyRevocationList(garbage, world.now) }
        assertStillWorking()
    }

    @Test
    fun garbageImportIsNotAVaxpassCode() {
        assertFailsWith<VaxpassException.NotVaxpass> { wallet.importPasses(garbage, null, world.now) }
        assertFailsWith<VaxpassException.NotVaxpass> { wallet.importPasses(ByteArray(0), null, world.now) }
        assertTrue(wallet.passes().size == 1)
        assertStillWorking()
    }

    @Test
    fun unknownPassIdIsAnInvalidArgument() {
        assertFailsWith<VaxpassException.InvalidArgument> { wallet.presentation("not-an-id", world.now) }
        assertStillWorking()
    }

    @Test
    fun garbageTextIsAVerdictNotAnException() {
        assertRefused(world.verifier.verify("VP1:" + "garbage", world.now), Reason.Malformed)
        assertRefused(world.verifier.verify("", world.now), Reason.Malformed)
        // Hangul from a Korean input method that does not recover into a pass: switch it to English.
        assertRefused(world.verifier.verify("폐1:가", world.now), Reason.KoreanInputMethod)
        assertEquals("korean_input_method", Reason.KoreanInputMethod.code)
        assertStillWorking()
    }

    @Test
    fun rustPanicIsAnInternalExceptionAndTheJvmLivesOn() {
        val error = assertFailsWith<InternalException> { panicForCrashReportingTest() }
        assertContains(error.message.orEmpty(), "deliberate panic")
        assertStillWorking()
        // And again: a panic leaves nothing poisoned behind.
        assertFailsWith<InternalException> { panicForCrashReportingTest() }
        assertStillWorking()
    }
}
