// A key protector and a device signer written in Kotlin over javax.crypto / java.security: the
// shapes an app gives the SDK for the Android Keystore (a Keystore AES key, or a Keystore EC key).
package io.vaxpass

import java.math.BigInteger
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.util.concurrent.atomic.AtomicInteger
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/** Wraps the wallet's device key with AES-256-GCM: a 12-byte IV, then ciphertext and tag. */
class AesGcmKeyProtector(private val key: SecretKey = newKey()) : KeyProtector {
    val wraps = AtomicInteger()
    val unwraps = AtomicInteger()

    override fun wrap(secret: ByteArray): ByteArray {
        wraps.incrementAndGet()
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, key) // the provider picks a random 12-byte IV
        cipher.updateAAD(AAD)
        return cipher.iv + cipher.doFinal(secret)
    }

    override fun unwrap(wrapped: ByteArray): ByteArray {
        unwraps.incrementAndGet()
        if (wrapped.size < IV_BYTES + TAG_BITS / 8) throw VaxpassException.DeviceKeyUnavailable("wrapped key too short")
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, wrapped, 0, IV_BYTES))
        cipher.updateAAD(AAD)
        // The platform's exception says the key is gone: tell the SDK so (any other exception
        // type would reach the app as Internal, a bug).
        return try {
            cipher.doFinal(wrapped, IV_BYTES, wrapped.size - IV_BYTES)
        } catch (e: AEADBadTagException) {
            throw VaxpassException.DeviceKeyUnavailable("the device key does not decrypt with this key")
        }
    }

    companion object {
        private const val TRANSFORMATION = "AES/GCM/NoPadding"
        private const val IV_BYTES = 12
        private const val TAG_BITS = 128
        private val AAD = "vaxpass device key".encodeToByteArray()

        fun newKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    }
}

/** ES256 with a P-256 key from java.security: SEC1 public key, IEEE P1363 (r || s) signatures. */
class JcaP256Signer : DeviceSigner {
    private val keyPair: KeyPair = KeyPairGenerator.getInstance("EC")
        .apply { initialize(ECGenParameterSpec("secp256r1")) }
        .generateKeyPair()
    val signatures = AtomicInteger()

    /** 65 bytes: 0x04, then x and y, each left-padded to 32 bytes. */
    override fun publicKey(): ByteArray {
        val point = (keyPair.public as ECPublicKey).w
        return byteArrayOf(0x04) + point.affineX.toUnsigned32() + point.affineY.toUnsigned32()
    }

    /** 64 bytes r || s, not DER. */
    override fun sign(message: ByteArray): ByteArray {
        signatures.incrementAndGet()
        return Signature.getInstance("SHA256withECDSAinP1363Format").run {
            initSign(keyPair.private)
            update(message)
            sign()
        }
    }
}

/** A coordinate as exactly 32 big-endian bytes (BigInteger may add a sign byte or be shorter). */
private fun BigInteger.toUnsigned32(): ByteArray {
    val bytes = toByteArray()
    return when {
        bytes.size == 32 -> bytes
        bytes.size > 32 -> bytes.copyOfRange(bytes.size - 32, bytes.size)
        else -> ByteArray(32 - bytes.size) + bytes
    }
}
