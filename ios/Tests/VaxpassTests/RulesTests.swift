// The rules come as a signed list: an update changes the verdict, the shop's venue mode is a
// stored setting, every verdict carries the rules it was judged under, and the wallet says when
// a pass works.
import Foundation
import Vaxpass
import XCTest

private let cafeAndExempt = [TestMode(name: "restaurant_cafe", exempt: false), TestMode(name: "exempt", exempt: true)]

private func ruleSet(_ takesEffect: String, primaryValidDays: Int32?, daysAfterPrimary: Int32 = 14,
                     boosterValidDays: Int32? = nil) -> TestRuleSet {
    TestRuleSet(takesEffect: takesEffect, daysAfterPrimary: daysAfterPrimary, primaryValidDays: primaryValidDays,
                boosterValidDays: boosterValidDays, modes: cafeAndExempt)
}

private func kstMidnight(_ date: String) -> Date {
    ISO8601DateFormatter().date(from: "\(date)T00:00:00+09:00")!
}

final class RulesTests: XCTestCase {
    static let allTests = [
        ("testARulesUpdateChangesTheVerdictAndTheVerdictCarriesItsRules",
         testARulesUpdateChangesTheVerdictAndTheVerdictCarriesItsRules),
        ("testTheVenueModeSurvivesAReopenAndAnUnknownOneIsRefused",
         testTheVenueModeSurvivesAReopenAndAnUnknownOneIsRefused),
        ("testTheWalletSaysFromAndUntilWhenAPassIsValid", testTheWalletSaysFromAndUntilWhenAPassIsValid),
    ]

    func testARulesUpdateChangesTheVerdictAndTheVerdictCarriesItsRules() throws {
        let scenario = try makeScenario()
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        let pass = try scenario.enrol(wallet)
        let verifier = try scenario.verifier()
        let text = try wallet.presentation(of: pass.id, at: scenario.now).text()
        guard case let .valid(_, _, _, first) = try verifier.verify(text: text, now: scenario.now) else {
            return XCTFail("expected valid")
        }
        XCTAssertEqual(first.mode, "restaurant_cafe")
        XCTAssertFalse(first.offlineDefault)
        // The booster of 1 December is 12 days old: a 10-day booster limit ends the pass.
        let tightened = try scenario.authority.rulesListOf(
            ruleSets: [ruleSet("2021-12-01", primaryValidDays: 180, boosterValidDays: 10)],
            now: scenario.now - hour, validFor: day)
        guard case let .updated(sequence) = try verifier.applyRulesList(bytes: tightened, now: scenario.now) else {
            return XCTFail("expected an update")
        }
        guard case let .notValid(reason, _, rules, ruleText) = try verifier.verify(text: text, now: scenario.now) else {
            return XCTFail("expected not valid")
        }
        XCTAssertEqual(reason, .policyNotMet(.vaccinationExpired))
        XCTAssertEqual(ruleText, "primary series older than 180 days with no booster, or booster older than 10 days")
        XCTAssertEqual(rules?.sequence, sequence)
        XCTAssertGreaterThan(sequence, first.sequence)
        XCTAssertEqual(rules?.takesEffect, "2021-12-01")
        XCTAssertEqual(rules?.mode, "restaurant_cafe")
    }

    func testTheVenueModeSurvivesAReopenAndAnUnknownOneIsRefused() throws {
        let scenario = try makeScenario()
        let path = scenario.path("shop")
        let verifier = try Verifier.open(path: path, rootPublicKey: scenario.rootPublicKey, config: defaultVerifierConfig())
        _ = try verifier.applyTrustList(bytes: scenario.trustList, now: scenario.now)
        _ = try verifier.applyRulesList(bytes: scenario.rulesList, now: scenario.now)
        XCTAssertNil(verifier.venueMode())
        XCTAssertEqual(try verifier.venueModes(now: scenario.now), ["restaurant_cafe", "exempt"])
        XCTAssertThrowsError(try verifier.setVenueMode(mode: "sauna"))
        XCTAssertNil(verifier.venueMode())
        try verifier.setVenueMode(mode: "exempt")
        let reopened = try Verifier.open(path: path, rootPublicKey: scenario.rootPublicKey, config: defaultVerifierConfig())
        XCTAssertEqual(reopened.venueMode(), "exempt")
        guard case let .exempt(_, rules) = try reopened.verify(text: "anything at all", now: scenario.now) else {
            return XCTFail("expected exempt")
        }
        XCTAssertEqual(rules.mode, "exempt")
    }

    func testTheWalletSaysFromAndUntilWhenAPassIsValid() throws {
        let scenario = try makeScenario()
        // From 3 January a pass needs 40 days after the second dose and lasts 180 days without a booster.
        let rules = try scenario.authority.rulesListOf(
            ruleSets: [ruleSet("2021-12-01", primaryValidDays: nil),
                       ruleSet("2022-01-03", primaryValidDays: 180, daysAfterPrimary: 40)],
            now: scenario.now - hour, validFor: day)
        let wallet = try Wallet.open(path: scenario.path("fresh"), keyProtector: nil, clock: SystemMonotonicClock())
        let nonce = newNonce()
        let request = try wallet.enrolmentRequest(nonce: nonce, identityProof: Data("mobile-id".utf8))
        let twoDoses: [Event] = [
            .vaccination(product: .comirnaty, dose: 1, of: 2, date: "2021-11-10"),
            .vaccination(product: .comirnaty, dose: 2, of: 2, date: "2021-12-01"),
        ]
        let bundle = try scenario.authority.answerEnrolment(
            request: request, nonce: nonce, person: Scenario.person, events: twoDoses,
            notBefore: scenario.now - day, expires: scenario.now + 364 * day, now: scenario.now)
        let trusted = try TrustList.verify(bytes: scenario.trustList, rootPublicKey: scenario.rootPublicKey)
        let pass = try XCTUnwrap(try wallet.importPasses(issued: bundle, trustList: trusted, now: scenario.now).first)
        XCTAssertEqual(try wallet.passStatus(passId: pass.id, mode: nil, now: scenario.now),
                       .notValid(reason: .noRulesList, ruleText: nil))
        _ = try wallet.applyRulesList(bytes: rules, rootPublicKey: scenario.rootPublicKey)
        // Day 12 of the 14-day wait; on 3 January, day 33, the new 40-day wait ends it again.
        XCTAssertEqual(try wallet.passStatus(passId: pass.id, mode: "restaurant_cafe", now: scenario.now),
                       .validFrom(starts: kstMidnight("2021-12-15"), until: kstMidnight("2022-01-03")))
    }
}
