// The shop's door kit: "seen a minute ago", and each verdict's cue and words.
import Foundation
import Vaxpass
import XCTest

final class DoorTests: XCTestCase {
    static let allTests = [
        ("testAPassShownAgainWithinTheSeenWindowIsFlaggedAndCued", testAPassShownAgainWithinTheSeenWindowIsFlaggedAndCued),
        ("testTheSeenWindowIsConfigurableAndZeroTurnsItOff", testTheSeenWindowIsConfigurableAndZeroTurnsItOff),
        ("testEveryVerdictHasACueAndKoreanAndEnglishWordsNamingNobody", testEveryVerdictHasACueAndKoreanAndEnglishWordsNamingNobody),
    ]

    func testAPassShownAgainWithinTheSeenWindowIsFlaggedAndCued() throws {
        let scenario = try makeScenario()
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        let pass = try scenario.enrol(wallet)
        let verifier = try scenario.verifier()
        func verify(after minutes: Double) throws -> Verdict {
            let at = scenario.now + minutes * minute
            return try verifier.verify(text: wallet.presentation(of: pass.id, at: at).text(), now: at)
        }
        let first = try verify(after: 0)
        assertValidForKim(first, seen: false)
        XCTAssertEqual(verdictCue(verdict: first), .valid)
        // A fresh code of the same pass four minutes later: one pass for two people.
        let again = try verify(after: 4)
        assertValidForKim(again, seen: true)
        XCTAssertEqual(warningCode(warning: .seenRecently), "seen_recently")
        XCTAssertEqual(verdictCue(verdict: again), .seenRecently)
        XCTAssertEqual(cueCode(cue: .seenRecently), "seen_recently")
        XCTAssertEqual(verdictText(verdict: again, language: .english), "Valid. Seen recently: look again.")
        // Ten minutes after the last valid verdict the pass is forgotten (the paper pass: the
        // wallet signs no code that far past the time it trusts).
        let paper = try wallet.paper(passId: pass.id).text()
        assertValidForKim(try verifier.verify(text: paper, now: scenario.now + 14 * minute), paper: true, seen: false)
    }

    func testTheSeenWindowIsConfigurableAndZeroTurnsItOff() throws {
        let scenario = try makeScenario()
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        let pass = try scenario.enrol(wallet)
        XCTAssertEqual(defaultVerifierConfig().seenWindow, 10 * minute)
        var off = defaultVerifierConfig()
        off.seenWindow = 0
        let shop = try Verifier.open(path: scenario.path("off"), rootPublicKey: scenario.rootPublicKey, config: off)
        _ = try shop.applyTrustList(bytes: scenario.trustList, now: scenario.now)
        _ = try shop.applyRevocationList(bytes: scenario.revocationList, now: scenario.now)
        _ = try shop.applyRulesList(bytes: scenario.rulesList, now: scenario.now)
        for _ in 0..<2 {
            let text = try wallet.presentation(of: pass.id, at: scenario.now).text()
            assertValidForKim(try shop.verify(text: text, now: scenario.now), seen: false)
        }
        var negative = defaultVerifierConfig()
        negative.seenWindow = -1
        XCTAssertThrowsError(try Verifier.open(path: scenario.path("negative"), rootPublicKey: scenario.rootPublicKey,
                                               config: negative)) { error in
            guard case VaxpassError.InvalidArgument = error else { return XCTFail("got \(error)") }
        }
    }

    func testEveryVerdictHasACueAndKoreanAndEnglishWordsNamingNobody() throws {
        let scenario = try makeScenario()
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        let pass = try scenario.enrol(wallet)
        let verifier = try scenario.verifier()
        let paper = try verifier.verify(text: wallet.paper(passId: pass.id).text(), now: scenario.now)
        assertValidForKim(paper, paper: true, seen: false)
        XCTAssertEqual(verdictCue(verdict: paper), .checkId)
        XCTAssertEqual(verdictText(verdict: paper, language: .korean), "유효해요. 신분증을 확인해 주세요.")
        let screenshot = try wallet.presentation(of: pass.id, at: scenario.now).text()
        let refused = try verifier.verify(text: screenshot, now: scenario.now + 10 * minute)
        assertInvalid(refused, .presentationTooOld)
        XCTAssertEqual(verdictCue(verdict: refused), .refused)
        XCTAssertEqual(verdictText(verdict: refused, language: .korean),
                       "유효하지 않아요. " + reasonText(reason: .presentationTooOld, language: .korean))
        XCTAssertEqual(reasonText(reason: .expired, language: .korean), "유효기간이 지났어요.")
        for verdict in [paper, refused] {
            for language in [Language.korean, .english] {
                let text = verdictText(verdict: verdict, language: language)
                XCTAssertFalse(text.contains("김민준") || text.contains("1985"), text)
            }
        }
        let all: [Warning] = [.listsAging, .noRevocationList, .seenRecently]
        let texts = all.flatMap { w in [Language.korean, .english].map { warningText(warning: w, language: $0) } }
        XCTAssertEqual(Set(texts).count, texts.count)
    }
}
