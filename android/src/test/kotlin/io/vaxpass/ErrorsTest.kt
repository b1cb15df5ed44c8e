// Every public error variant, each produced by a real call, and what an app does with each.
package io.vaxpass

import java.io.RandomAccessFile
import java.time.Duration
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.fail
import org.junit.Test

class ErrorsTest {
    /** A key protector with a bug: it throws an exception that is not a [VaxpassException]. */
    private object BrokenProtector : KeyProtector {
        override fun wrap(secret: ByteArray): ByteArray = throw IllegalStateException("bug in the app's protector")
        override fun unwrap(wrapped: ByteArray): ByteArray = throw IllegalStateException("bug in the app's protector")
    }

    /**
     * What an app does with each error. Exhaustive with no `else`: a new variant does not compile
     * here until the app (this test) decides what to do with it.
     */
    private fun action(e: VaxpassException): String = when (e) {
        is VaxpassException.NotVaxpass -> "show: not a vaxpass code"
        is VaxpassException.Refused -> "show: ${e.reason.code}"
        is VaxpassException.ListRefused -> "keep the old list"
        is VaxpassException.UpdateRequired -> "ask for an app update"
        is VaxpassException.DeviceKeyUnavailable -> "re-enrol"
        is VaxpassException.ClockNotTrusted -> "go online"
        is VaxpassException.InvalidArgument -> "report a bug"
        is VaxpassException.WrongState -> "report a bug"
        is VaxpassException.Storage -> "storage failed"
        is VaxpassException.Internal -> "report a bug"
    }

    private val seen = mutableMapOf<String, String>()

    private inline fun <reified E : VaxpassException> expect(call: () -> Unit): E {
        val error = try {
            call()
            null
        } catch (e: VaxpassException) {
            e
        }
        val typed = error as? E ?: fail("expected ${E::class.simpleName}, got $error")
        assertFalse(typed.message.orEmpty().contains(PERSON.name), "no personal data in an error")
        seen[E::class.simpleName!!] = action(typed)
        return typed
    }

    @Test
    fun everyErrorVariantComesFromARealCallAndSaysWhatToDo(): Unit = TestWorld().use { world ->
        val wallet = Wallet.open(world.path("wallet.sqlite"), null, BootClock)
        val pass = world.enrol(wallet)

        // Not a vaxpass code: garbage instead of an enrolment answer.
        expect<VaxpassException.NotVaxpass> { wallet.importPasses(ByteArray(64) { 7 }, null, world.now) }
        // Refused with the verifier's reason: a pass bound to another phone.
        Wallet.open(world.path("other.sqlite"), null, BootClock).use { other ->
            val nonce = newNonce()
            val bundle = world.answer(other.enrolmentRequest(nonce, "proof".encodeToByteArray()), nonce)
            val refused = TrustList.verify(world.trustList, world.rootPublicKey).use { trust ->
                expect<VaxpassException.Refused> { wallet.importPasses(bundle, trust, world.now) }
            }
            assertEquals(Reason.WrongDevice, refused.reason)
        }
        // A list refused, the old one kept: an older list after a newer one.
        world.verifier.applyTrustList(world.authority.trustList(world.now, LIST_VALIDITY), world.now)
        expect<VaxpassException.ListRefused> { world.verifier.applyTrustList(world.trustList, world.now) }
        // Update the app: a store whose schema version (SQLite header bytes 60..63) is newer.
        val newer = world.path("newer.sqlite")
        Verifier.open(newer, world.rootPublicKey, defaultVerifierConfig()).close()
        RandomAccessFile(newer, "rw").use { file ->
            file.seek(60)
            file.writeInt(9_999)
        }
        expect<VaxpassException.UpdateRequired> { Verifier.open(newer, world.rootPublicKey, defaultVerifierConfig()) }
        // The device key is gone: a protected wallet opened with another key.
        val protected = world.path("protected.sqlite")
        Wallet.open(protected, AesGcmKeyProtector(), BootClock).close()
        expect<VaxpassException.DeviceKeyUnavailable> { Wallet.open(protected, AesGcmKeyProtector(), BootClock) }
        // The clock is not trusted: a code for a day past the last trusted time.
        expect<VaxpassException.ClockNotTrusted> { wallet.presentation(pass.id, world.now + Duration.ofDays(1)) }
        // Bugs in the app: a bad argument, and a call that does not fit the wallet's state.
        expect<VaxpassException.InvalidArgument> { wallet.presentation("not-an-id", world.now) }
        expect<VaxpassException.WrongState> { Wallet.openWithSigner(protected, JcaP256Signer(), BootClock) }
        // Storage: a database in a directory that does not exist.
        expect<VaxpassException.Storage> { Wallet.open(world.path("no such directory/wallet.sqlite"), null, BootClock) }
        // Internal: an app callback throwing an exception of another type; its text is dropped.
        val internal = expect<VaxpassException.Internal> { Wallet.open(world.path("broken.sqlite"), BrokenProtector, BootClock) }
        assertFalse(internal.detail.contains("bug in the app"), internal.detail)

        assertEquals(
            setOf(
                "NotVaxpass", "Refused", "ListRefused", "UpdateRequired", "DeviceKeyUnavailable",
                "ClockNotTrusted", "InvalidArgument", "WrongState", "Storage", "Internal",
            ),
            seen.keys,
        )
        assertEquals("show: wrong_device", seen["Refused"])
        // Nothing broke along the way.
        assertValidFor(world.verifier.verify(wallet.presentation(pass.id, world.now).text(), world.now))
        wallet.close()
    }
}
