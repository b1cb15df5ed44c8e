"""Tests of the Python package vaxpass as pip installs it (the generated bindings and the library).

Run through tests/bindings/python.sh, which builds the wheel, installs it into a fresh virtual
environment and runs these tests there. By hand, in a venv with the wheel installed:

    python -m unittest discover -s python/tests

Every test builds its own world (authority, wallet, verifier) in a temporary directory and runs
on a fixed clock, so the results do not depend on the date the tests run.
"""

import base64
import concurrent.futures
import datetime
import hashlib
import os
import sqlite3
import struct
import tempfile
import threading
import time
import unittest

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import vaxpass
from vaxpass import (
    Applied,
    Authority,
    DeviceSigner,
    EcLevel,
    Event,
    InternalError,
    KeyProtector,
    MonotonicClock,
    Person,
    Product,
    Qr,
    PassStatus,
    PolicyRule,
    Reason,
    TestMode,
    TestRuleSet,
    TrustList,
    VaxpassError,
    Verdict,
    Verifier,
    Wallet,
    ListKind,
    default_verifier_config,
    new_nonce,
    panic_for_crash_reporting_test,
    reason_code,
    software_p256_signer,
)

# ---- the fixed world ---------------------------------------------------------------------------

UTC = datetime.timezone.utc
# The generated code converts timestamps by comparing with an aware UTC datetime: naive
# datetimes raise TypeError, so every time here carries tzinfo.
NOW = datetime.datetime(2021, 12, 13, 3, 10, tzinfo=UTC)
AUTHORITY_CREATED = NOW - datetime.timedelta(days=30)
NOT_BEFORE = NOW - datetime.timedelta(days=1)
EXPIRES = NOT_BEFORE + datetime.timedelta(days=365)
LISTS_MADE = NOW - datetime.timedelta(hours=1)
LISTS_VALID_FOR = datetime.timedelta(days=1)
TOO_LATE = NOW + datetime.timedelta(minutes=10)

NAME = "김민준"
BORN = "1985-03-14"
PERSON = Person(name=NAME, date_of_birth=BORN)
EVENTS = [
    Event.VACCINATION(product=Product.COMIRNATY, dose=1, of=2, date="2021-06-20"),
    Event.VACCINATION(product=Product.COMIRNATY, dose=2, of=2, date="2021-07-25"),
    Event.VACCINATION(product=Product.COMIRNATY, dose=3, of=2, date="2021-12-01"),
]


class BootClock(MonotonicClock):
    """The wallet's monotonic clock: time since boot (Linux CLOCK_BOOTTIME counts suspend)."""

    def elapsed_since_boot(self):
        return datetime.timedelta(seconds=time.clock_gettime(time.CLOCK_BOOTTIME))


class MovableClock(MonotonicClock):
    """A monotonic clock the test moves; a reboot sets it back near zero."""

    def __init__(self, elapsed):
        self.elapsed = elapsed

    def elapsed_since_boot(self):
        return self.elapsed


def wallet_import(wallet, bundle, trust_list, now):
    """Imports an enrolment answer."""
    return wallet.import_passes(bundle, trust_list, now)


class World:
    """An authority, a wallet enrolled with it and a verifier fed its signed lists."""

    def __init__(self, directory, wallet=None):
        self.dir = directory
        self.authority = Authority.create(self.path("authority.db"), "KR", AUTHORITY_CREATED)
        self.root = self.authority.root_public_key()
        self.trust_list_bytes = self.authority.trust_list(LISTS_MADE, LISTS_VALID_FOR)
        self.revocation_list_bytes = self.authority.revocation_list(LISTS_MADE, LISTS_VALID_FOR)
        self.wallet = wallet if wallet is not None else Wallet.open(self.path("wallet.db"), None, BootClock())
        self.pass_id = self.enrol(self.wallet)
        self.verifier = Verifier.open(self.path("verifier.db"), self.root, default_verifier_config())
        self.verifier.apply_trust_list(self.trust_list_bytes, NOW)
        self.verifier.apply_revocation_list(self.revocation_list_bytes, NOW)
        self.rules_list_bytes = self.authority.rules_list(LISTS_MADE, LISTS_VALID_FOR)
        self.verifier.apply_rules_list(self.rules_list_bytes, NOW)

    def path(self, name):
        return os.path.join(self.dir, name)

    def enrol(self, wallet):
        """Enrolment and import, checked against the verified trust list; returns the pass id."""
        nonce = new_nonce()
        request = wallet.enrolment_request(nonce, b"identity proof")
        bundle = self.authority.answer_enrolment(request, nonce, PERSON, EVENTS, NOT_BEFORE, EXPIRES, NOW)
        trust_list = TrustList.verify(self.trust_list_bytes, self.root)
        passes = wallet_import(wallet, bundle, trust_list, NOW)
        assert len(passes) == 1, passes
        return passes[0].id

    def show(self, now=NOW):
        return self.wallet.presentation(self.pass_id, now)

    def verdict(self, text, now):
        return self.verifier.verify(text, now)


# ---- helpers -----------------------------------------------------------------------------------

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def base45_decode(text):
    """RFC 9285, enough for the tests (the input comes from the SDK)."""
    out = bytearray()
    for i in range(0, len(text), 3):
        chunk = [BASE45.index(c) for c in text[i : i + 3]]
        value = sum(digit * 45**k for k, digit in enumerate(chunk))
        out += value.to_bytes(2 if len(chunk) == 3 else 1, "big")
    return bytes(out)


def tamper(text):
    """Changes body characters [30, 33): they encode bytes 20-21 of the presentation CBOR, inside
    the credential's `exp` claim, so the issuer signature no longer matches."""
    assert text.startswith("VP1:"), "a rotating presentation"
    body = text[len("VP1:") :]
    replacement = "100" if body[30:33] == "000" else "000"
    return "VP1:" + body[:30] + replacement + body[33:]


