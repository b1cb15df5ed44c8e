"""List sync and renewal scheduling through the bindings, against the real issuer service.

tests/bindings/python.sh starts `vaxpass-issuer` on 127.0.0.1 (scripts/issuer-service.sh) and
sets VAXPASS_ISSUER_URL, VAXPASS_ISSUER_ROOT_KEY, VAXPASS_ISSUER_ADMIN_TOKEN and
VAXPASS_ISSUER_BUSY_URL; without them these tests fail. The app's transport here is urllib: the
SDK says what to send and reads what came back, it never opens a socket.
"""

import datetime
import os
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import vaxpass
from vaxpass import (
    Applied,
    Authority,
    Backoff,
    Event,
    Fetched,
    FreshnessState,
    HttpResponse,
    ListKind,
    MonotonicClock,
    Person,
    Product,
    TrustList,
    VaxpassError,
    Verifier,
    Wallet,
    anchor_path,
    default_verifier_config,
    list_path,
    new_nonce,
    next_refresh,
    verify_report,
)

UTC = datetime.timezone.utc
SERVICE_VARIABLES = (
    "VAXPASS_ISSUER_URL",
    "VAXPASS_ISSUER_ROOT_KEY",
    "VAXPASS_ISSUER_ADMIN_TOKEN",
    "VAXPASS_ISSUER_BUSY_URL",
)


class BootClock(MonotonicClock):
    """The wallet's monotonic clock: time since boot (Linux CLOCK_BOOTTIME counts suspend)."""

    def elapsed_since_boot(self):
        return datetime.timedelta(seconds=time.clock_gettime(time.CLOCK_BOOTTIME))


def service():
    """The running service's settings; fails (never skips) when the runner did not start it."""
    missing = [name for name in SERVICE_VARIABLES if not os.environ.get(name)]
    if missing:
        raise AssertionError(
            f"{', '.join(missing)} not set: run tests/bindings/python.sh, which starts the issuer service"
        )
    return {name: os.environ[name] for name in SERVICE_VARIABLES}


