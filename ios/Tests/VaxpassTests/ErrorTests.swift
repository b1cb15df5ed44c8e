// Every public error case, each produced by a real call, and what an app does with each.
import Foundation
import Vaxpass
import XCTest

/// A key protector with a bug: it throws an error that is not a `VaxpassError`.
final class BrokenProtector: KeyProtector, @unchecked Sendable {
    struct Bug: Error {}
    func wrap(secret: Data) throws -> Data { throw Bug() }
    func unwrap(wrapped: Data) throws -> Data { throw Bug() }
}

final class ErrorTests: XCTestCase {
    static let allTests = [
        ("testEveryErrorCaseComesFromARealCallAndSaysWhatToDo", testEveryErrorCaseComesFromARealCallAndSaysWhatToDo),
    ]

    /// What an app does with each error. A `switch` with no `default`: a new case does not
    /// compile here until the app (this test) decides what to do with it.
    static func action(_ error: VaxpassError) -> (name: String, action: String) {
        switch error {
        case .NotVaxpass: return ("NotVaxpass", "show: not a vaxpass code")
        case let .Refused(reason, _): return ("Refused", "show: \(reason.code)")
        case .ListRefused: return ("ListRefused", "keep the old list")
        case .UpdateRequired: return ("UpdateRequired", "ask for an app update")
        case .DeviceKeyUnavailable: return ("DeviceKeyUnavailable", "re-enrol")
        case .ClockNotTrusted: return ("ClockNotTrusted", "go online")
        case .InvalidArgument: return ("InvalidArgument", "report a bug")
        case .WrongState: return ("WrongState", "report a bug")
        case .Storage: return ("Storage", "storage failed")
        case .Internal: return ("Internal", "report a bug")
        }
    }

    func testEveryErrorCaseComesFromARealCallAndSaysWhatToDo() throws {
        let scenario = try makeScenario()
        var seen: [String: String] = [:]
        func expect(_ name: String, file: StaticString = #filePath, line: UInt = #line, _ call: () throws -> Void) {
            XCTAssertThrowsError(try call(), file: file, line: line) { error in
                guard let error = error as? VaxpassError else {
                    return XCTFail("expected VaxpassError.\(name), got \(error)", file: file, line: line)
                }
                let (got, action) = Self.action(error)
                XCTAssertEqual(got, name, file: file, line: line)
                XCTAssertFalse("\(error)".contains("김민준"), "no personal data in an error", file: file, line: line)
                seen[got] = action
            }
        }
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        let pass = try scenario.enrol(wallet)
        let verifier = try scenario.verifier()
        let trusted = try TrustList.verify(bytes: scenario.trustList, rootPublicKey: scenario.rootPublicKey)

        // Not a vaxpass code: garbage instead of an enrolment answer.
        expect("NotVaxpass") { _ = try wallet.importPasses(issued: Data("garbage".utf8), trustList: nil, now: scenario.now) }
        // Refused with the verifier's reason: a pass bound to another phone.
        let other = try Wallet.open(path: scenario.path("other"), keyProtector: nil, clock: SystemMonotonicClock())
        let nonce = newNonce()
        let bundle = try scenario.answer(try other.enrolmentRequest(nonce: nonce, identityProof: Data()), nonce: nonce)
        expect("Refused") { _ = try wallet.importPasses(issued: bundle, trustList: trusted, now: scenario.now) }
        // A list refused, the old one kept: an older list after a newer one.
        _ = try verifier.applyTrustList(bytes: try scenario.authority.trustList(now: scenario.now, validFor: 86_400),
                                        now: scenario.now)
        expect("ListRefused") { _ = try verifier.applyTrustList(bytes: scenario.trustList, now: scenario.now) }
        // Update the app: a store whose schema version (SQLite header bytes 60..63) is newer.
        let newer = scenario.path("newer")
        do { _ = try Verifier.open(path: newer, rootPublicKey: scenario.rootPublicKey, config: defaultVerifierConfig()) }
        let file = try XCTUnwrap(FileHandle(forUpdatingAtPath: newer))
        file.seek(toFileOffset: 60)
        file.write(Data([0, 0, 0x27, 0x0f]))  // 9,999
        file.closeFile()
        expect("UpdateRequired") {
            _ = try Verifier.open(path: newer, rootPublicKey: scenario.rootPublicKey, config: defaultVerifierConfig())
        }
        // The device key is gone: a protected wallet opened with another pad.
        let protected = scenario.path("protected")
        do { _ = try Wallet.open(path: protected, keyProtector: XorPadProtector(), clock: SystemMonotonicClock()) }
        expect("DeviceKeyUnavailable") {
            _ = try Wallet.open(path: protected, keyProtector: nil, clock: SystemMonotonicClock())
        }
        // The clock is not trusted: a code for a day past the last trusted time.
        expect("ClockNotTrusted") { _ = try wallet.presentation(of: pass.id, at: scenario.now + day) }
        // Bugs in the app: a bad argument, and a call that does not fit the wallet's state.
        expect("InvalidArgument") { _ = try wallet.presentation(of: "not-an-id", at: scenario.now) }
        expect("WrongState") {
            _ = try Wallet.openWithSigner(path: protected, signer: softwareP256Signer(), clock: SystemMonotonicClock())
        }
        // Storage: a database in a directory that does not exist.
        expect("Storage") {
            _ = try Wallet.open(path: scenario.directory.appendingPathComponent("no such directory/wallet.sqlite").path,
                                keyProtector: nil, clock: SystemMonotonicClock())
        }
        // Internal: an app callback throwing an error of another type.
        expect("Internal") {
            _ = try Wallet.open(path: scenario.path("broken"), keyProtector: BrokenProtector(), clock: SystemMonotonicClock())
        }

        XCTAssertEqual(Set(seen.keys), ["NotVaxpass", "Refused", "ListRefused", "UpdateRequired", "DeviceKeyUnavailable",
                                        "ClockNotTrusted", "InvalidArgument", "WrongState", "Storage", "Internal"])
        XCTAssertEqual(seen["Refused"], "show: wrong_device")
        // Nothing broke along the way.
        assertValidForKim(try verifier.verify(try wallet.presentation(of: pass.id, at: scenario.now).text(), at: scenario.now))
    }
}
