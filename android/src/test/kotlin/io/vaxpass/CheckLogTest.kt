// The shop's check log: every verdict logged, the counters, a report exported and verified as an
// inspector would, good and tampered.
package io.vaxpass

import java.time.Duration
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertTrue
import org.junit.After
import org.junit.Test

class CheckLogTest {
    private val world = TestWorld()
    private val wallet = Wallet.open(world.path("wallet.sqlite"), null, BootClock)
    private val pass = world.enrol(wallet)
    private val tooLate = world.now + Duration.ofMinutes(10)

    @After
    fun tearDown() {
        wallet.close()
        world.close()
    }

    /** A live pass, a garbage scan and a screenshot ten minutes late: 1 valid, 2 refused. */
    private fun door() {
        val screenshot = wallet.presentation(pass.id, world.now).text()
        assertValidFor(world.verifier.verify(screenshot, world.now))
        assertRefused(world.verifier.verify("not a QR text", world.now), Reason.Malformed)
        assertRefused(world.verifier.verify(screenshot, tooLate), Reason.PresentationTooOld)
    }

    @Test
    fun everyVerdictIsInTheLogAndTheCounters() {
        assertEquals(0L, world.verifier.checkLogHead().count)
        door()
        val head = world.verifier.checkLogHead()
        assertEquals(3L, head.count)
        assertEquals(32, head.hash.size)
        val status = assertIs<LogStatus.Intact>(world.verifier.checkLogStatus())
        assertEquals(3L, status.head.count)
        assertContentEquals(head.hash, status.head.hash)
        val counters = world.verifier.checkCounters(tooLate)
        for (tally in listOf(counters.thisHour, counters.today)) {
            assertEquals(Triple(3L, 1L, 2L), Triple(tally.scans, tally.valid, tally.refused))
            assertEquals(
                listOf(CodeCount("malformed", 1L), CodeCount("presentation_too_old", 1L)),
                tally.byReason,
            )
        }
        assertEquals(Duration.ofDays(28), defaultVerifierConfig().logRetention)
    }

    @Test
    fun anExportedReportVerifiesOfflineAndSaysWhatItProves() {
        door()
        val later = tooLate + Duration.ofMinutes(1)
        val report = world.verifier.exportReport(world.now - Duration.ofHours(1), later, later)
        val shopKey = world.verifier.shopPublicKey()
        val anchor = world.verifier.anchor(later) // posted to the authority at anchorPath()
        assertEquals("/v1/anchors", anchorPath())
        val proof = assertIs<ReportCheck.Proven>(verifyReport(report, shopKey, anchor)).proof
        assertEquals(listOf(3L, 1L, 2L, 0L), listOf(proof.checks, proof.valid, proof.refused, proof.idChecks))
        assertContentEquals(shopKey, proof.shopKey)
        assertTrue(proof.listsFresh)
        assertEquals(AnchorCheck.Matches(3L), proof.anchor)
        assertEquals(3L, proof.head.count)
        assertTrue("checked 3 passes" in proof.sentence && "2 refused" in proof.sentence, proof.sentence)
        assertTrue("KST" in proof.sentence, proof.sentence)
        assertFalse(PERSON.name in proof.sentence, proof.sentence)
        val unanchored = assertIs<ReportCheck.Proven>(verifyReport(report, null, null)).proof
        assertEquals(AnchorCheck.NotGiven, unanchored.anchor)
    }

    @Test
    fun aTamperedOrForeignReportIsRefusedWithAReason() {
        door()
        val report = world.verifier.exportReport(world.now - Duration.ofHours(1), tooLate, tooLate)
        val tampered = report.copyOf().also { it[it.size / 2] = (it[it.size / 2].toInt() xor 1).toByte() }
        val refused = assertIs<ReportCheck.Refused>(verifyReport(tampered, null, null))
        assertTrue(refused.code.isNotEmpty() && refused.detail.isNotEmpty())
        Verifier.open(world.path("other.sqlite"), world.rootPublicKey, defaultVerifierConfig()).use { other ->
            val foreign = assertIs<ReportCheck.Refused>(verifyReport(report, other.shopPublicKey(), null))
            assertEquals(ReportRefused.WrongKey, foreign.reason)
            assertEquals("wrong_key", foreign.code)
        }
        assertIs<ReportCheck.Refused>(verifyReport(report.copyOf(report.size - 10), null, null))
    }

    @Test
    fun theShopKeyIsWrappedByTheAppsProtectorOrIsAPlatformKey() {
        val config = defaultVerifierConfig()
        val protector = AesGcmKeyProtector()
        val path = world.path("protected-shop.sqlite")
        val key = Verifier.openWithShopKeyProtector(path, world.rootPublicKey, config, protector).use { it.shopPublicKey() }
        assertEquals(1, protector.wraps.get())
        Verifier.openWithShopKeyProtector(path, world.rootPublicKey, config, protector).use {
            assertContentEquals(key, it.shopPublicKey())
        }
        // Another protector cannot unwrap it: the reports cannot be signed, but the shop still verifies.
        Verifier.openWithShopKeyProtector(path, world.rootPublicKey, config, AesGcmKeyProtector()).use { shop ->
            assertFailsWith<VaxpassException.DeviceKeyUnavailable> { shop.shopPublicKey() }
            assertRefused(shop.verify("not a QR text", world.now), Reason.NoTrustList)
        }
        Verifier.openWithShopSigner(world.path("platform-shop.sqlite"), world.rootPublicKey, config, JcaP256Signer()).use { shop ->
            shop.applyTrustList(world.trustList, world.now)
            shop.applyRulesList(world.rulesList, world.now)
            assertRefused(shop.verify("not a QR text", world.now), Reason.Malformed)
            val shopKey = shop.shopPublicKey()
            assertEquals(33, shopKey.size, "a P-256 shop key, compressed")
            val report = shop.exportReport(world.now - Duration.ofHours(1), world.now, world.now)
            val proof = assertIs<ReportCheck.Proven>(verifyReport(report, shopKey, shop.anchor(world.now))).proof
            assertEquals(1L, proof.checks)
        }
    }
}
