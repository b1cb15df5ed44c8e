"""The Python program of the FFI benchmark (benches/ffi/README.md): times Verifier.verify through
the generated bindings, and beside it a bare call (TrustList.sequence(), no arguments, an int
back), and prints one JSON line. Run by benches/ffi/run.sh, with PYTHONPATH on the
directory holding the generated vaxpass.py beside libvaxpass_ffi.so.
"""

import datetime
import json
import os
import sys
import tempfile
import time

from vaxpass import (
    Authority,
    Event,
    MonotonicClock,
    Person,
    Product,
    Reason,
    TrustList,
    Verdict,
    Verifier,
    Wallet,
    default_verifier_config,
    new_nonce,
)

class BootClock(MonotonicClock):
    def elapsed_since_boot(self):
        return datetime.timedelta(seconds=time.clock_gettime(time.CLOCK_BOOTTIME))


WARMUP_CALLS = 3_000
ROUNDS = 21
CALLS_PER_ROUND = 2_000
BARE_CALLS_PER_ROUND = 20_000
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def tamper(text):
    """Changes base45 body characters [30, 33) of a `VP1:` text, so the issuer's signature no longer matches."""
    body = text[len("VP1:") :]
    replacement = "100" if body[30:33] == "000" else "000"
    return "VP1:" + body[:30] + replacement + body[33:]


def per_call_ns(calls, call):
    """Times ROUNDS rounds of `calls` calls each; returns the per-call times, fastest first."""
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(calls):
            call()
        rounds.append((time.perf_counter_ns() - start) / calls)
    return sorted(rounds)


def main():
    now = datetime.datetime(2021, 12, 13, 3, 10, tzinfo=datetime.timezone.utc)
    with tempfile.TemporaryDirectory(prefix="vaxpass-ffi-bench-") as directory:
        def path(name):
            return os.path.join(directory, name)

        authority = Authority.create(path("authority.sqlite"), "KR", now - 30 * DAY)
        root = authority.root_public_key()
        trust_list = authority.trust_list(now - HOUR, datetime.timedelta(days=1))
        revocation_list = authority.revocation_list(now - HOUR, datetime.timedelta(days=1))

        wallet = Wallet.open(path("wallet.sqlite"), None, BootClock())
        nonce = new_nonce()
        request = wallet.enrolment_request(nonce, b"identity proof")
        events = [
            Event.VACCINATION(product=Product.COMIRNATY, dose=1, of=2, date="2021-06-20"),
            Event.VACCINATION(product=Product.COMIRNATY, dose=2, of=2, date="2021-07-25"),
            Event.VACCINATION(product=Product.COMIRNATY, dose=3, of=2, date="2021-12-01"),
        ]
        person = Person(name="김민준", date_of_birth="1985-03-14")
        bundle = authority.answer_enrolment(request, nonce, person, events, now - DAY, now - DAY + 365 * DAY, now)
        passes = wallet.import_passes(bundle, TrustList.verify(trust_list, root), now)
        if len(passes) != 1:
            sys.exit(f"verify_bench.py: expected one pass, got {len(passes)}")

        verifier = Verifier.open(path("verifier.sqlite"), root, default_verifier_config())
        verifier.apply_trust_list(trust_list, now)
        verifier.apply_revocation_list(revocation_list, now)
        text = wallet.presentation(passes[0].id, now).text()

        if not isinstance(verifier.verify(text, now), Verdict.VALID):
            sys.exit("verify_bench.py: the presentation is not valid")
        refused = verifier.verify(tamper(text), now)
        if not isinstance(refused, Verdict.NOT_VALID) or refused.reason != Reason.BAD_SIGNATURE():
            sys.exit("verify_bench.py: a tampered text was not refused")

        valid = 0

        def call():
            nonlocal valid
            valid += isinstance(verifier.verify(text, now), Verdict.VALID)

        for _ in range(WARMUP_CALLS):
            call()
        verify = per_call_ns(CALLS_PER_ROUND, call)
        if valid != WARMUP_CALLS + ROUNDS * CALLS_PER_ROUND:
            sys.exit(f"verify_bench.py: only {valid} valid verdicts")

        trust = TrustList.verify(trust_list, root)
        sequences = 0

        def bare_call():
            nonlocal sequences
            sequences += trust.sequence()

        for _ in range(WARMUP_CALLS):
            bare_call()
        bare = per_call_ns(BARE_CALLS_PER_ROUND, bare_call)
        if sequences != (WARMUP_CALLS + ROUNDS * BARE_CALLS_PER_ROUND) * trust.sequence():
            sys.exit("verify_bench.py: bare calls miscounted")

    print(
        json.dumps(
            {
                "language": "python",
                "median_ns": round(verify[ROUNDS // 2], 1),
                "min_ns": round(verify[0], 1),
                "rounds": ROUNDS,
                "calls_per_round": CALLS_PER_ROUND,
                "bare_call_ns": round(bare[ROUNDS // 2], 1),
            },
            separators=(",", ":"),
        )
    )


if __name__ == "__main__":
    main()
