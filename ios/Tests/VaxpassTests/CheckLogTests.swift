// The shop's check log: every verdict logged, the counters, a report exported and verified as an
// inspector would, good and tampered.
import Foundation
import Vaxpass
import XCTest

final class CheckLogTests: XCTestCase {
    static let allTests = [
        ("testEveryVerdictIsInTheLogAndTheCounters", testEveryVerdictIsInTheLogAndTheCounters),
        ("testAnExportedReportVerifiesOfflineAndSaysWhatItProves", testAnExportedReportVerifiesOfflineAndSaysWhatItProves),
        ("testATamperedOrForeignReportIsRefusedWithAReason", testATamperedOrForeignReportIsRefusedWithAReason),
        ("testTheShopKeyIsWrappedByTheAppsProtectorOrIsAPlatformKey",
         testTheShopKeyIsWrappedByTheAppsProtectorOrIsAPlatformKey),
    ]

    /// A scenario whose verifier saw a live pass, a garbage scan and a screenshot ten minutes
    /// late: 1 valid, 2 refused.
    private func door() throws -> (Scenario, Verifier) {
        let scenario = try makeScenario()
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        let pass = try scenario.enrol(wallet)
        let verifier = try scenario.verifier()
        XCTAssertEqual(try verifier.checkLogHead().count, 0)
        let screenshot = try wallet.presentation(of: pass.id, at: scenario.now).text()
        assertValidForKim(try verifier.verify(text: screenshot, now: scenario.now))
        assertInvalid(try verifier.verify(text: "not a QR text", now: scenario.now), .malformed)
        assertInvalid(try verifier.verify(text: screenshot, now: scenario.now + 10 * minute), .presentationTooOld)
        return (scenario, verifier)
    }

    func testEveryVerdictIsInTheLogAndTheCounters() throws {
        let (scenario, verifier) = try door()
        let head = try verifier.checkLogHead()
        XCTAssertEqual(head.count, 3)
        XCTAssertEqual(head.hash.count, 32)
        XCTAssertEqual(try verifier.checkLogStatus(), .intact(head: head))
        let counters = try verifier.checkCounters(now: scenario.now + 10 * minute)
        for tally in [counters.thisHour, counters.today] {
            XCTAssertEqual([tally.scans, tally.valid, tally.refused], [3, 1, 2])
            XCTAssertEqual(tally.byReason, [CodeCount(code: "malformed", count: 1),
                                            CodeCount(code: "presentation_too_old", count: 1)])
        }
        XCTAssertEqual(defaultVerifierConfig().logRetention, 28 * day)
    }

    func testAnExportedReportVerifiesOfflineAndSaysWhatItProves() throws {
        let (scenario, verifier) = try door()
        let later = scenario.now + 11 * minute
        let report = try verifier.exportReport(from: scenario.now - hour, to: later, now: later)
        let shopKey = try verifier.shopPublicKey()
        let anchor = try verifier.anchor(now: later)  // posted to the authority at anchorPath()
        XCTAssertEqual(anchorPath(), "/v1/anchors")
        guard case let .proven(proof) = verifyReport(report: report, shopKey: shopKey, anchor: anchor) else {
            return XCTFail("the report should verify")
        }
        XCTAssertEqual([proof.checks, proof.valid, proof.refused, proof.idChecks], [3, 1, 2, 0])
        XCTAssertEqual(proof.shopKey, shopKey)
        XCTAssertTrue(proof.listsFresh)
        XCTAssertEqual(proof.anchor, .matches(count: 3))
        XCTAssertEqual(proof.head, try verifier.checkLogHead())
        XCTAssertTrue(proof.sentence.contains("checked 3 passes") && proof.sentence.contains("2 refused"), proof.sentence)
        XCTAssertTrue(proof.sentence.contains("KST"), proof.sentence)
        XCTAssertFalse(proof.sentence.contains("김민준"), proof.sentence)
        guard case let .proven(unanchored) = verifyReport(report: report, shopKey: nil, anchor: nil) else {
            return XCTFail("the report should verify without an anchor")
        }
        XCTAssertEqual(unanchored.anchor, .notGiven)
    }

    func testATamperedOrForeignReportIsRefusedWithAReason() throws {
        let (scenario, verifier) = try door()
        let end = scenario.now + 10 * minute
        let report = try verifier.exportReport(from: scenario.now - hour, to: end, now: end)
        var tampered = report
        tampered[tampered.count / 2] ^= 1
        guard case let .refused(_, code, detail) = verifyReport(report: tampered, shopKey: nil, anchor: nil) else {
            return XCTFail("a tampered report must be refused")
        }
        XCTAssertFalse(code.isEmpty || detail.isEmpty)
        let other = try Verifier.open(path: scenario.path("other"), rootPublicKey: scenario.rootPublicKey,
                                      config: defaultVerifierConfig())
        guard case let .refused(reason, code, _) = verifyReport(report: report, shopKey: try other.shopPublicKey(),
                                                                anchor: nil) else {
            return XCTFail("a report of another shop must be refused")
        }
        XCTAssertEqual(reason, .wrongKey)
        XCTAssertEqual(code, "wrong_key")
        guard case .refused = verifyReport(report: report.dropLast(10), shopKey: nil, anchor: nil) else {
            return XCTFail("a truncated report must be refused")
        }
    }

    func testTheShopKeyIsWrappedByTheAppsProtectorOrIsAPlatformKey() throws {
        let scenario = try makeScenario()
        let config = defaultVerifierConfig()
        let protector = XorPadProtector()
        let path = scenario.path("protected-shop")
        let key = try Verifier.openWithShopKeyProtector(path: path, rootPublicKey: scenario.rootPublicKey,
                                                        config: config, keyProtector: protector).shopPublicKey()
        XCTAssertEqual(protector.calls.wrap, 1)
        let reopened = try Verifier.openWithShopKeyProtector(path: path, rootPublicKey: scenario.rootPublicKey,
                                                             config: config, keyProtector: protector)
        XCTAssertEqual(try reopened.shopPublicKey(), key)
        // Another protector cannot unwrap it: the reports cannot be signed, but the shop still verifies.
        let other = try Verifier.openWithShopKeyProtector(path: path, rootPublicKey: scenario.rootPublicKey,
                                                          config: config, keyProtector: XorPadProtector())
        XCTAssertThrowsError(try other.shopPublicKey()) { error in
            guard case VaxpassError.DeviceKeyUnavailable = error else { return XCTFail("got \(error)") }
        }
        assertInvalid(try other.verify(text: "not a QR text", now: scenario.now), .noTrustList)

        let shop = try Verifier.openWithShopSigner(path: scenario.path("platform-shop"),
                                                   rootPublicKey: scenario.rootPublicKey, config: config,
                                                   signer: CountingP256Signer())
        _ = try shop.applyTrustList(bytes: scenario.trustList, now: scenario.now)
        _ = try shop.applyRulesList(bytes: scenario.rulesList, now: scenario.now)
        assertInvalid(try shop.verify(text: "not a QR text", now: scenario.now), .malformed)
        let shopKey = try shop.shopPublicKey()
        XCTAssertEqual(shopKey.count, 33, "a P-256 shop key, compressed")
        let report = try shop.exportReport(from: scenario.now - hour, to: scenario.now, now: scenario.now)
        guard case let .proven(proof) = verifyReport(report: report, shopKey: shopKey,
                                                     anchor: try shop.anchor(now: scenario.now)) else {
            return XCTFail("a report signed by the platform key should verify")
        }
        XCTAssertEqual(proof.checks, 1)
    }
}
