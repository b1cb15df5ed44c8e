// The shop's door kit: "seen a minute ago", and each verdict's cue and words.
package io.vaxpass

import java.time.Duration
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertIs
import org.junit.After
import org.junit.Test

class DoorTest {
    private val world = TestWorld()
    private val wallet = Wallet.open(world.path("wallet.sqlite"), null, BootClock)
    private val pass = world.enrol(wallet)

    @After
    fun tearDown() {
        wallet.close()
        world.close()
    }

    private fun verifyAt(verifier: Verifier, minutes: Long): Verdict {
        val at = world.now + Duration.ofMinutes(minutes)
        return verifier.verify(wallet.presentation(pass.id, at).text(), at)
    }

    @Test
    fun aPassShownAgainWithinTheSeenWindowIsFlaggedAndCued() {
        val first = assertValidFor(verifyAt(world.verifier, 0))
        assertEquals(emptyList(), first.warnings)
        assertEquals(Cue.VALID, verdictCue(first))
        // A fresh code of the same pass four minutes later: one pass for two people.
        val again = assertValidFor(verifyAt(world.verifier, 4))
        assertEquals(listOf(Warning.SEEN_RECENTLY), again.warnings)
        assertEquals("seen_recently", warningCode(Warning.SEEN_RECENTLY))
        assertEquals(Cue.SEEN_RECENTLY, verdictCue(again))
        assertEquals("seen_recently", cueCode(Cue.SEEN_RECENTLY))
        assertEquals("Valid. Seen recently: look again.", verdictText(again, Language.ENGLISH))
        // Ten minutes after the last valid verdict the pass is forgotten (the paper pass: the
        // wallet signs no code that far past the time it trusts).
        val after = world.now + Duration.ofMinutes(14)
        val paper = assertValidFor(world.verifier.verify(wallet.paper(pass.id).text(), after), paper = true)
        assertEquals(emptyList(), paper.warnings)
    }

    @Test
    fun theSeenWindowIsConfigurableAndZeroTurnsItOff() {
        assertEquals(Duration.ofMinutes(10), defaultVerifierConfig().seenWindow)
        val off = defaultVerifierConfig().copy(seenWindow = Duration.ZERO)
        Verifier.open(world.path("off.sqlite"), world.rootPublicKey, off).use { shop ->
            shop.applyTrustList(world.trustList, world.now)
            shop.applyRevocationList(world.revocationList, world.now)
            shop.applyRulesList(world.rulesList, world.now)
            repeat(2) { assertEquals(emptyList(), assertValidFor(verifyAt(shop, 0)).warnings) }
        }
        val negative = defaultVerifierConfig().copy(seenWindow = Duration.ofSeconds(-1))
        assertFailsWith<VaxpassException.InvalidArgument> {
            Verifier.open(world.path("negative.sqlite"), world.rootPublicKey, negative)
        }
    }

    @Test
    fun everyVerdictHasACueAndKoreanAndEnglishWordsNamingNobody() {
        val paper = world.verifier.verify(wallet.paper(pass.id).text(), world.now)
        assertValidFor(paper, paper = true)
        assertEquals(Cue.CHECK_ID, verdictCue(paper))
        assertEquals("유효해요. 신분증을 확인해 주세요.", verdictText(paper, Language.KOREAN))
        val refused = world.verifier.verify(wallet.presentation(pass.id, world.now).text(), world.now + Duration.ofMinutes(10))
        assertIs<Verdict.NotValid>(refused)
        assertEquals(Cue.REFUSED, verdictCue(refused))
        assertEquals(
            "유효하지 않아요. " + reasonText(refused.reason, Language.KOREAN),
            verdictText(refused, Language.KOREAN),
        )
        assertEquals("유효기간이 지났어요.", reasonText(Reason.Expired, Language.KOREAN))
        for (verdict in listOf(paper, refused)) {
            for (language in Language.entries) {
                val text = verdictText(verdict, language)
                assertFalse(PERSON.name in text || "1985" in text, text)
            }
        }
        val texts = Warning.entries.flatMap { w -> Language.entries.map { warningText(w, it) } }
        assertEquals(texts.size, texts.toSet().size)
    }
}
