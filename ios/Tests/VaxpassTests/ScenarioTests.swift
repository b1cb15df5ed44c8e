// The acceptance scenario: issue, enrol, import, show, verify; and what must not pass.
import Dispatch
import Foundation
import Vaxpass
import XCTest

final class ScenarioTests: XCTestCase {
    static let allTests = [
        ("testEnrolledPassShownAsRotatingQrIsValid", testEnrolledPassShownAsRotatingQrIsValid),
        ("testTamperedQrIsBadSignature", testTamperedQrIsBadSignature),
        ("testScreenshotTenMinutesLaterIsTooOld", testScreenshotTenMinutesLaterIsTooOld),
        ("testGarbageListIsRefusedAndVerifierLivesOn", testGarbageListIsRefusedAndVerifierLivesOn),
        ("testGarbageImportThrowsAndWalletLivesOn", testGarbageImportThrowsAndWalletLivesOn),
        ("testPresentationOfBadIdIsInvalidArgument", testPresentationOfBadIdIsInvalidArgument),
        ("testEightThreadsVerifyConcurrently", testEightThreadsVerifyConcurrently),
        ("testRustPanicIsAThrownError", testRustPanicIsAThrownError),
    ]

    /// (a) authority issues → wallet enrols and imports → rotating QR → verifier says valid.
    func testEnrolledPassShownAsRotatingQrIsValid() throws {
        let scenario = try makeScenario()
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        let pass = try scenario.enrol(wallet)
        XCTAssertEqual(pass.id.count, 12)
        XCTAssertEqual(pass.kind, .vaccination)
        XCTAssertEqual(pass.holder.name(), "김민준")
        XCTAssertEqual(pass.validFrom, scenario.now - day)
        XCTAssertEqual(pass.validUntil, scenario.now - day + 365 * day)
        XCTAssertEqual(try wallet.passes().map(\.id), [pass.id])

        let shown = try wallet.presentation(of: pass.id, at: scenario.now)
        XCTAssertTrue(shown.text().hasPrefix("VP1:"))
        XCTAssertFalse(shown.idCheckRequired())
        let refreshAt = try XCTUnwrap(shown.refreshAt())
        XCTAssertGreaterThan(refreshAt, scenario.now)
        XCTAssertLessThanOrEqual(refreshAt, scenario.now + minute)
        let qr = shown.qr()
        XCTAssertEqual(try qr.bitmap(moduleSize: 2).pixels.count, Int(qr.width() + 8) * Int(qr.width() + 8) * 4)

        let verifier = try scenario.verifier()
        assertValidForKim(try verifier.verify(shown.text(), at: scenario.now + 10))
        // The generated call, without the idiom, agrees.
        assertValidForKim(try verifier.verify(text: shown.text(), now: scenario.now + 10))
    }

    /// (b) Bytes 20–21 of the CBOR (inside the credential's exp claim) changed: the issuer's
    /// signature no longer matches.
    func testTamperedQrIsBadSignature() throws {
        let scenario = try makeScenario()
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        let pass = try scenario.enrol(wallet)
        let text = try wallet.presentation(of: pass.id, at: scenario.now).text()
        let verifier = try scenario.verifier()
        assertValidForKim(try verifier.verify(text, at: scenario.now))

        let tampered = Self.tamper(text)
        XCTAssertNotEqual(tampered, text)
        XCTAssertEqual(tampered.count, text.count)
        let verdict = try verifier.verify(tampered, at: scenario.now)
        assertInvalid(verdict, .badSignature)
        XCTAssertEqual(verdict.refusal?.code, "bad_signature")
    }

    /// Replaces base45 body characters [30, 33) — bytes 20–21 — with "000" (or "100").
    static func tamper(_ text: String) -> String {
        let prefix = "VP1:"
        precondition(text.hasPrefix(prefix))
        var body = Array(text.dropFirst(prefix.count))
        let replacement: [Character] = String(body[30..<33]) == "000" ? ["1", "0", "0"] : ["0", "0", "0"]
        body.replaceSubrange(30..<33, with: replacement)
        return prefix + String(body)
    }

