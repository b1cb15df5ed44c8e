// An ES256 device signer written in Kotlin through java.security, used by the Rust wallet.
package io.vaxpass

import java.time.Duration
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import org.junit.Test

class DeviceSignerTest {
    @Test
    fun walletWithAKotlinEs256SignerPassesTheFullScenario(): Unit = TestWorld().use { world ->
        val signer = JcaP256Signer()
        val publicKey = signer.publicKey()
        assertEquals(65, publicKey.size)
        assertEquals(0x04.toByte(), publicKey[0])

        val path = world.path("wallet.sqlite")
        Wallet.openWithSigner(path, signer, BootClock).use { wallet ->
            // The wallet reports the key in SEC1 compressed form: 0x02 or 0x03 (parity of y), then x.
            val compressed = byteArrayOf((2 + (publicKey[64].toInt() and 1)).toByte()) + publicKey.copyOfRange(1, 33)
            assertContentEquals(compressed, wallet.devicePublicKey())
            val pass = world.enrol(wallet) // the enrolment request is signed by the Kotlin signer
            val before = signer.signatures.get()
            assertTrue(before >= 1, "the enrolment request was signed")

            val shown = wallet.presentation(pass.id, world.now)
            assertEquals(before + 1, signer.signatures.get())
            assertValidFor(world.verifier.verify(shown.text(), world.now))
            assertRefused(world.verifier.verify(shown.text(), world.now + Duration.ofMinutes(10)), Reason.PresentationTooOld)
            assertRefused(world.verifier.verify(ScenarioTest.tamper(shown.text()), world.now), Reason.BadSignature)
        }

        // The wallet is bound to this key: reopening with the same signer works, another is refused.
        Wallet.openWithSigner(path, signer, BootClock).use { wallet ->
            val pass = wallet.passes().single()
            assertValidFor(world.verifier.verify(wallet.presentation(pass.id, world.now).text(), world.now))
        }
        assertFailsWith<VaxpassException.WrongState> { Wallet.openWithSigner(path, JcaP256Signer(), BootClock) }
    }
}
