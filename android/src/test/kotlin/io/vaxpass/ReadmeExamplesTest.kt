// The README's two Kotlin examples, compiled and run. The lines between the `README:*:begin` and
// `README:*:end` markers are copied into the README verbatim; the fakes around them stand in for
// the app's network layer, camera and views. These run on the real clock, as an app does.
package io.vaxpass

import java.io.File
import java.time.Duration
import java.time.Instant
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import org.junit.After
import org.junit.Test

class ReadmeExamplesTest {
    private val world = TestWorld(now = Instant.now())
    private val filesDir: File = world.dir.toFile()
    private val rootPublicKey: ByteArray = world.rootPublicKey

    /** The issuer's HTTP API as the app sees it; here the authority runs in-process. */
    private inner class IssuerApi {
        private var nonce = ByteArray(0)
        fun nonce(): ByteArray = newNonce().also { nonce = it }
        fun enrol(request: ByteArray): ByteArray = world.answer(request, nonce)
        fun trustList(): ByteArray = world.trustList
        fun revocationList(): ByteArray = world.revocationList
        fun rulesList(): ByteArray = world.rulesList
    }

    /** A view that shows the QR image and remembers when to show the next one. */
    private class QrView {
        var png: ByteArray? = null
        var refreshAt: Instant? = null
        fun show(png: ByteArray) { this.png = png }
        fun scheduleRefresh(at: Instant?) { refreshAt = at }
    }

    /** The camera: delivers each scanned QR text to the handler. */
    private class Scanner(private val codes: List<String>) {
        fun onScan(handler: (String) -> Unit) = codes.forEach(handler)
    }

    /** The shop's screen. */
    private class Screen {
        val lines = mutableListOf<String>()
        fun showValid(name: String, dateOfBirth: String) { lines += "VALID $name $dateOfBirth" }
        fun askForId(name: String, dateOfBirth: String) { lines += "ID CHECK $name $dateOfBirth" }
        fun showRefused(reason: String?) { lines += "REFUSED $reason" }
        fun showExempt() { lines += "EXEMPT" }
    }

    /**
     * The app's monotonic clock. On Android:
     * `override fun elapsedSinceBoot() = Duration.ofMillis(SystemClock.elapsedRealtime())`;
     * on the JVM, where there is no `SystemClock`, `System.nanoTime()` stands in.
     */
    private object ElapsedRealtimeClock : MonotonicClock {
        override fun elapsedSinceBoot(): Duration = Duration.ofNanos(System.nanoTime())
    }

    private val issuer = IssuerApi()

    @After
    fun tearDown() = world.close()

    @Test
    fun citizen() {
        val keyProtector = AesGcmKeyProtector() // in an app: an Android Keystore AES key
        val identityProof = "proof from the identity check".encodeToByteArray()
        val qrView = QrView()

        // README:citizen:begin
        // Once, online: the issuer checks who you are and binds a pass to this phone's key.
        val wallet = Wallet.open("$filesDir/wallet.sqlite", keyProtector, ElapsedRealtimeClock)
        val request = wallet.enrolmentRequest(issuer.nonce(), identityProof)
        val trustList = TrustList.verify(issuer.trustList(), rootPublicKey)
        val pass = wallet.importPasses(issuer.enrol(request), trustList, Instant.now()).single()

        // At the door, no network needed: show a fresh code, and a new one at refreshAt (30 s).
        val shown = wallet.presentationNow(pass.id)
        qrView.show(shown.qr().png(8)) // or draw shown.qr().bitmap(1), 8-bit grey, scaled up
        qrView.scheduleRefresh(shown.refreshAt())
        // README:citizen:end

        wallet.use {
            assertEquals(1, keyProtector.wraps.get())
            val png = assertNotNull(qrView.png)
            assertContentEquals(byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte()), png.copyOf(4))
            val refreshAt = assertNotNull(qrView.refreshAt)
            assertTrue(refreshAt > Instant.now() - Duration.ofSeconds(30) && refreshAt <= Instant.now() + Duration.ofSeconds(30))
            assertValidFor(world.verifier.verifyNow(shown.text()))
        }
    }

    @Test
    fun shop() {
        val (presented, paper) = Wallet.open(world.path("citizen.sqlite"), null, BootClock).use { wallet ->
            val pass = world.enrol(wallet)
            wallet.presentationNow(pass.id).text() to wallet.paper(pass.id).text()
        }
        val scanner = Scanner(listOf(presented, paper, ScenarioTest.tamper(presented)))
        val screen = Screen()

        // README:shop:begin
        val verifier = Verifier.open("$filesDir/verifier.sqlite", rootPublicKey, defaultVerifierConfig())

        // When online (at start-up, then hourly): apply the signed lists; forged or older ones throw.
        verifier.applyTrustList(issuer.trustList(), Instant.now())
        verifier.applyRevocationList(issuer.revocationList(), Instant.now())
        verifier.applyRulesList(issuer.rulesList(), Instant.now()) // what a pass must show, by date and mode

        // At the door, offline: judge each scanned code.
        scanner.onScan { scannedText ->
            when (val verdict = verifier.verifyNow(scannedText)) {
                is Verdict.Valid -> if (verdict.idCheckRequired) {
                    // A paper pass (or a screenshot rebuilt into one) is not tied to a phone.
                    screen.askForId(verdict.holder.name(), verdict.holder.dateOfBirth()) // only with a matching ID
                } else {
                    screen.showValid(verdict.holder.name(), verdict.holder.dateOfBirth()) // compare with the person
                }
                is Verdict.NotValid -> screen.showRefused(verdict.reason.code) // e.g. "presentation_too_old"
                is Verdict.Exempt -> screen.showExempt() // the shop's venue mode needs no pass
            }
        }
        // README:shop:end

        verifier.use {
            assertEquals(
                listOf("VALID 김민준 1985-03-14", "ID CHECK 김민준 1985-03-14", "REFUSED bad_signature"),
                screen.lines,
            )
            assertEquals(FreshnessState.FRESH, verifier.freshness(Instant.now()).state)
        }
    }
}