class Cbor:
    """Reads the few CBOR items of a presentation (docs/format.md), nothing more."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def head(self, major):
        initial = self.data[self.pos]
        self.pos += 1
        assert initial >> 5 == major, f"major type {initial >> 5} at {self.pos - 1}, expected {major}"
        info = initial & 0x1F
        if info < 24:
            return info
        size = {24: 1, 25: 2, 26: 4, 27: 8}[info]
        value = int.from_bytes(self.data[self.pos : self.pos + size], "big")
        self.pos += size
        return value

    def bstr(self):
        start = self.pos
        length = self.head(2)
        value = self.data[self.pos : self.pos + length]
        self.pos += length
        return value, self.data[start : self.pos]

    def uint(self):
        return self.head(0)


def presentation_parts(text):
    """kid, payload (its encoded bstr), issuer signature (encoded), time, device signature."""
    cbor = Cbor(base45_decode(text[len("VP1:") :]))
    assert cbor.head(4) == 5, "a presentation is an array of 5"
    kid, _ = cbor.bstr()
    payload, payload_item = cbor.bstr()
    _, issuer_signature_item = cbor.bstr()
    shown_at = cbor.uint()
    device_signature, _ = cbor.bstr()
    assert cbor.pos == len(cbor.data), "nothing after the device signature"
    return kid, payload, payload_item, issuer_signature_item, shown_at, device_signature


def presentation_message(text):
    """What the device signed: the domain string, SHA-256 of the rebuilt credential, the time."""
    kid, _, payload_item, issuer_signature_item, shown_at, _ = presentation_parts(text)
    protected = bytes([0xA2, 0x01, 0x32, 0x04, 0x48]) + kid  # {1: -19, 4: h'kid'}
    credential = bytes([0x84, 0x40 + len(protected)]) + protected + b"\xa0" + payload_item + issuer_signature_item
    return b"vaxpass presentation v1\x00" + hashlib.sha256(credential).digest() + shown_at.to_bytes(8, "big")


# ---- the app's plug-ins, written in Python -----------------------------------------------------


class AesGcmProtector(KeyProtector):
    """Wraps the device key with AES-256-GCM; the 12-byte nonce is prepended to the ciphertext."""

    def __init__(self):
        self.aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self.wraps = 0
        self.unwraps = 0

    def wrap(self, secret):
        self.wraps += 1
        nonce = os.urandom(12)
        return nonce + self.aead.encrypt(nonce, secret, b"vaxpass device key")

    def unwrap(self, wrapped):
        self.unwraps += 1
        try:
            return self.aead.decrypt(wrapped[:12], wrapped[12:], b"vaxpass device key")
        except InvalidTag:
            raise VaxpassError.DeviceKeyUnavailable("the device key does not decrypt with this key")


class Es256Signer(DeviceSigner):
    """A P-256 key in software standing in for a platform key (Secure Enclave, StrongBox)."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.public_point = self.key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        self.lock = threading.Lock()
        self.signed = []  # (message, r || s)

    def public_key(self):
        return self.public_point

    def sign(self, message):
        r, s = decode_dss_signature(self.key.sign(message, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        with self.lock:
            self.signed.append((bytes(message), signature))
        return signature


def es256_verify(public_key, signature, message):
    """Raises InvalidSignature unless `signature` (r || s) signs `message` under `public_key`."""
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public_key.verify(der, message, ec.ECDSA(hashes.SHA256()))


# ---- the tests ---------------------------------------------------------------------------------


class VaxpassTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaxpass-py-")
        self.dir = self._tmp.name
        self.addCleanup(self._tmp.cleanup)

    def path(self, name):
        return os.path.join(self.dir, name)

    def assertValid(self, verdict, paper=False, seen=None):
        """Valid for the holder, with fresh lists; `seen`: whether the same pass was found valid
        within the seen window before (None: whatever the test verified before)."""
        self.assertIsInstance(verdict, Verdict.VALID, f"expected valid, got {verdict}")
        self.assertEqual(verdict.holder.name(), NAME)
        self.assertEqual(verdict.holder.date_of_birth(), BORN)
        self.assertEqual(verdict.id_check_required, paper, "a paper pass, and only one, needs an ID check")
        warnings = verdict.warnings
        if seen is None:
            warnings = [w for w in warnings if w != vaxpass.Warning.SEEN_RECENTLY]
        self.assertEqual(warnings, [vaxpass.Warning.SEEN_RECENTLY] if seen else [])

    def assertRefused(self, verdict, reason_class, code):
        self.assertIsInstance(verdict, Verdict.NOT_VALID, f"expected {code}, got {verdict}")
        self.assertIsInstance(verdict.reason, reason_class)
        self.assertEqual(verdict.reason, reason_class())
        self.assertEqual(reason_code(verdict.reason), code)
        self.assertFalse(hasattr(verdict, "holder"), "a refused pass names nobody")


class FlowTests(VaxpassTestCase):
    def test_a_issue_enrol_import_present_verify(self):
        world = World(self.dir)
        self.assertEqual(len(world.root), 32)
        passes = world.wallet.passes()
        self.assertEqual([p.id for p in passes], [world.pass_id])
        self.assertEqual(len(world.pass_id), 12)
        self.assertEqual(passes[0].kind, vaxpass.PassKind.VACCINATION)
        self.assertEqual(passes[0].valid_from, NOT_BEFORE)
        self.assertEqual(passes[0].valid_until, EXPIRES)
        self.assertEqual(passes[0].holder.name(), NAME)

        shown = world.show(NOW)
        self.assertTrue(shown.text().startswith("VP1:"))
        self.assertFalse(shown.id_check_required())
        self.assertGreater(shown.refresh_at(), NOW)
        verdict = world.verdict(shown.text(), NOW)
        self.assertValid(verdict)

        freshness = world.verifier.freshness(NOW)
        self.assertEqual(freshness.state, vaxpass.FreshnessState.FRESH)
        self.assertEqual(freshness.trust_list.sequence, 1)
        self.assertEqual(freshness.trust_list.issued_at, LISTS_MADE)

    def test_b_tampered_qr_has_a_bad_signature(self):
        world = World(self.dir)
        text = world.show(NOW).text()
        tampered = tamper(text)
        self.assertNotEqual(tampered, text)
        self.assertEqual(len(tampered), len(text))
        self.assertRefused(world.verdict(tampered, NOW), Reason.BAD_SIGNATURE, "bad_signature")
        self.assertValid(world.verdict(text, NOW))  # the untouched text still passes

    def test_c_screenshot_shown_ten_minutes_later_is_too_old(self):
        world = World(self.dir)
        screenshot = world.show(NOW).text()
        self.assertRefused(world.verdict(screenshot, TOO_LATE), Reason.PRESENTATION_TOO_OLD, "presentation_too_old")

    def test_a_paper_pass_is_valid_only_with_an_id_check(self):
        world = World(self.dir)
        paper = world.wallet.paper(world.pass_id)
        self.assertTrue(paper.text().startswith("VC1:"))
        self.assertTrue(paper.id_check_required())
        self.assertValid(world.verdict(paper.text(), NOW), paper=True)

    def test_the_readme_door_reads_a_live_a_paper_and_a_refused_verdict(self):
        world = World(self.dir)
        verifier = world.verifier
        # README:door:begin
        def door_message(scanned_text, now):
            match verifier.verify(scanned_text, now):
                case Verdict.VALID(holder=holder, id_check_required=True):
                    # A paper pass (or a screenshot rebuilt into one) is not tied to a phone.
                    return f"ask for an ID: {holder.name()}, born {holder.date_of_birth()}"
                case Verdict.VALID(holder=holder):
                    return f"valid: {holder.name()}, born {holder.date_of_birth()}"
                case Verdict.NOT_VALID(reason=reason):
                    return f"refused: {reason_code(reason)}"  # e.g. "presentation_too_old"
        # README:door:end

        live = world.show(NOW).text()
        self.assertEqual(door_message(live, NOW), f"valid: {NAME}, born {BORN}")
        paper = world.wallet.paper(world.pass_id).text()
        self.assertEqual(door_message(paper, NOW), f"ask for an ID: {NAME}, born {BORN}")
        self.assertEqual(door_message(live, TOO_LATE), "refused: presentation_too_old")


class DoorTests(VaxpassTestCase):
    """The shop's door kit: "seen a minute ago", and each verdict's cue and words."""

    def test_a_pass_shown_again_within_the_seen_window_is_flagged_and_cued(self):
        world = World(self.dir)
        first = world.verdict(world.show(NOW).text(), NOW)
        self.assertValid(first, seen=False)
        self.assertEqual(vaxpass.verdict_cue(first), vaxpass.Cue.VALID)
        # A fresh code of the same pass four minutes later: one pass for two people.
        later = NOW + datetime.timedelta(minutes=4)
        again = world.verdict(world.show(later).text(), later)
        self.assertValid(again, seen=True)
        self.assertEqual(vaxpass.warning_code(vaxpass.Warning.SEEN_RECENTLY), "seen_recently")
        self.assertEqual(vaxpass.verdict_cue(again), vaxpass.Cue.SEEN_RECENTLY)
        self.assertEqual(vaxpass.cue_code(vaxpass.Cue.SEEN_RECENTLY), "seen_recently")
        self.assertEqual(vaxpass.verdict_text(again, vaxpass.Language.ENGLISH), "Valid. Seen recently: look again.")
        # Ten minutes after the last valid verdict it is forgotten (the paper pass: the wallet
        # signs no code that far past the time it trusts).
        after = later + datetime.timedelta(minutes=10)
        self.assertValid(world.verdict(world.wallet.paper(world.pass_id).text(), after), paper=True, seen=False)

    def test_the_seen_window_is_configurable_and_zero_turns_it_off(self):
        world = World(self.dir)
        self.assertEqual(default_verifier_config().seen_window, datetime.timedelta(minutes=10))
        config = default_verifier_config()
        config.seen_window = datetime.timedelta(0)
        shop = Verifier.open(self.path("shop.db"), world.root, config)
        shop.apply_trust_list(world.trust_list_bytes, NOW)
        shop.apply_revocation_list(world.revocation_list_bytes, NOW)
        shop.apply_rules_list(world.rules_list_bytes, NOW)
        for _ in range(2):
            self.assertValid(shop.verify(world.show(NOW).text(), NOW), seen=False)
        config.seen_window = datetime.timedelta(seconds=-1)
        with self.assertRaises(VaxpassError.InvalidArgument):
            Verifier.open(self.path("negative.db"), world.root, config)

    def test_every_verdict_has_a_cue_and_korean_and_english_words_naming_nobody(self):
        world = World(self.dir)
        paper = world.verdict(world.wallet.paper(world.pass_id).text(), NOW)
        self.assertValid(paper, paper=True, seen=False)
        self.assertEqual(vaxpass.verdict_cue(paper), vaxpass.Cue.CHECK_ID)
        self.assertEqual(vaxpass.verdict_text(paper, vaxpass.Language.KOREAN), "유효해요. 신분증을 확인해 주세요.")
        refused = world.verdict(world.show(NOW).text(), TOO_LATE)
        self.assertEqual(vaxpass.verdict_cue(refused), vaxpass.Cue.REFUSED)
        korean = vaxpass.verdict_text(refused, vaxpass.Language.KOREAN)
        self.assertEqual(korean, "유효하지 않아요. " + vaxpass.reason_text(refused.reason, vaxpass.Language.KOREAN))
        self.assertEqual(vaxpass.reason_text(Reason.EXPIRED(), vaxpass.Language.KOREAN), "유효기간이 지났어요.")
        for verdict in (paper, refused):
            for language in (vaxpass.Language.KOREAN, vaxpass.Language.ENGLISH):
                text = vaxpass.verdict_text(verdict, language)
                self.assertNotIn(NAME, text)
                self.assertNotIn(BORN[:4], text)
        texts = {vaxpass.warning_text(w, l) for w in vaxpass.Warning for l in vaxpass.Language}
        self.assertEqual(len(texts), 2 * len(vaxpass.Warning))


class CheckLogTests(VaxpassTestCase):
    """The shop's check log through the bindings: every verdict logged, the counters, a report
    exported and verified as an inspector would, good and tampered."""

    def door(self, world):
        """A live pass, a garbage scan and a screenshot ten minutes late: 1 valid, 2 refused."""
        screenshot = world.show(NOW).text()
        self.assertValid(world.verdict(screenshot, NOW))
        self.assertRefused(world.verdict("not a QR text", NOW), Reason.MALFORMED, "malformed")
        self.assertRefused(world.verdict(screenshot, TOO_LATE), Reason.PRESENTATION_TOO_OLD, "presentation_too_old")

    def test_every_verdict_is_in_the_log_and_the_counters(self):
        world = World(self.dir)
        self.assertEqual(world.verifier.check_log_head().count, 0)
        self.door(world)
        head = world.verifier.check_log_head()
        self.assertEqual(head.count, 3)
        self.assertEqual(len(head.hash), 32)
        self.assertEqual(world.verifier.check_log_status(), vaxpass.LogStatus.INTACT(head=head))
        counters = world.verifier.check_counters(TOO_LATE)
        for tally in (counters.this_hour, counters.today):
            self.assertEqual((tally.scans, tally.valid, tally.refused), (3, 1, 2))
            self.assertEqual(
                [(c.code, c.count) for c in tally.by_reason],
                [("malformed", 1), ("presentation_too_old", 1)],
            )
        self.assertEqual(default_verifier_config().log_retention, datetime.timedelta(days=28))

    def test_an_exported_report_verifies_offline_and_says_what_it_proves(self):
        world = World(self.dir)
        self.door(world)
        later = TOO_LATE + datetime.timedelta(minutes=1)
        report = world.verifier.export_report(NOW - datetime.timedelta(hours=1), later, later)
        shop_key = world.verifier.shop_public_key()
        anchor = world.verifier.anchor(later)
        check = vaxpass.verify_report(report, shop_key, anchor)
        self.assertIsInstance(check, vaxpass.ReportCheck.PROVEN)
        proof = check.proof
        self.assertEqual((proof.checks, proof.valid, proof.refused, proof.id_checks), (3, 1, 2, 0))
        self.assertEqual(proof.shop_key, shop_key)
        self.assertTrue(proof.lists_fresh)
        self.assertEqual(proof.anchor, vaxpass.AnchorCheck.MATCHES(count=3))
        self.assertEqual(proof.head, world.verifier.check_log_head())
        self.assertIn("checked 3 passes", proof.sentence)
        self.assertIn("2 refused", proof.sentence)
        self.assertIn("KST", proof.sentence)
        self.assertNotIn(NAME, proof.sentence)
        unanchored = vaxpass.verify_report(report, None, None)
        self.assertEqual(unanchored.proof.anchor, vaxpass.AnchorCheck.NOT_GIVEN())

    def test_a_tampered_or_foreign_report_is_refused_with_a_reason(self):
        world = World(self.dir)
        self.door(world)
        report = world.verifier.export_report(NOW - datetime.timedelta(hours=1), TOO_LATE, TOO_LATE)
        tampered = bytearray(report)
        tampered[len(tampered) // 2] ^= 0x01
        check = vaxpass.verify_report(bytes(tampered), None, None)
        self.assertIsInstance(check, vaxpass.ReportCheck.REFUSED)
        self.assertTrue(check.code and check.detail)
        other = Verifier.open(self.path("other.db"), world.root, default_verifier_config())
        check = vaxpass.verify_report(report, other.shop_public_key(), None)
        self.assertEqual(check.reason, vaxpass.ReportRefused.WRONG_KEY())
        self.assertEqual(check.code, "wrong_key")
        truncated = vaxpass.verify_report(report[:-10], None, None)
        self.assertIsInstance(truncated, vaxpass.ReportCheck.REFUSED)

    def test_the_shop_key_is_wrapped_by_the_apps_protector_or_is_a_platform_key(self):
        world = World(self.dir)
        config = default_verifier_config()
        protector = AesGcmProtector()
        path = self.path("protected-shop.db")
        key = Verifier.open_with_shop_key_protector(path, world.root, config, protector).shop_public_key()
        self.assertEqual(protector.wraps, 1)
        reopened = Verifier.open_with_shop_key_protector(path, world.root, config, protector)
        self.assertEqual(reopened.shop_public_key(), key)
        # Another protector cannot unwrap it: the reports cannot be signed, but the shop still verifies.
        other = Verifier.open_with_shop_key_protector(path, world.root, config, AesGcmProtector())
        with self.assertRaises(VaxpassError.DeviceKeyUnavailable):
            other.shop_public_key()
        self.assertRefused(other.verify("not a QR text", NOW), Reason.NO_TRUST_LIST, "no_trust_list")

        shop = Verifier.open_with_shop_signer(self.path("platform-shop.db"), world.root, config, Es256Signer())
        shop.apply_trust_list(world.trust_list_bytes, NOW)
        shop.apply_rules_list(world.rules_list_bytes, NOW)
        self.assertRefused(shop.verify("not a QR text", NOW), Reason.MALFORMED, "malformed")
        shop_key = shop.shop_public_key()
        self.assertEqual(len(shop_key), 33, "a P-256 shop key, compressed")
        report = shop.export_report(NOW - datetime.timedelta(hours=1), NOW, NOW)
        check = vaxpass.verify_report(report, shop_key, shop.anchor(NOW))
        self.assertIsInstance(check, vaxpass.ReportCheck.PROVEN)
        self.assertEqual(check.proof.checks, 1)


class RobustnessTests(VaxpassTestCase):
    def test_d_garbage_raises_typed_errors_and_the_process_lives_on(self):
        world = World(self.dir)

        with self.assertRaises(VaxpassError.ListRefused) as caught:
            world.verifier.apply_trust_list(os.urandom(64), NOW)
        self.assertIsInstance(caught.exception, VaxpassError)
        self.assertIn("trust list", caught.exception.detail)
        self.assertValid(world.verdict(world.show(NOW).text(), NOW))

        with self.assertRaises(VaxpassError.NotVaxpass) as caught:
            wallet_import(world.wallet, os.urandom(64), None, NOW)
        self.assertIsInstance(caught.exception, VaxpassError)
        self.assertEqual(len(world.wallet.passes()), 1, "a refused import stores nothing")
        self.assertValid(world.verdict(world.show(NOW).text(), NOW))

        with self.assertRaises(VaxpassError.InvalidArgument) as caught:
            world.wallet.presentation("not-an-id", NOW)
        self.assertIsInstance(caught.exception, VaxpassError)
        self.assertValid(world.verdict(world.show(NOW).text(), NOW))

        # A garbage QR text is a verdict, not an exception.
        self.assertRefused(world.verdict("not a QR text", NOW), Reason.MALFORMED, "malformed")
        # Hangul from a Korean input method that does not recover into a pass: switch it to English.
        self.assertRefused(
            world.verdict("폐1:가", NOW), Reason.KOREAN_INPUT_METHOD, "korean_input_method"
        )

    def test_e_eight_threads_verify_concurrently(self):
        world = World(self.dir)
        shown = [world.show(NOW).text() for _ in range(4)]
        threads = 8
        rounds = 25
        start = threading.Barrier(threads)

        def work(worker):
            start.wait(timeout=30)
            results = []
            for i in range(rounds):
                text = shown[(worker + i) % len(shown)]
                if (worker + i) % 2 == 0:
                    now = NOW + datetime.timedelta(seconds=i % 30)
                    results.append(("valid", world.verdict(text, now)))
                else:
                    results.append(("too old", world.verdict(text, TOO_LATE)))
            return threading.get_ident(), results

        with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
            outcomes = list(pool.map(work, range(threads)))

        self.assertEqual(len({ident for ident, _ in outcomes}), threads, "eight distinct threads")
        checked = {"valid": 0, "too old": 0}
        for _, results in outcomes:
            self.assertEqual(len(results), rounds)
            for expected, verdict in results:
                if expected == "valid":
                    self.assertValid(verdict)
                else:
                    self.assertRefused(verdict, Reason.PRESENTATION_TOO_OLD, "presentation_too_old")
                checked[expected] += 1
        self.assertEqual(sum(checked.values()), threads * rounds)
        self.assertGreater(checked["valid"], 0)
        self.assertGreater(checked["too old"], 0)

    def test_h_rust_panic_is_a_python_exception(self):
        with self.assertRaises(InternalError) as caught:
            panic_for_crash_reporting_test()
        self.assertIn("deliberate panic", str(caught.exception))
        # The interpreter and the library carry on.
        self.assertEqual(len(new_nonce()), 32)
        world = World(self.dir)
        self.assertValid(world.verdict(world.show(NOW).text(), NOW))


class PluginTests(VaxpassTestCase):
    def test_f_python_key_protector(self):
        protector = AesGcmProtector()
        wallet_path = self.path("wallet.db")
        wallet = Wallet.open(wallet_path, protector, BootClock())
        self.assertEqual((protector.wraps, protector.unwraps), (1, 0), "a new key is wrapped once")
        device_key = wallet.device_public_key()
        self.assertEqual(len(device_key), 32, "software device keys are Ed25519")
        world = World(self.dir, wallet=wallet)
        self.assertValid(world.verdict(world.show(NOW).text(), NOW))
        del world.wallet, wallet

        reopened = Wallet.open(wallet_path, protector, BootClock())
        self.assertEqual((protector.wraps, protector.unwraps), (1, 1), "reopening unwraps the stored key")
        self.assertEqual(reopened.device_public_key(), device_key)
        self.assertEqual([p.id for p in reopened.passes()], [world.pass_id])
        self.assertValid(world.verdict(reopened.presentation(world.pass_id, NOW).text(), NOW))
        del reopened

        with self.assertRaises(VaxpassError.DeviceKeyUnavailable):
            Wallet.open(wallet_path, None, BootClock())
        with self.assertRaises(VaxpassError.DeviceKeyUnavailable):
            Wallet.open(wallet_path, AesGcmProtector(), BootClock())  # another key
        self.assertEqual(Wallet.open(wallet_path, protector, BootClock()).device_public_key(), device_key)

    def test_g_python_es256_device_signer(self):
        signer = Es256Signer()
        self.assertEqual(len(signer.public_point), 65)
        wallet = Wallet.open_with_signer(self.path("wallet.db"), signer, BootClock())
        device_key = wallet.device_public_key()
        x = signer.public_point[1:33]
        self.assertIn(device_key, (signer.public_point, bytes([0x02 + signer.public_point[64] % 2]) + x))

        world = World(self.dir, wallet=wallet)
        self.assertGreaterEqual(len(signer.signed), 1, "the enrolment proof is signed by the app")
        before = len(signer.signed)
        text = world.show(NOW).text()
        self.assertEqual(len(signer.signed), before + 1, "one signature per presentation")
        self.assertValid(world.verdict(text, NOW))

        # The presentation carries this key's signature over the documented message.
        _, payload, _, _, shown_at, device_signature = presentation_parts(text)
        self.assertEqual(shown_at, int(NOW.timestamp()))
        self.assertIn(x, payload, "the credential is bound to this key (cnf)")
        message = presentation_message(text)
        self.assertEqual(signer.signed[-1], (message, device_signature))
        es256_verify(signer.key.public_key(), device_signature, message)
        other = ec.generate_private_key(ec.SECP256R1()).public_key()
        with self.assertRaises(InvalidSignature):
            es256_verify(other, device_signature, message)

        # A screenshot of it still goes stale like any other.
        self.assertRefused(world.verdict(text, TOO_LATE), Reason.PRESENTATION_TOO_OLD, "presentation_too_old")


class ClockTests(VaxpassTestCase):
    def test_j_a_clock_set_three_hours_ahead_gets_no_code_that_verifies_later(self):
        clock = MovableClock(datetime.timedelta(hours=30))
        # Enrolled with the verified trust list at NOW: the pass's issuance is a trusted time.
        world = World(self.dir, wallet=Wallet.open(self.path("wallet.db"), None, clock))
        clock.elapsed += datetime.timedelta(minutes=10)
        real = NOW + datetime.timedelta(minutes=10)
        self.assertValid(world.verdict(world.show(real).text(), real))

        # The phone's clock set ahead, a screenshot every two minutes for eight hours.
        screenshots = []
        for k in range(1, 241):
            try:
                screenshots.append(world.show(real + datetime.timedelta(minutes=2 * k)).text())
            except VaxpassError.ClockNotTrusted:
                pass
        self.assertLessEqual(len(screenshots), 3, "only the tolerance is signed")
        doors = [real + datetime.timedelta(minutes=8, seconds=144 * k) for k in range(200)]
        accepted = sum(isinstance(world.verdict(text, door), Verdict.VALID) for door in doors for text in screenshots)
        self.assertEqual(accepted, 0, "no lent screenshot verifies at a later moment")

        # After a reboot only the stored trusted time is known.
        clock.elapsed = datetime.timedelta(seconds=20)
        with self.assertRaises(VaxpassError.ClockNotTrusted):
            world.show(real + datetime.timedelta(hours=3))
        world.show(real + datetime.timedelta(minutes=1))

        # A day later a verified list's issue time is trusted again.
        tomorrow = NOW + datetime.timedelta(days=1)
        with self.assertRaises(VaxpassError.ClockNotTrusted):
            world.show(tomorrow)
        trust = TrustList.verify(world.authority.trust_list(tomorrow - datetime.timedelta(minutes=1), LISTS_VALID_FOR), world.root)
        world.wallet.observe_trusted_time(trust.issued_at())
        world.show(tomorrow)


class PrivacyTests(VaxpassTestCase):
    def test_i_string_forms_reveal_nothing_personal(self):
        world = World(self.dir)
        shown = world.show(NOW)
        text = shown.text()
        verdict = world.verdict(text, NOW)
        self.assertValid(verdict)
        summary = world.wallet.passes()[0]
        secrets = [NAME, BORN, text, text[len("VP1:") :], text[len("VP1:") : len("VP1:") + 40]]
        for label, obj in [
            ("holder", verdict.holder if isinstance(verdict, Verdict.VALID) else None),
            ("verdict", verdict),
            ("shown", shown),
            ("pass summary holder", summary.holder),
        ]:
            for form in (repr(obj), str(obj)):
                for secret in secrets:
                    self.assertNotIn(secret, form, f"{label} string form leaks personal data: {form}")


class BrokenProtector(KeyProtector):
    """A key protector with a bug: it raises an exception that is not a VaxpassError."""

    def wrap(self, secret):
        raise RuntimeError("bug in the app's protector")

    def unwrap(self, wrapped):
        raise RuntimeError("bug in the app's protector")


class ErrorTests(VaxpassTestCase):
    def test_every_error_variant_comes_from_a_real_call_and_says_what_to_do(self):
        world = World(self.dir)
        seen = set()

        def expect(variant, call):
            with self.assertRaises(variant) as caught:
                call()
            self.assertIsInstance(caught.exception, VaxpassError)
            self.assertTrue(caught.exception.detail, "every variant carries a detail for logs")
            self.assertNotIn(NAME, caught.exception.detail)
            seen.add(variant)
            return caught.exception

        # Not a vaxpass code: garbage instead of an enrolment answer.
        expect(VaxpassError.NotVaxpass, lambda: world.wallet.import_passes(os.urandom(64), None, NOW))
        # Refused, with the verifier's reason: a pass bound to another phone.
        other = Wallet.open(self.path("other.db"), None, BootClock())
        nonce = new_nonce()
        request = other.enrolment_request(nonce, b"identity proof")
        bundle = world.authority.answer_enrolment(request, nonce, PERSON, EVENTS, NOT_BEFORE, EXPIRES, NOW)
        trust = TrustList.verify(world.trust_list_bytes, world.root)
        refused = expect(VaxpassError.Refused, lambda: world.wallet.import_passes(bundle, trust, NOW))
        self.assertEqual(reason_code(refused.reason), "wrong_device")
        # A list refused, the old one kept: an older list after a newer one.
        world.verifier.apply_trust_list(world.authority.trust_list(NOW, LISTS_VALID_FOR), NOW)
        expect(VaxpassError.ListRefused, lambda: world.verifier.apply_trust_list(world.trust_list_bytes, NOW))
        # Update the app: a store written by a newer SDK.
        newer = self.path("newer.db")
        Verifier.open(newer, world.root, default_verifier_config())  # created, then closed at once
        db = sqlite3.connect(newer)
        db.execute("PRAGMA user_version = 9999")
        db.close()
        expect(VaxpassError.UpdateRequired, lambda: Verifier.open(newer, world.root, default_verifier_config()))
        # The device key is gone: a protected wallet opened without its protector.
        protected = self.path("protected.db")
        Wallet.open(protected, AesGcmProtector(), BootClock())  # created, then closed at once
        expect(VaxpassError.DeviceKeyUnavailable, lambda: Wallet.open(protected, AesGcmProtector(), BootClock()))
        # The clock is not trusted: a code for a day ahead of the last trusted time.
        expect(VaxpassError.ClockNotTrusted, lambda: world.show(NOW + datetime.timedelta(days=1)))
        # Bugs in the app: a bad argument, and a call that does not fit the state.
        expect(VaxpassError.InvalidArgument, lambda: world.wallet.presentation("not-an-id", NOW))
        expect(VaxpassError.WrongState, lambda: Wallet.open_with_signer(protected, Es256Signer(), BootClock()))
        # Storage: a database in a directory that does not exist.
        missing = os.path.join(self.dir, "no such directory", "wallet.db")
        expect(VaxpassError.Storage, lambda: Wallet.open(missing, None, BootClock()))
        # Internal: an app callback raising an exception of another type (its text is dropped).
        internal = expect(VaxpassError.Internal, lambda: Wallet.open(self.path("broken.db"), BrokenProtector(), BootClock()))
        self.assertNotIn("bug in the app", internal.detail)

        every = {getattr(VaxpassError, name) for name in dir(VaxpassError)
                 if isinstance(getattr(VaxpassError, name), type)
                 and issubclass(getattr(VaxpassError, name), VaxpassError)}
        self.assertEqual(seen, every, "each public error variant is produced here")
        # Nothing broke along the way.
        self.assertValid(world.verdict(world.show(NOW).text(), NOW))


class OidcNonceTest(unittest.TestCase):
    def test_the_oidc_nonce_is_the_documented_hash_of_the_enrolment_nonce_and_device_key(self):
        with tempfile.TemporaryDirectory() as d:
            wallet = Wallet.open(os.path.join(d, "wallet.db"), None, BootClock())
            nonce = new_nonce()
            digest = hashlib.sha256(
                b"vaxpass oidc nonce v1\0" + len(nonce).to_bytes(8, "big") + nonce
                + wallet.device_public_key()
            ).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            self.assertEqual(wallet.oidc_nonce(nonce), expected)
            self.assertNotEqual(wallet.oidc_nonce(new_nonce()), expected)
            self.assertEqual(vaxpass.oidc_identity_proof("a.b.c"), b"OIDC:a.b.c")


class PlatformTypeTests(VaxpassTestCase):
    """The types a Python developer expects: timedelta periods, ints refused when out of range,
    and the QR as greyscale bytes an imaging library takes in one call."""

    def test_a_timedelta_becomes_the_lists_validity_and_the_defaults_come_back_as_timedeltas(self):
        world = World(self.dir)
        issued_at = NOW - datetime.timedelta(minutes=30)
        listed = world.authority.trust_list(issued_at, datetime.timedelta(hours=36))
        shop = Verifier.open(self.path("shop.db"), world.root, default_verifier_config())
        self.assertEqual(shop.apply_trust_list(listed, NOW), Applied.UPDATED(sequence=2))
        info = shop.freshness(NOW).trust_list
        self.assertEqual(info.issued_at, issued_at)
        self.assertEqual(info.next_update, issued_at + datetime.timedelta(hours=36))
        self.assertEqual(info.sequence, 2)
        config = default_verifier_config()
        self.assertEqual(config.clock_leeway, datetime.timedelta(seconds=60))
        self.assertEqual(config.presentation_window, datetime.timedelta(seconds=60))
        self.assertEqual(config.warn_after, datetime.timedelta(hours=36))
        self.assertEqual(config.fail_after, datetime.timedelta(days=7))
        self.assertIsNone(config.offline_rules_list, "no rules are compiled in")

    def test_negative_and_overflowing_values_are_refused_with_a_typed_error(self):
        world = World(self.dir)
        for valid_for in (datetime.timedelta(seconds=-1), datetime.timedelta.max, datetime.timedelta(days=20_000 * 366)):
            with self.subTest(valid_for=valid_for), self.assertRaises(VaxpassError.InvalidArgument):
                world.authority.trust_list(NOW, valid_for)
        config = default_verifier_config()
        config.clock_leeway = datetime.timedelta(milliseconds=-1)
        with self.assertRaises(VaxpassError.InvalidArgument):
            Verifier.open(self.path("negative.db"), world.root, config)
        config = default_verifier_config()
        config.offline_rules_list = b"not a rules list"
        with self.assertRaises(VaxpassError.ListRefused):
            Verifier.open(self.path("rules.db"), world.root, config)
        qr = Qr.encode("VP1:ABCDEFGHIJKLMNOPQRSTU", EcLevel.M)
        for size in (-1, 0, 65, -(2**31)):
            with self.subTest(size=size):
                with self.assertRaises(VaxpassError.InvalidArgument):
                    qr.png(size)
                with self.assertRaises(VaxpassError.InvalidArgument):
                    qr.bitmap(size)
        device_key = software_p256_signer().public_key()
        for dose in (-1, 256):
            event = Event.VACCINATION(product=Product.COMIRNATY, dose=dose, of=2, date="2021-06-20")
            with self.subTest(dose=dose), self.assertRaises(VaxpassError.InvalidArgument):
                world.authority.issue(PERSON, [event], device_key, NOW, NOW + datetime.timedelta(days=1), NOW)

    def test_the_qr_bitmap_is_greyscale_bytes_of_the_modules_and_the_png_has_its_size(self):
        qr = Qr.encode("VP1:ABCDEFGHIJKLMNOPQRSTU", EcLevel.M)
        scale = 3
        bitmap = qr.bitmap(scale)
        side = (qr.width() + 8) * scale
        self.assertEqual((bitmap.width, bitmap.height), (side, side))
        self.assertIsInstance(bitmap.pixels, bytes)
        self.assertEqual(len(bitmap.pixels), side * side)
        self.assertEqual(set(bitmap.pixels), {0, 255})
        pixel = lambda x, y: bitmap.pixels[y * side + x]
        self.assertEqual(pixel(0, 0), 255)  # the quiet zone
        for module in range(7):  # the top-left finder pattern's outer ring is dark
            self.assertEqual(pixel((4 + module) * scale, 4 * scale), 0)
            self.assertEqual(pixel(4 * scale, (4 + module) * scale), 0)
        self.assertEqual(pixel(5 * scale, 5 * scale), 255)
        png = qr.png(scale)
        try:
            from PIL import Image  # Pillow, when installed: Image.frombytes("L", ...) is the one call
        except ImportError:
            Image = None
        if Image is not None:
            import io
            decoded = Image.open(io.BytesIO(png))
            self.assertEqual(decoded.tobytes(), Image.frombytes("L", (side, side), bitmap.pixels).tobytes())
        else:
            # No decoder here: the PNG header says the bitmap's size, 8-bit greyscale.
            self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
            width, height, depth, colour = struct.unpack(">IIBB", png[16:26])
            self.assertEqual((width, height, depth, colour), (side, side, 8, 0))



CAFE_AND_EXEMPT = [TestMode(name="restaurant_cafe", exempt=False), TestMode(name="exempt", exempt=True)]


def rule_set(takes_effect, primary_valid_days, modes=CAFE_AND_EXEMPT, days_after_primary=14, booster_valid_days=None):
    return TestRuleSet(
        takes_effect=takes_effect,
        days_after_primary=days_after_primary,
        primary_valid_days=primary_valid_days,
        booster_valid_days=booster_valid_days,
        modes=modes,
    )


def kst_midnight(date):
    return datetime.datetime.fromisoformat(date + "T00:00:00+09:00").astimezone(UTC)


class RulesTest(unittest.TestCase):
    """The verifier judges by the signed rules list it holds; the shop's venue mode is a stored
    setting; every verdict names the rules it was judged under; the wallet says when a pass works."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_a_rules_update_changes_the_verdict_and_the_verdict_carries_its_rules(self):
        world = World(self.dir)
        text = world.show().text()
        verdict = world.verdict(text, NOW)
        self.assertIsInstance(verdict, Verdict.VALID)
        first = verdict.rules
        self.assertEqual(first.mode, "restaurant_cafe")
        self.assertFalse(first.offline_default)
        # The booster of 1 December is 12 days old: a 10-day booster limit ends the pass.
        tightened = world.authority.rules_list_of(
            [rule_set("2021-12-01", 180, booster_valid_days=10)], LISTS_MADE, LISTS_VALID_FOR
        )
        applied = world.verifier.apply_rules_list(tightened, NOW)
        self.assertIsInstance(applied, Applied.UPDATED)
        refused = world.verdict(text, NOW)
        self.assertIsInstance(refused, Verdict.NOT_VALID)
        self.assertEqual(refused.reason, Reason.POLICY_NOT_MET(PolicyRule.VACCINATION_EXPIRED))
        self.assertEqual(
            refused.rule_text, "primary series older than 180 days with no booster, or booster older than 10 days"
        )
        self.assertEqual(refused.rules.sequence, applied.sequence)
        self.assertGreater(refused.rules.sequence, first.sequence)
        self.assertEqual(refused.rules.takes_effect, "2021-12-01")
        self.assertEqual(refused.rules.mode, "restaurant_cafe")

    def test_without_a_rules_list_no_pass_is_valid(self):
        world = World(self.dir)
        shop = Verifier.open(self.path("shop.db"), world.root, default_verifier_config())
        shop.apply_trust_list(world.trust_list_bytes, NOW)
        no_rules = shop.verify(world.show().text(), NOW)
        self.assertIsInstance(no_rules, Verdict.NOT_VALID)
        self.assertEqual(no_rules.reason, Reason.NO_RULES_LIST())
        self.assertIsNone(no_rules.rules)

    def test_the_venue_mode_survives_a_reopen_and_an_unknown_one_is_refused(self):
        world = World(self.dir)
        self.assertIsNone(world.verifier.venue_mode())
        self.assertEqual(world.verifier.venue_modes(NOW), ["restaurant_cafe", "exempt"])
        with self.assertRaises(VaxpassError.InvalidArgument):
            world.verifier.set_venue_mode("sauna")
        world.verifier.set_venue_mode("exempt")
        reopened = Verifier.open(self.path("verifier.db"), world.root, default_verifier_config())
        self.assertEqual(reopened.venue_mode(), "exempt")
        self.assertIsInstance(reopened.verify("anything", NOW), Verdict.EXEMPT)
        self.assertEqual(reopened.freshness(NOW).rules_list.sequence, 1)
        self.assertEqual(ListKind.RULES.name, "RULES")

    def test_the_wallet_says_from_and_until_when_a_pass_is_valid(self):
        world = World(self.dir)
        # From 3 January a pass needs 40 days after the second dose and lasts 180 days without a
        # booster; the world's citizen is boosted, so the answer is the credential's own end.
        rules = world.authority.rules_list_of(
            [rule_set("2021-12-01", None), rule_set("2022-01-03", 180, days_after_primary=40)],
            LISTS_MADE,
            LISTS_VALID_FOR,
        )
        world.wallet.apply_rules_list(rules, world.root)
        status = world.wallet.pass_status(world.pass_id, "restaurant_cafe", NOW)
        self.assertEqual(status, PassStatus.VALID_NOW(until=EXPIRES))
        # A citizen whose second dose was on 1 December waits 14 days; on 3 January, day 33, the
        # new 40-day wait ends it again.
        fresh = Wallet.open(self.path("fresh.db"), None, BootClock())
        nonce = new_nonce()
        request = fresh.enrolment_request(nonce, b"identity proof")
        two_doses = [
            Event.VACCINATION(product=Product.COMIRNATY, dose=1, of=2, date="2021-11-10"),
            Event.VACCINATION(product=Product.COMIRNATY, dose=2, of=2, date="2021-12-01"),
        ]
        bundle = world.authority.answer_enrolment(request, nonce, PERSON, two_doses, NOT_BEFORE, EXPIRES, NOW)
        pass_id = wallet_import(fresh, bundle, TrustList.verify(world.trust_list_bytes, world.root), NOW)[0].id
        with self.assertRaises(VaxpassError.ListRefused):
            fresh.apply_rules_list(b"forged", world.root)
        self.assertEqual(
            fresh.pass_status(pass_id, None, NOW), PassStatus.NOT_VALID(reason=Reason.NO_RULES_LIST(), rule_text=None)
        )
        fresh.apply_rules_list(rules, world.root)
        self.assertEqual(
            fresh.pass_status(pass_id, None, NOW),
            PassStatus.VALID_FROM(starts=kst_midnight("2021-12-15"), until=kst_midnight("2022-01-03")),
        )

if __name__ == "__main__":
    unittest.main()