def http(url, method="GET", etag=None, body=None, headers=None):
    """One request with urllib, its answer as the SDK reads it (urllib raises on 304 and 4xx/5xx)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    if etag is not None:
        request.add_header("If-None-Match", etag)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, answer_headers, data = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, data = error.code, error.headers, error.read()
    return HttpResponse(
        status=status,
        etag=answer_headers.get("ETag"),
        retry_after=answer_headers.get("Retry-After"),
        body=data,
    )


class SyncTestCase(unittest.TestCase):
    def setUp(self):
        self.service = service()
        self._dir = tempfile.TemporaryDirectory(prefix="vaxpass-py-sync-")
        self.root = bytes.fromhex(self.service["VAXPASS_ISSUER_ROOT_KEY"])
        self.verifier = Verifier.open(self.path("verifier.db"), self.root, default_verifier_config())
        self.backoff = Backoff()

    def tearDown(self):
        self._dir.cleanup()

    def path(self, name):
        return os.path.join(self._dir.name, name)

    def fetch(self, kind, base=None):
        """GET the list with the ETag held, and hand the answer to the verifier."""
        base = base or self.service["VAXPASS_ISSUER_URL"]
        answer = http(base + list_path(kind), etag=self.verifier.list_etag(kind))
        now = datetime.datetime.now(UTC)
        return answer, self.verifier.apply_fetched(kind, answer, self.backoff, now)


class ListSyncTests(SyncTestCase):
    def test_a_200_applies_the_list_a_304_keeps_it_and_a_publish_brings_the_next(self):
        self.assertIsNone(self.verifier.list_etag(ListKind.TRUST), "nothing held yet")
        for kind in (ListKind.TRUST, ListKind.REVOCATION, ListKind.RULES):
            answer, fetched = self.fetch(kind)
            self.assertEqual(answer.status, 200)
            self.assertTrue(fetched.is_received(), fetched)
            self.assertTrue(fetched.applied.is_updated(), fetched)
            self.assertEqual(self.verifier.list_etag(kind), answer.etag, "the ETag is kept with the list")
        # The three lists held, all just published: fresh.
        freshness = self.verifier.freshness(datetime.datetime.now(UTC))
        self.assertIsNotNone(freshness.rules_list)
        self.assertEqual(freshness.state, FreshnessState.FRESH)
        sequence = self.verifier.freshness(datetime.datetime.now(UTC)).trust_list.sequence

        answer, fetched = self.fetch(ListKind.TRUST)
        self.assertEqual(answer.status, 304, "the ETag held was sent as If-None-Match")
        self.assertTrue(fetched.is_not_modified(), fetched)
        self.assertEqual(self.backoff.failures(), 0)

        published = http(
            self.service["VAXPASS_ISSUER_URL"] + "/v1/admin/publish",
            method="POST",
            body=b"",
            headers={"Authorization": "Bearer " + self.service["VAXPASS_ISSUER_ADMIN_TOKEN"]},
        )
        self.assertEqual(published.status, 200, published.body)
        held = self.verifier.list_etag(ListKind.TRUST)
        answer, fetched = self.fetch(ListKind.TRUST)
        self.assertEqual(answer.status, 200)
        self.assertEqual(fetched, Fetched.RECEIVED(applied=Applied.UPDATED(sequence=sequence + 1)))
        self.assertNotEqual(self.verifier.list_etag(ListKind.TRUST), held)

    def test_b_a_429_with_retry_after_delays_the_next_attempt_at_least_that_long(self):
        wallet = Wallet.open(self.path("wallet.db"), None, BootClock())
        busy = self.service["VAXPASS_ISSUER_BUSY_URL"]
        # One failed attempt (a nonce the service never issued: 409) uses up this address's limit
        # on the busy service; the next request is refused with 429 and a Retry-After.
        answers = []
        for _ in range(2):
            request = wallet.enrolment_request(new_nonce(), b"no identity")
            answers.append(
                http(busy + "/v1/enrolment", method="POST", body=request,
                     headers={"Content-Type": "application/cbor"})
            )
            if answers[-1].status == 429:
                break
        refused = answers[-1]
        self.assertEqual(refused.status, 429, [a.status for a in answers])
        asked = datetime.timedelta(seconds=int(refused.retry_after))
        self.assertGreaterEqual(asked, datetime.timedelta(seconds=30), "the limit refills once a minute")

        now = datetime.datetime.now(UTC)
        fetched = self.verifier.apply_fetched(ListKind.TRUST, refused, self.backoff, now)
        self.assertTrue(fetched.is_retry_after(), fetched)
        # The backoff alone would wait at most 2 s after a first failure: the server's word wins.
        self.assertEqual(fetched.delay, asked)
        self.assertEqual(self.backoff.failures(), 1)
        self.assertIsNone(self.verifier.list_etag(ListKind.TRUST), "nothing was applied")

        # Without a Retry-After, the jittered exponential bound: at most 4 s at the second failure.
        self.assertLessEqual(self.backoff.after_refusal(None, now), datetime.timedelta(seconds=4))
        self.assertEqual(self.backoff.failures(), 2)
        _, fetched = self.fetch(ListKind.TRUST)
        self.assertTrue(fetched.is_received(), fetched)
        self.assertEqual(self.backoff.failures(), 0, "a success resets the backoff")

    def test_c_an_unexpected_status_is_an_error_not_an_outcome(self):
        answer = http(self.service["VAXPASS_ISSUER_URL"] + "/v1/no-such-list")
        self.assertEqual(answer.status, 404)
        with self.assertRaises(VaxpassError.ListRefused):
            self.verifier.apply_fetched(ListKind.TRUST, answer, self.backoff, datetime.datetime.now(UTC))

    def test_d_the_next_refresh_is_a_random_moment_in_the_documented_window(self):
        self.fetch(ListKind.TRUST)
        now = datetime.datetime.now(UTC)
        next_update = self.verifier.freshness(now).trust_list.next_update
        left = next_update - now
        self.assertGreater(left, datetime.timedelta(hours=1))
        moments = {next_refresh(now, next_update) for _ in range(50)}
        for moment in moments:
            # Half to nine tenths of the time left (to the millisecond the core computes in).
            self.assertGreaterEqual(moment, now + left / 2 - datetime.timedelta(milliseconds=1))
            self.assertLessEqual(moment, now + left * 0.9 + datetime.timedelta(milliseconds=1))
        self.assertGreater(len(moments), 40, "spread, not one moment for every phone")
        overdue = next_refresh(now, now - datetime.timedelta(hours=1))
        self.assertEqual(overdue, now + datetime.timedelta(minutes=1), "overdue: in a minute, not now")


class AnchorTests(SyncTestCase):
    def test_f_the_anchor_posted_to_the_authority_comes_back_and_proves_the_report_whole(self):
        self.fetch(ListKind.TRUST)
        self.fetch(ListKind.REVOCATION)
        start = datetime.datetime.now(UTC)
        for text in ("not a QR text", "VP1:also not a pass"):
            self.assertIsInstance(self.verifier.verify(text, start), vaxpass.Verdict.NOT_VALID)
        now = datetime.datetime.now(UTC)
        base = self.service["VAXPASS_ISSUER_URL"]
        self.assertEqual(anchor_path(), "/v1/anchors")
        posted = http(base + anchor_path(), method="POST", body=self.verifier.anchor(now),
                      headers={"Content-Type": "application/cbor"})
        self.assertEqual(posted.status, 200, posted.body)
        shop_key = self.verifier.shop_public_key()
        held = http(base + anchor_path() + "/" + shop_key.hex())
        self.assertEqual(held.status, 200, held.body)

        report = self.verifier.export_report(start - datetime.timedelta(minutes=1), now, now)
        check = verify_report(report, shop_key, held.body)
        self.assertIsInstance(check, vaxpass.ReportCheck.PROVEN, check)
        self.assertEqual(check.proof.anchor, vaxpass.AnchorCheck.MATCHES(count=2))
        self.assertEqual((check.proof.checks, check.proof.refused), (2, 2))


class RenewalTests(SyncTestCase):
    NOW = datetime.datetime(2021, 12, 13, 3, 10, tzinfo=UTC)
    EXPIRES = datetime.datetime(2022, 6, 1, tzinfo=UTC)
    KST = datetime.timezone(datetime.timedelta(hours=9))

    def test_e_renewal_is_off_peak_in_the_month_before_the_pass_expires(self):
        now = self.NOW
        authority = Authority.create(self.path("authority.db"), "KR", now - datetime.timedelta(days=30))
        root = authority.root_public_key()
        trust = TrustList.verify(authority.trust_list(now - datetime.timedelta(hours=1), datetime.timedelta(days=1)), root)
        wallet = Wallet.open(self.path("wallet.db"), None, BootClock())
        self.assertIsNone(wallet.next_renewal(now, 540), "no pass, nothing to renew")

        nonce = new_nonce()
        request = wallet.enrolment_request(nonce, b"identity checked at the counter")
        events = [Event.VACCINATION(product=Product.COMIRNATY, dose=2, of=2, date="2021-07-25")]
        bundle = authority.answer_enrolment(
            request, nonce, Person(name="김민준", date_of_birth="1985-03-14"), events,
            now - datetime.timedelta(days=1), self.EXPIRES, now,
        )
        wallet.import_passes(bundle, trust, now)
        renewals = {wallet.next_renewal(now, 540) for _ in range(20)}
        for renewal in renewals:
            self.assertGreaterEqual(renewal, self.EXPIRES - datetime.timedelta(days=31))
            self.assertLessEqual(renewal, self.EXPIRES - datetime.timedelta(days=6))
            self.assertIn(renewal.astimezone(self.KST).hour, range(1, 5), "01:00 to 05:00 in Seoul")
        self.assertGreater(len(renewals), 1, "random, so a country's wallets do not renew at once")


if __name__ == "__main__":
    unittest.main()
