// Shared test fixtures: the acceptance scenario's authority, person and lists, with a fixed clock.
import Foundation
import Vaxpass
import XCTest

let minute: TimeInterval = 60
let hour: TimeInterval = 3_600
let day: TimeInterval = 86_400

/// The scenario's fixed clock: 2021-12-13T03:10:00Z (12:10 in Seoul).
let scenarioNow = Date(timeIntervalSince1970: 1_639_365_000)

/// One authority with its signed lists, and a scratch directory for the SQLite files.
/// Times are relative to `now`: authority created 30 days before, credentials valid from
/// `now - 1 day` for 365 days, lists made at `now - 1 hour` and valid for a day.
final class Scenario {
    static let person = Person(name: "김민준", dateOfBirth: "1985-03-14")
    static let events: [Event] = [
        .vaccination(product: .comirnaty, dose: 1, of: 2, date: "2021-06-20"),
        .vaccination(product: .comirnaty, dose: 2, of: 2, date: "2021-07-25"),
        .vaccination(product: .comirnaty, dose: 3, of: 2, date: "2021-12-01"),
    ]

    let now: Date
    let directory: URL
    let authority: Authority
    let rootPublicKey: Data
    let trustList: Data
    let revocationList: Data
    let rulesList: Data

    init(now: Date = scenarioNow) throws {
        self.now = now
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("vaxpass-swift-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        authority = try Authority.create(path: directory.appendingPathComponent("authority.sqlite").path,
                                         issuer: "KR", now: now - 30 * day)
        rootPublicKey = authority.rootPublicKey()
        trustList = try authority.trustList(now: now - hour, validFor: day)
        revocationList = try authority.revocationList(now: now - hour, validFor: day)
        rulesList = try authority.rulesList(now: now - hour, validFor: day)
    }

    /// A fresh SQLite path in the scenario's directory.
    func path(_ name: String) -> String {
        directory.appendingPathComponent("\(name)-\(UUID().uuidString).sqlite").path
    }

    /// The authority's side of an enrolment, as its server would run it.
    func answer(_ request: Data, nonce: Data) throws -> Data {
        try authority.answerEnrolment(request: request, nonce: nonce, person: Self.person, events: Self.events,
                                      notBefore: now - day, expires: now - day + 365 * day, now: now)
    }

    /// Enrols a wallet and imports its pass, checked against the verified trust list.
    func enrol(_ wallet: Wallet) throws -> PassSummary {
        let nonce = newNonce()
        let request = try wallet.enrolmentRequest(nonce: nonce, identityProof: Data("mobile-id".utf8))
        let bundle = try answer(request, nonce: nonce)
        let trusted = try TrustList.verify(bytes: trustList, rootPublicKey: rootPublicKey)
        let imported = try wallet.importPasses(issued: bundle, trustList: trusted, now: now)
        XCTAssertEqual(imported.count, 1)
        return try XCTUnwrap(imported.first)
    }

    /// A shop's verifier with the default config, fed the three signed lists (the rules list: the
    /// Korean rules of early 2022).
    func verifier() throws -> Verifier {
        let verifier = try Verifier.open(path: path("verifier"), rootPublicKey: rootPublicKey,
                                         config: defaultVerifierConfig())
        let trustApplied = try verifier.applyTrustList(bytes: trustList, now: now)
        let revocationApplied = try verifier.applyRevocationList(bytes: revocationList, now: now)
        XCTAssertEqual(trustApplied, .updated(sequence: 1))
        XCTAssertEqual(revocationApplied, .updated(sequence: 1))
        XCTAssertEqual(try verifier.applyRulesList(bytes: rulesList, now: now), .updated(sequence: 1))
        return verifier
    }

    func removeFiles() {
        try? FileManager.default.removeItem(at: directory)
    }
}

extension XCTestCase {
    /// A scenario whose files are deleted when the test ends.
    func makeScenario(now: Date = scenarioNow) throws -> Scenario {
        let scenario = try Scenario(now: now)
        addTeardownBlock { scenario.removeFiles() }
        return scenario
    }
}

/// Asserts a verdict is valid for the scenario's holder, from a live phone unless `paper`, with
/// fresh lists; `seen`: whether the same pass was found valid within the seen window before
/// (nil: whatever the test verified before).
func assertValidForKim(_ verdict: Verdict, paper: Bool = false, seen: Bool? = nil,
                       file: StaticString = #filePath, line: UInt = #line) {
    switch verdict {
    case let .valid(holder, idCheckRequired, warnings, _):
        XCTAssertEqual(holder.name(), "김민준", file: file, line: line)
        XCTAssertEqual(holder.dateOfBirth(), "1985-03-14", file: file, line: line)
        XCTAssertEqual(idCheckRequired, paper, "a paper pass, and only one, needs an ID check", file: file, line: line)
        let expected: [Warning] = seen == true ? [.seenRecently] : []
        XCTAssertEqual(seen == nil ? warnings.filter { $0 != .seenRecently } : warnings, expected,
                       file: file, line: line)
    case let .notValid(reason, _, _, _):
        XCTFail("expected valid, got \(reason.code)", file: file, line: line)
    case .exempt:
        XCTFail("expected valid, got exempt", file: file, line: line)
    }
}

/// Asserts a verdict is not valid, for `reason`: a refused pass has no holder to read.
func assertInvalid(_ verdict: Verdict, _ reason: Reason, file: StaticString = #filePath, line: UInt = #line) {
    switch verdict {
    case .valid:
        XCTFail("expected \(reason.code), got a valid verdict", file: file, line: line)
    case let .notValid(refused, _, _, _):
        XCTAssertEqual(refused, reason, file: file, line: line)
    case .exempt:
        XCTFail("expected \(reason.code), got exempt", file: file, line: line)
    }
}

extension Verdict {
    /// Whether the verdict lets someone in (a live phone or a paper pass).
    var admits: Bool {
        if case .valid = self { return true }
        return false
    }

    /// The reason of a refused verdict.
    var refusal: Reason? {
        if case let .notValid(reason, _, _, _) = self { return reason }
        return nil
    }
}
