// The rules come as a signed list: an update changes the verdict, the shop's venue mode is a
// stored setting, every verdict carries the rules it was judged under, and the wallet says when
// a pass works.
package io.vaxpass

import java.time.Duration
import java.time.Instant
import java.time.OffsetDateTime
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertIs
import kotlin.test.assertNull
import kotlin.test.assertTrue

private val CAFE_AND_EXEMPT = listOf(TestMode("restaurant_cafe", exempt = false), TestMode("exempt", exempt = true))

private fun ruleSet(
    takesEffect: String,
    primaryValidDays: Int?,
    daysAfterPrimary: Int = 14,
    boosterValidDays: Int? = null,
    modes: List<TestMode> = CAFE_AND_EXEMPT,
) = TestRuleSet(takesEffect, daysAfterPrimary, primaryValidDays, boosterValidDays, modes)

private fun kstMidnight(date: String): Instant = OffsetDateTime.parse("${date}T00:00:00+09:00").toInstant()

class RulesTest {
    @Test
    fun aRulesUpdateChangesTheVerdictAndTheVerdictCarriesItsRules(): Unit = TestWorld().use { world ->
        Wallet.open(world.path("wallet.sqlite"), null, BootClock).use { wallet ->
            val pass = world.enrol(wallet)
            val text = wallet.presentation(pass.id, world.now).text()
            val first = assertValidFor(world.verifier.verify(text, world.now)).rules
            assertEquals("restaurant_cafe", first.mode)
            assertEquals(false, first.offlineDefault)
            // The booster of 1 December is 12 days old: a 10-day booster limit ends the pass.
            val tightened = world.authority.rulesListOf(
                listOf(ruleSet("2021-12-01", 180, boosterValidDays = 10)),
                world.now - Duration.ofHours(1),
                LIST_VALIDITY,
            )
            val applied = assertIs<Applied.Updated>(world.verifier.applyRulesList(tightened, world.now))
            val refused = assertIs<Verdict.NotValid>(world.verifier.verify(text, world.now))
            assertEquals(Reason.PolicyNotMet(PolicyRule.VACCINATION_EXPIRED), refused.reason)
            assertEquals(
                "primary series older than 180 days with no booster, or booster older than 10 days",
                refused.ruleText,
            )
            val rules = refused.rules!!
            assertEquals(applied.sequence, rules.sequence)
            assertTrue(rules.sequence > first.sequence)
            assertEquals("2021-12-01", rules.takesEffect)
            assertEquals("restaurant_cafe", rules.mode)
        }
    }

    @Test
    fun withoutARulesListNoPassIsValid(): Unit = TestWorld().use { world ->
        Wallet.open(world.path("wallet.sqlite"), null, BootClock).use { wallet ->
            val pass = world.enrol(wallet)
            Verifier.open(world.path("shop.sqlite"), world.rootPublicKey, defaultVerifierConfig()).use { shop ->
                shop.applyTrustList(world.trustList, world.now)
                val verdict = assertIs<Verdict.NotValid>(shop.verify(wallet.presentation(pass.id, world.now).text(), world.now))
                assertEquals(Reason.NoRulesList, verdict.reason)
                assertNull(verdict.rules)
                assertEquals(FreshnessState.CANNOT_VERIFY, shop.freshness(world.now).state)
            }
        }
    }

    @Test
    fun theVenueModeSurvivesAReopenAndAnUnknownOneIsRefused(): Unit = TestWorld().use { world ->
        assertNull(world.verifier.venueMode())
        assertEquals(listOf("restaurant_cafe", "exempt"), world.verifier.venueModes(world.now))
        assertFailsWith<VaxpassException.InvalidArgument> { world.verifier.setVenueMode("sauna") }
        assertNull(world.verifier.venueMode())
        world.verifier.setVenueMode("exempt")
        Verifier.open(world.path("verifier.sqlite"), world.rootPublicKey, defaultVerifierConfig()).use { reopened ->
            assertEquals("exempt", reopened.venueMode())
            val exempt = assertIs<Verdict.Exempt>(reopened.verify("anything at all", world.now))
            assertEquals("exempt", exempt.rules.mode)
            assertEquals(1L, reopened.freshness(world.now).rulesList!!.sequence)
        }
    }

    @Test
    fun theWalletSaysFromAndUntilWhenAPassIsValid(): Unit = TestWorld().use { world ->
        // From 3 January a pass needs 40 days after the second dose and lasts 180 days without a
        // booster.
        val rules = world.authority.rulesListOf(
            listOf(ruleSet("2021-12-01", null), ruleSet("2022-01-03", 180, daysAfterPrimary = 40)),
            world.now - Duration.ofHours(1),
            LIST_VALIDITY,
        )
        Wallet.open(world.path("fresh.sqlite"), null, BootClock).use { wallet ->
            val nonce = newNonce()
            val request = wallet.enrolmentRequest(nonce, "identity".encodeToByteArray())
            val twoDoses = listOf(
                Event.Vaccination(Product.COMIRNATY, dose = 1, of = 2, date = "2021-11-10"),
                Event.Vaccination(Product.COMIRNATY, dose = 2, of = 2, date = "2021-12-01"),
            )
            val bundle = world.authority.answerEnrolment(
                request, nonce, PERSON, twoDoses,
                notBefore = world.now - Duration.ofDays(1),
                expires = world.now + Duration.ofDays(364),
                now = world.now,
            )
            val pass = TrustList.verify(world.trustList, world.rootPublicKey).use { wallet.importPasses(bundle, it, world.now).single() }
            assertEquals(PassStatus.NotValid(Reason.NoRulesList, null), wallet.passStatus(pass.id, null, world.now))
            assertFailsWith<VaxpassException.ListRefused> { wallet.applyRulesList("forged".encodeToByteArray(), world.rootPublicKey) }
            wallet.applyRulesList(rules, world.rootPublicKey)
            // Day 12 of the 14-day wait; on 3 January, day 33, the new 40-day wait ends it again.
            assertEquals(
                PassStatus.ValidFrom(starts = kstMidnight("2021-12-15"), until = kstMidnight("2022-01-03")),
                wallet.passStatus(pass.id, "restaurant_cafe", world.now),
            )
        }
    }
}
