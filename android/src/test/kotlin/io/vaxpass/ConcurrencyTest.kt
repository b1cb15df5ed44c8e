// Eight threads share one verifier; every verdict must be the right one.
package io.vaxpass

import java.time.Duration
import java.util.concurrent.Callable
import java.util.concurrent.CountDownLatch
import java.util.concurrent.ExecutionException
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.junit.Test

class ConcurrencyTest {
    @Test
    fun eightThreadsVerifyConcurrently(): Unit = TestWorld().use { world ->
        Wallet.open(world.path("wallet.sqlite"), null, BootClock).use { wallet ->
            val pass = world.enrol(wallet)
            // Presentations made a second apart; judged at their time they are valid, ten minutes
            // later they are screenshots.
            val texts = (0 until 8).map { wallet.presentation(pass.id, world.now + Duration.ofSeconds(it.toLong())).text() }
            val threads = 8
            val rounds = 24
            val start = CountDownLatch(1)
            val pool = Executors.newFixedThreadPool(threads)
            try {
                val results = (0 until threads).map { t ->
                    pool.submit(Callable {
                        start.await()
                        var checked = 0
                        repeat(rounds) { round ->
                            val i = (t + round) % texts.size
                            val shownAt = world.now + Duration.ofSeconds(i.toLong())
                            if ((t + round) % 2 == 0) {
                                assertValidFor(world.verifier.verify(texts[i], shownAt))
                            } else {
                                assertRefused(
                                    world.verifier.verify(texts[i], shownAt + Duration.ofMinutes(10)),
                                    Reason.PresentationTooOld,
                                )
                            }
                            checked++
                        }
                        checked
                    })
                }
                start.countDown()
                // A failed assertion in any thread fails the test, with that thread's error.
                val checked = results.sumOf {
                    try {
                        it.get(120, TimeUnit.SECONDS)
                    } catch (e: ExecutionException) {
                        throw e.cause ?: e
                    }
                }
                assertEquals(threads * rounds, checked)
            } finally {
                pool.shutdown()
                assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS))
            }
        }
    }
}