    /// (c) A screenshot: a presentation made at `now`, shown ten minutes later.
    func testScreenshotTenMinutesLaterIsTooOld() throws {
        let scenario = try makeScenario()
        let clock = MovableClock(elapsed: hour)
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: clock)
        let pass = try scenario.enrol(wallet)
        let screenshot = try wallet.presentation(of: pass.id, at: scenario.now).text()
        let verifier = try scenario.verifier()
        let verdict = try verifier.verify(screenshot, at: scenario.now + 10 * minute)
        assertInvalid(verdict, .presentationTooOld)
        XCTAssertEqual(verdict.refusal?.code, "presentation_too_old")
        // Ten minutes on the phone too: a fresh presentation at the later time is fine again.
        clock.elapsed += 10 * minute
        let fresh = try wallet.presentation(of: pass.id, at: scenario.now + 10 * minute).text()
        assertValidForKim(try verifier.verify(fresh, at: scenario.now + 10 * minute))
    }

    /// (d) Random bytes as a trust list: the list is refused, and the verifier keeps working.
    func testGarbageListIsRefusedAndVerifierLivesOn() throws {
        let scenario = try makeScenario()
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        let pass = try scenario.enrol(wallet)
        let verifier = try scenario.verifier()
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 64, 1_000] {
            let garbage = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            XCTAssertThrowsError(try verifier.applyTrustList(bytes: garbage, now: scenario.now)) { error in
                guard case VaxpassError.ListRefused(let message) = error else {
                    return XCTFail("expected VaxpassError.ListRefused, got \(error)")
                }
                XCTAssertFalse(message.isEmpty)
            }
            XCTAssertThrowsError(try verifier.applyRevocationList(bytes: garbage, now: scenario.now)) { error in
                guard case VaxpassError.ListRefused = error else {
                    return XCTFail("expected VaxpassError.ListRefused, got \(error)")
                }
            }
        }
        // A garbage QR text is a verdict, not an error.
        assertInvalid(try verifier.verify("VP1:not base45 at all", at: scenario.now), .malformed)
        // Hangul from a Korean input method that does not recover into a pass: switch it to English.
        assertInvalid(try verifier.verify("폐1:가", at: scenario.now), .koreanInputMethod)
        // The stored lists are untouched and verification goes on.
        let text = try wallet.presentation(of: pass.id, at: scenario.now).text()
        assertValidForKim(try verifier.verify(text, at: scenario.now))
        XCTAssertEqual(try verifier.applyTrustList(bytes: scenario.trustList, now: scenario.now), .unchanged)
    }

    /// (d) A garbage enrolment bundle: a typed error, nothing stored, and the wallet keeps working.
    func testGarbageImportThrowsAndWalletLivesOn() throws {
        let scenario = try makeScenario()
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        let trusted = try TrustList.verify(bytes: scenario.trustList, rootPublicKey: scenario.rootPublicKey)
        XCTAssertThrowsError(try wallet.importPasses(issued: Data("garbage".utf8), trustList: trusted, now: scenario.now)) {
            guard case VaxpassError.NotVaxpass = $0 else { return XCTFail("expected VaxpassError.NotVaxpass, got \($0)") }
        }
        XCTAssertEqual(try wallet.passes().count, 0)
        // A trust list checked against the wrong root key is refused before it reaches the wallet.
        XCTAssertThrowsError(try TrustList.verify(bytes: scenario.trustList, rootPublicKey: Data(count: 32))) {
            guard case VaxpassError.ListRefused = $0 else { return XCTFail("expected ListRefused, got \($0)") }
        }
        XCTAssertThrowsError(try TrustList.verify(bytes: scenario.trustList, rootPublicKey: Data(count: 3))) {
            guard case VaxpassError.InvalidArgument = $0 else { return XCTFail("expected InvalidArgument, got \($0)") }
        }
        let pass = try scenario.enrol(wallet)
        let verifier = try scenario.verifier()
        assertValidForKim(try verifier.verify(try wallet.presentation(of: pass.id, at: scenario.now).text(),
                                              at: scenario.now))
    }

    /// (d) A pass id that is not one: InvalidArgument, and the wallet keeps working.
    func testPresentationOfBadIdIsInvalidArgument() throws {
        let scenario = try makeScenario()
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        let pass = try scenario.enrol(wallet)
        XCTAssertThrowsError(try wallet.presentation(passId: "not-an-id", now: scenario.now)) {
            guard case VaxpassError.InvalidArgument = $0 else {
                return XCTFail("expected VaxpassError.InvalidArgument, got \($0)")
            }
        }
        // Well-formed but unknown: the app passed an id it does not hold, also an invalid argument.
        XCTAssertThrowsError(try wallet.presentation(passId: "000000000000", now: scenario.now)) {
            guard case VaxpassError.InvalidArgument = $0 else {
                return XCTFail("expected VaxpassError.InvalidArgument, got \($0)")
            }
        }
        let verifier = try scenario.verifier()
        assertValidForKim(try verifier.verify(try wallet.presentation(of: pass.id, at: scenario.now).text(),
                                              at: scenario.now))
    }

    /// (e) One verifier, eight threads: live codes are valid, screenshots too old, every time.
    func testEightThreadsVerifyConcurrently() throws {
        let scenario = try makeScenario()
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        let pass = try scenario.enrol(wallet)
        let verifier = try scenario.verifier()
        let live = try wallet.presentation(of: pass.id, at: scenario.now).text()
        let later = scenario.now + 10 * minute  // the same code, ten minutes on: a screenshot

        let threads = 8
        let rounds = 20
        let now = scenario.now
        let results = Outcomes()
        // Eight real threads (a dispatch pool may use fewer on a small machine), released together.
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for thread in 0..<threads {
            done.enter()
            Thread {
                defer { done.leave() }
                start.wait()
                var mine: [Outcome] = []
                for round in 0..<rounds {
                    let expectedValid = (thread + round) % 2 == 0
                    let at = expectedValid ? now + 5 : later
                    mine.append(Outcome(thread: thread, expectedValid: expectedValid,
                                        verdict: Result { try verifier.verify(live, at: at) }))
                }
                results.append(contentsOf: mine)
            }.start()
        }
        for _ in 0..<threads { start.signal() }
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success, "the threads did not finish")

        let outcomes = results.all
        XCTAssertEqual(outcomes.count, threads * rounds)
        XCTAssertEqual(Set(outcomes.map(\.thread)), Set(0..<threads))
        for outcome in outcomes {
            let verdict = try outcome.verdict.get()
            if outcome.expectedValid {
                assertValidForKim(verdict)
            } else {
                assertInvalid(verdict, .presentationTooOld)
            }
        }
    }

    struct Outcome {
        let thread: Int
        let expectedValid: Bool
        let verdict: Result<Verdict, Error>
    }

    /// The threads' results, collected under a lock.
    final class Outcomes: @unchecked Sendable {
        private let lock = NSLock()
        private var outcomes: [Outcome] = []

        func append(contentsOf more: [Outcome]) {
            lock.lock()
            defer { lock.unlock() }
            outcomes.append(contentsOf: more)
        }

        var all: [Outcome] {
            lock.lock()
            defer { lock.unlock() }
            return outcomes
        }
    }

    /// (h) A Rust panic reaches Swift as a thrown error, not a crash, and the process lives on.
    func testRustPanicIsAThrownError() throws {
        for _ in 0..<3 {
            XCTAssertThrowsError(try panicForCrashReportingTest()) { error in
                XCTAssertFalse(error is VaxpassError, "a panic is not a VaxpassError: \(error)")
                XCTAssertTrue(error.localizedDescription.contains("deliberate panic"), "\(error)")
            }
        }
        XCTAssertEqual(newNonce().count, 32)
        let scenario = try makeScenario()
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        let pass = try scenario.enrol(wallet)
        assertValidForKim(try scenario.verifier().verify(try wallet.presentation(of: pass.id, at: scenario.now).text(),
                                                         at: scenario.now))
    }
}
