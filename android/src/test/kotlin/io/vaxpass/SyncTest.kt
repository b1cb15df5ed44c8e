// List sync and renewal scheduling through the bindings, against the real issuer service over
// HTTP on 127.0.0.1 (tests/bindings/kotlin.sh starts it and sets VAXPASS_ISSUER_URL and the rest;
// without them these tests fail). The app's transport is java.net.http: the SDK says what to send
// and reads what came back, it never opens a socket.
package io.vaxpass

import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse as JavaHttpResponse
import java.time.Duration
import java.time.Instant
import java.time.ZoneOffset
import kotlin.io.path.createTempDirectory
import kotlin.io.path.deleteRecursively
import kotlin.io.path.ExperimentalPathApi
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertIs
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.After
import org.junit.Test

/** The service the runner started; a missing variable fails the test (never skips it). */
private fun service(name: String): String =
    System.getenv(name)?.takeIf { it.isNotEmpty() }
        ?: throw AssertionError("$name not set: run tests/bindings/kotlin.sh, which starts the issuer service")

private val http: HttpClient = HttpClient.newBuilder()
    .version(HttpClient.Version.HTTP_1_1) // the service speaks HTTP/1.1; no h2c upgrade attempt
    .connectTimeout(Duration.ofSeconds(10))
    .build()

/** One request, its answer as the SDK reads it. */
private fun send(request: HttpRequest.Builder): HttpResponse {
    val answer = http.send(request.timeout(Duration.ofSeconds(30)).build(), JavaHttpResponse.BodyHandlers.ofByteArray())
    return HttpResponse(
        status = answer.statusCode(),
        etag = answer.headers().firstValue("ETag").orElse(null),
        retryAfter = answer.headers().firstValue("Retry-After").orElse(null),
        body = answer.body(),
    )
}

@OptIn(ExperimentalPathApi::class)
class SyncTest {
    private val baseUrl = service("VAXPASS_ISSUER_URL")
    private val busyUrl = service("VAXPASS_ISSUER_BUSY_URL")
    private val adminToken = service("VAXPASS_ISSUER_ADMIN_TOKEN")
    private val rootKey = service("VAXPASS_ISSUER_ROOT_KEY").chunked(2).map { it.toInt(16).toByte() }.toByteArray()
    private val dir = createTempDirectory("vaxpass-kotlin-sync-")
    private val verifier = Verifier.open(dir.resolve("verifier.sqlite").toString(), rootKey, defaultVerifierConfig())
    private val backoff = Backoff()

    @After
    fun tearDown() {
        backoff.close()
        verifier.close()
        dir.deleteRecursively()
    }

    /** GET the list with the ETag held as If-None-Match, and hand the answer to the verifier. */
    private fun fetch(kind: ListKind): Pair<HttpResponse, Fetched> {
        val request = HttpRequest.newBuilder(URI.create(baseUrl + listPath(kind))).GET()
        verifier.listEtag(kind)?.let { request.header("If-None-Match", it) }
        val answer = send(request)
        return answer to verifier.applyFetched(kind, answer, backoff, Instant.now())
    }

    @Test
    fun a200AppliesTheListA304KeepsItAndAPublishBringsTheNext() {
        assertNull(verifier.listEtag(ListKind.TRUST), "nothing held yet")
        for (kind in listOf(ListKind.TRUST, ListKind.REVOCATION, ListKind.RULES)) {
            val (answer, fetched) = fetch(kind)
            assertEquals(200, answer.status)
            val applied = assertIs<Fetched.Received>(fetched).applied
            assertIs<Applied.Updated>(applied)
            assertEquals(answer.etag, verifier.listEtag(kind), "the ETag is kept with the list")
        }
        // The three lists held, all just published: fresh.
        val freshness = verifier.freshness(Instant.now())
        assertNotNull(freshness.rulesList)
        assertEquals(FreshnessState.FRESH, freshness.state)
        val sequence = assertNotNull(freshness.trustList).sequence

        val (notModified, kept) = fetch(ListKind.TRUST)
        assertEquals(304, notModified.status, "the ETag held was sent as If-None-Match")
        assertEquals(Fetched.NotModified, kept)
        assertEquals(0L, backoff.failures())

        val published = send(
            HttpRequest.newBuilder(URI.create("$baseUrl/v1/admin/publish"))
                .header("Authorization", "Bearer $adminToken")
                .POST(HttpRequest.BodyPublishers.noBody()),
        )
        assertEquals(200, published.status, published.body.decodeToString())
        val held = verifier.listEtag(ListKind.TRUST)
        val (next, fetched) = fetch(ListKind.TRUST)
        assertEquals(200, next.status)
        assertEquals(Fetched.Received(Applied.Updated(sequence.inc())), fetched)
        assertNotEquals(held, verifier.listEtag(ListKind.TRUST))
    }

