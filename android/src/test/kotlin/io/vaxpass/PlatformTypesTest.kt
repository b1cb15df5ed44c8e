// The types a platform developer expects: java.time.Duration periods, signed Int/Long refused when
// out of range (never wrapped), and a QR bitmap an image API takes in one call.
package io.vaxpass

import java.awt.image.BufferedImage
import java.io.ByteArrayInputStream
import java.time.Duration
import javax.imageio.ImageIO
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import org.junit.After
import org.junit.Test

class PlatformTypesTest {
    private val world = TestWorld()

    @After
    fun tearDown() = world.close()

    @Test
    fun aDurationBecomesTheListsValidityAndTheDefaultsComeBackAsDurations() {
        val issuedAt = world.now - Duration.ofMinutes(30)
        val list = world.authority.trustList(issuedAt, Duration.ofHours(36))
        Verifier.open(world.path("shop.sqlite"), world.rootPublicKey, defaultVerifierConfig()).use { shop ->
            assertEquals(Applied.Updated(2L), shop.applyTrustList(list, world.now))
            val info = assertNotNull(shop.freshness(world.now).trustList)
            assertEquals(issuedAt, info.issuedAt)
            assertEquals(issuedAt + Duration.ofHours(36), info.nextUpdate)
            assertEquals(2L, info.sequence)
        }
        val config = defaultVerifierConfig()
        assertEquals(Duration.ofSeconds(60), config.clockLeeway)
        assertEquals(Duration.ofSeconds(60), config.presentationWindow)
        assertEquals(Duration.ofHours(36), config.warnAfter)
        assertEquals(Duration.ofDays(7), config.failAfter)
        assertEquals(null, config.offlineRulesList, "no rules are compiled in")
    }

    @Test
    fun negativeAndOverflowingValuesAreRefusedWithATypedError() {
        for (validFor in listOf(Duration.ofSeconds(-1), Duration.ofSeconds(Long.MAX_VALUE), Duration.ofDays(365L * 20_000))) {
            assertFailsWith<VaxpassException.InvalidArgument>("$validFor") { world.authority.trustList(world.now, validFor) }
        }
        val negativeLeeway = defaultVerifierConfig().copy(clockLeeway = Duration.ofMillis(-1))
        assertFailsWith<VaxpassException.InvalidArgument> {
            Verifier.open(world.path("negative.sqlite"), world.rootPublicKey, negativeLeeway)
        }
        val notRules = defaultVerifierConfig().copy(offlineRulesList = "not a rules list".encodeToByteArray())
        assertFailsWith<VaxpassException.ListRefused> {
            Verifier.open(world.path("rules.sqlite"), world.rootPublicKey, notRules)
        }
        val qr = Qr.encode("VP1:ABCDEFGHIJKLMNOPQRSTU", EcLevel.M)
        for (size in listOf(-1, 0, 65, Int.MIN_VALUE)) {
            assertFailsWith<VaxpassException.InvalidArgument>("$size") { qr.png(size) }
            assertFailsWith<VaxpassException.InvalidArgument>("$size") { qr.bitmap(size) }
        }
        val tooManyDoses = Event.Vaccination(Product.COMIRNATY, dose = 256, of = 2, date = "2021-06-20")
        val negativeDose = Event.Vaccination(Product.COMIRNATY, dose = -1, of = 2, date = "2021-06-20")
        for (event in listOf(tooManyDoses, negativeDose)) {
            assertFailsWith<VaxpassException.InvalidArgument> {
                world.authority.issue(PERSON, listOf(event), softwareP256Signer().publicKey(), world.now, world.now + Duration.ofDays(1), world.now)
            }
        }
    }

    @Test
    fun theQrBitmapIsABufferedImageInOneCallAndMatchesThePng() {
        val qr = Qr.encode("VP1:ABCDEFGHIJKLMNOPQRSTU", EcLevel.M)
        val bitmap = qr.bitmap(4)
        val image = BufferedImage(bitmap.width, bitmap.height, BufferedImage.TYPE_BYTE_GRAY)
        image.raster.setDataElements(0, 0, bitmap.width, bitmap.height, bitmap.pixels)

        assertEquals((qr.width() + 8) * 4, image.width)
        assertEquals(image.width, image.height)
        assertEquals(0xFFFFFFFF.toInt(), image.getRGB(0, 0)) // the quiet zone is light
        assertEquals(0xFF000000.toInt(), image.getRGB(16, 16)) // the finder pattern's corner is dark
        val png = ImageIO.read(ByteArrayInputStream(qr.png(4)))
        for (y in 0 until image.height) {
            for (x in 0 until image.width) {
                assertEquals(png.getRGB(x, y), image.getRGB(x, y), "pixel $x,$y")
            }
        }
    }
}
