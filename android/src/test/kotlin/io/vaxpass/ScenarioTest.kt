// The acceptance scenario: issue, enrol, show, verify; then a tampered code and a screenshot.
package io.vaxpass

import java.time.Duration
import kotlin.test.assertEquals
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlin.test.fail
import org.junit.After
import org.junit.Test

class ScenarioTest {
    private val world = TestWorld()
    private val wallet = Wallet.open(world.path("wallet.sqlite"), null, BootClock)
    private val pass = world.enrol(wallet)

    @After
    fun tearDown() {
        wallet.close()
        world.close()
    }

    @Test
    fun enrolledWalletShowsAPassTheVerifierAccepts() {
        assertEquals(PassKind.VACCINATION, pass.kind)
        assertEquals(PERSON.name, pass.holder.name())
        assertEquals(listOf(pass.id), wallet.passes().map { it.id })

        val shown = wallet.presentation(pass.id, world.now)
        assertTrue(shown.text().startsWith("VP1:"))
        assertEquals(false, shown.idCheckRequired())
        val refreshAt = assertNotNull(shown.refreshAt())
        assertTrue(refreshAt > world.now && refreshAt <= world.now + Duration.ofSeconds(30), "refreshAt $refreshAt")
        assertTrue(shown.qr().width() > 0)

        when (val verdict = world.verifier.verify(shown.text(), world.now)) {
            is Verdict.Valid -> {
                assertEquals("김민준", verdict.holder.name())
                assertEquals("1985-03-14", verdict.holder.dateOfBirth())
                assertEquals(false, verdict.idCheckRequired)
                assertEquals(emptyList<Warning>(), verdict.warnings)
            }
            is Verdict.NotValid -> fail("expected valid, got ${verdict.reason.code}")
            is Verdict.Exempt -> fail("expected valid, got exempt")
        }
    }

    @Test
    fun aPaperPassIsValidOnlyWithAnIdCheck() {
        val paper = wallet.paper(pass.id)
        assertTrue(paper.text().startsWith("VC1:"))
        assertEquals(true, paper.idCheckRequired())
        when (val verdict = world.verifier.verify(paper.text(), world.now + Duration.ofDays(3))) {
            is Verdict.Valid -> {
                assertTrue(verdict.idCheckRequired, "a paper pass carries no device signature")
                assertEquals(PERSON.name, verdict.holder.name())
            }
            is Verdict.NotValid -> fail("expected valid with an ID check, got ${verdict.reason.code}")
            is Verdict.Exempt -> fail("expected valid with an ID check, got exempt")
        }
    }

    @Test
    fun tamperedCodeIsNotValidBecauseOfTheSignature() {
        val text = wallet.presentation(pass.id, world.now).text()
        val tampered = tamper(text)
        assertNotEquals(text, tampered)
        assertEquals(text.length, tampered.length)

        when (val verdict = world.verifier.verify(tampered, world.now)) {
            is Verdict.NotValid -> assertEquals("bad_signature", verdict.reason.code)
            is Verdict.Valid -> fail("a tampered code must not be valid")
            is Verdict.Exempt -> fail("the shop's mode needs a pass")
        }
    }

    @Test
    fun screenshotReplayedTenMinutesLaterIsTooOld() {
        val screenshot = wallet.presentation(pass.id, world.now).text()
        assertValidFor(world.verifier.verify(screenshot, world.now))

        val verdict = world.verifier.verify(screenshot, world.now + Duration.ofMinutes(10))
        assertRefused(verdict, Reason.PresentationTooOld)
        assertEquals("presentation_too_old", (verdict as Verdict.NotValid).reason.code)
    }

    @Test
    fun aFreshPresentationEveryRotationIsValid() {
        val first = wallet.presentation(pass.id, world.now)
        val later = world.now + Duration.ofSeconds(30)
        val second = wallet.presentation(pass.id, later)
        assertNotEquals(first.text(), second.text())
        assertValidFor(world.verifier.verify(second.text(), later))
    }

    companion object {
        /**
         * Changes base45 body characters [30, 33) of a `VP1:` text: they encode bytes 20 and 21 of
         * the CBOR, inside the credential's `exp` claim, so the text still parses but the issuer's
         * signature no longer matches.
         */
        fun tamper(text: String): String {
            val body = text.removePrefix("VP1:")
            require(body.length != text.length) { "not a VP1 text" }
            val replacement = if (body.substring(30, 33) == "000") "100" else "000"
            return "VP1:" + body.replaceRange(30, 33, replacement)
        }
    }
}