    @Test
    fun a429WithRetryAfterDelaysTheNextAttemptAtLeastThatLong() {
        Wallet.open(dir.resolve("wallet.sqlite").toString(), null, BootClock).use { wallet ->
            // One failed attempt (a nonce the service never issued: 409) uses up this address's
            // limit on the busy service; the next request is refused with 429 and a Retry-After.
            val answers = mutableListOf<HttpResponse>()
            repeat(2) {
                if (answers.lastOrNull()?.status == 429) return@repeat
                val request = wallet.enrolmentRequest(newNonce(), "no identity".encodeToByteArray())
                answers += send(
                    HttpRequest.newBuilder(URI.create("$busyUrl/v1/enrolment"))
                        .header("Content-Type", "application/cbor")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(request)),
                )
            }
            val refused = answers.last()
            assertEquals(429, refused.status, "statuses ${answers.map { it.status }}")
            val asked = Duration.ofSeconds(assertNotNull(refused.retryAfter).toLong())
            assertTrue(asked >= Duration.ofSeconds(30), "the limit refills once a minute: $asked")

            val now = Instant.now()
            val delay = assertIs<Fetched.RetryAfter>(verifier.applyFetched(ListKind.TRUST, refused, backoff, now)).delay
            // The backoff alone would wait at most 2 s after a first failure: the server's word wins.
            assertEquals(asked, delay)
            assertEquals(1L, backoff.failures())
            assertNull(verifier.listEtag(ListKind.TRUST), "nothing was applied")

            // Without a Retry-After, the jittered exponential bound: at most 4 s at the second failure.
            assertTrue(backoff.afterRefusal(null, now) <= Duration.ofSeconds(4))
            assertEquals(2L, backoff.failures())
            assertIs<Fetched.Received>(fetch(ListKind.TRUST).second)
            assertEquals(0L, backoff.failures(), "a success resets the backoff")
        }
    }

    @Test
    fun anUnexpectedStatusIsAnErrorNotAnOutcome() {
        val answer = send(HttpRequest.newBuilder(URI.create("$baseUrl/v1/no-such-list")).GET())
        assertEquals(404, answer.status)
        assertFailsWith<VaxpassException.ListRefused> { verifier.applyFetched(ListKind.TRUST, answer, backoff, Instant.now()) }
    }

    @Test
    fun theNextRefreshIsARandomMomentInTheDocumentedWindow() {
        fetch(ListKind.TRUST)
        val now = Instant.now()
        val nextUpdate = assertNotNull(verifier.freshness(now).trustList).nextUpdate
        val left = Duration.between(now, nextUpdate)
        assertTrue(left > Duration.ofHours(1), "left $left")
        val moments = (1..50).map { nextRefresh(now, nextUpdate) }.toSet()
        val slack = Duration.ofMillis(1) // the core computes in milliseconds
        for (moment in moments) {
            assertTrue(moment >= now + left.dividedBy(2) - slack, "$moment before half of $left")
            assertTrue(moment <= now + left.multipliedBy(9).dividedBy(10) + slack, "$moment after 9/10 of $left")
        }
        assertTrue(moments.size > 40, "spread, not one moment for every phone")
        assertEquals(now + Duration.ofMinutes(1), nextRefresh(now, now - Duration.ofHours(1)), "overdue: in a minute")
    }

    @Test
    fun renewalIsOffPeakInTheMonthBeforeThePassExpires() {
        TestWorld().use { world ->
            Wallet.open(world.path("wallet.sqlite"), null, BootClock).use { wallet ->
                assertNull(wallet.nextRenewal(world.now, 540), "no pass, nothing to renew")
                val pass = world.enrol(wallet)
                val seoul = ZoneOffset.ofHours(9)
                val renewals = (1..20).map { assertNotNull(wallet.nextRenewal(world.now, 540)) }.toSet()
                for (renewal in renewals) {
                    assertTrue(renewal >= pass.validUntil - Duration.ofDays(31), "$renewal")
                    assertTrue(renewal <= pass.validUntil - Duration.ofDays(6), "$renewal")
                    assertTrue(renewal.atOffset(seoul).hour in 1..4, "$renewal is not 01:00 to 05:00 in Seoul")
                }
                assertTrue(renewals.size > 1, "random, so a country's wallets do not renew at once")
            }
        }
    }
}
