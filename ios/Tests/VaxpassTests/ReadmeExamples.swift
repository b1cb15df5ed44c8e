// The README's Swift examples, compiled and run. The lines between the `README:<name>:begin`
// and `README:<name>:end` markers are copied into the README as they are.
//
// The examples are app code and use the device clock (`Date()`, and the idioms' default
// `at: Date()`), so their fixture is anchored at the real clock, with the scenario's offsets.
// The outcome does not depend on the day: the booster makes the pass valid without a time limit.
import Foundation
import Vaxpass
import XCTest

/// Stands in for the health authority's server, which the apps reach over the network.
struct AuthorityServer {
    let scenario: Scenario

    var rootPublicKey: Data { scenario.rootPublicKey }  // shipped inside the apps
    func nonce() -> Data { newNonce() }  // a real server remembers it for the session
    func enrol(request: Data, nonce: Data) throws -> Data { try scenario.answer(request, nonce: nonce) }
    func trustList() -> Data { scenario.trustList }
    func revocationList() -> Data { scenario.revocationList }
    func rulesList() -> Data { scenario.rulesList }
}

final class ReadmeExamples: XCTestCase {
    static let allTests = [
        ("testCitizen", testCitizen),
        ("testShop", testShop),
    ]

    func testCitizen() throws {
        let scenario = try makeScenario(now: Date())
        let server = AuthorityServer(scenario: scenario)
        let appSupport = scenario.directory
        let keychainProtector = XorPadProtector()  // an app's KeyProtector backed by the Keychain
        let identityProof = Data("mobile-id".utf8)  // e.g. a mobile ID token

        // README:citizen:begin
        let wallet = try Wallet.open(
            path: appSupport.appendingPathComponent("wallet.sqlite").path,
            keyProtector: keychainProtector,
            clock: SystemMonotonicClock())  // time since boot: a clock set ahead gets no codes

        // Once: enrol with the health authority, which signs the pass to this device's key.
        if try wallet.passes().isEmpty {
            let nonce = server.nonce()
            let request = try wallet.enrolmentRequest(nonce: nonce, identityProof: identityProof)
            let bundle = try server.enrol(request: request, nonce: nonce)
            let trustList = try TrustList.verify(bytes: server.trustList(), rootPublicKey: server.rootPublicKey)
            _ = try wallet.importPasses(issued: bundle, trustList: trustList, now: Date())
        }

        // At the door: a fresh code, redrawn at `refreshAt` (every 30 s) while on screen.
        let pass = try wallet.passes()[0]
        let shown = try wallet.presentation(of: pass.id)
        let qr = shown.qr()  // qr.bitmap(moduleSize:) is 8-bit grey pixels for a CGImage, or qr.png(moduleSize:)
        let refreshAt = shown.refreshAt()
        // README:citizen:end

        XCTAssertEqual(pass.holder.name(), "김민준")
        let bitmap = try qr.bitmap(moduleSize: 1)
        XCTAssertEqual(bitmap.pixels.count, Int((qr.width() + 8) * (qr.width() + 8)))
        XCTAssertFalse(try qr.png(moduleSize: 4).isEmpty)
        XCTAssertGreaterThan(try XCTUnwrap(refreshAt), Date())
        XCTAssertEqual(keychainProtector.calls.wrap, 1)
        assertValidForKim(try scenario.verifier().verify(shown.text()))
    }

    func testShop() throws {
        let scenario = try makeScenario(now: Date())
        let server = AuthorityServer(scenario: scenario)
        let appSupport = scenario.directory
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        let passId = try scenario.enrol(wallet).id
        let scanned = try wallet.presentation(of: passId).text()  // what the camera reads
        let paper = try wallet.paper(passId: passId).text()  // a printed pass

        // README:shop:begin
        let verifier = try Verifier.open(
            path: appSupport.appendingPathComponent("verifier.sqlite").path,
            rootPublicKey: server.rootPublicKey,
            config: defaultVerifierConfig())  // no rules compiled in: they come as a signed list

        // When online (at opening, then every few hours): fetch and apply the signed lists.
        _ = try verifier.applyTrustList(bytes: server.trustList(), now: Date())
        _ = try verifier.applyRevocationList(bytes: server.revocationList(), now: Date())
        _ = try verifier.applyRulesList(bytes: server.rulesList(), now: Date())  // by date and venue mode

        // Offline, for each code scanned at the door:
        func doorMessage(for scanned: String) throws -> String {
            switch try verifier.verify(scanned) {
            case let .valid(holder, idCheckRequired, _, _) where idCheckRequired:
                // A paper pass (or a screenshot rebuilt into one) is not tied to a phone.
                return "🪪 Ask for an ID: \(holder.name()), born \(holder.dateOfBirth())"
            case let .valid(holder, _, _, _):
                return "✅ \(holder.name()), born \(holder.dateOfBirth())"  // compare with the person
            case let .notValid(reason, _, _, _):
                return "❌ \(reason.code)"  // e.g. "presentation_too_old"
            case .exempt:
                return "🚪 No pass needed here"  // the shop's venue mode is exempt
            }
        }
        // README:shop:end

        XCTAssertEqual(try doorMessage(for: scanned), "✅ 김민준, born 1985-03-14")
        XCTAssertEqual(try doorMessage(for: paper), "🪪 Ask for an ID: 김민준, born 1985-03-14")
        XCTAssertEqual(try doorMessage(for: ScenarioTests.tamper(scanned)), "❌ bad_signature")
        let verdict = try verifier.verify(scanned)
        assertValidForKim(verdict)
        assertInvalid(try verifier.verify(ScenarioTests.tamper(scanned)), .badSignature)
        XCTAssertEqual(try verifier.verify(scanned, at: Date() + 10 * minute).refusal?.code, "presentation_too_old")
    }
}
