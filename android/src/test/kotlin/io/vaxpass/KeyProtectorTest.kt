// A key protector written in Kotlin, used by the Rust wallet for real.
package io.vaxpass

import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import org.junit.Test

class KeyProtectorTest {
    @Test
    fun walletKeyIsWrappedByTheAppAndOnlyOpensWithIt(): Unit = TestWorld().use { world ->
        val path = world.path("wallet.sqlite")
        val protector = AesGcmKeyProtector()

        val deviceKey = Wallet.open(path, protector, BootClock).use { wallet ->
            assertEquals(1, protector.wraps.get(), "a new wallet wraps its new key once")
            assertEquals(0, protector.unwraps.get())
            val pass = world.enrol(wallet)
            assertValidFor(world.verifier.verify(wallet.presentation(pass.id, world.now).text(), world.now))
            wallet.devicePublicKey()
        }
        assertEquals(32, deviceKey.size) // Ed25519

        // Reopened with the protector: the key is unwrapped, not made anew, and still signs.
        Wallet.open(path, protector, BootClock).use { wallet ->
            assertEquals(1, protector.wraps.get())
            assertEquals(1, protector.unwraps.get())
            assertContentEquals(deviceKey, wallet.devicePublicKey())
            val pass = wallet.passes().single()
            assertValidFor(world.verifier.verify(wallet.presentation(pass.id, world.now).text(), world.now))
        }

        // Without the protector, the stored bytes are not a key.
        assertFailsWith<VaxpassException.DeviceKeyUnavailable> { Wallet.open(path, null, BootClock) }
        // With another AES key, AES-GCM refuses to decrypt, and the protector says the key is gone.
        val stranger = AesGcmKeyProtector()
        assertFailsWith<VaxpassException.DeviceKeyUnavailable> { Wallet.open(path, stranger, BootClock) }
        assertEquals(1, stranger.unwraps.get())
        assertEquals(0, stranger.wraps.get())
        // Nothing was overwritten: the right protector still opens it.
        Wallet.open(path, protector, BootClock).use { wallet ->
            assertContentEquals(deviceKey, wallet.devicePublicKey())
            assertFalse(wallet.passes().isEmpty())
        }
        assertEquals(2, protector.unwraps.get())
    }
}
