// The app-supplied protocols, implemented in Swift and called from Rust for real.
import Foundation
import Vaxpass
import XCTest

/// A KeyProtector for tests: XORs the key with a random pad that only this object holds, standing
/// in for the Keychain (Foundation on Linux has no CryptoKit). Counts its calls.
final class XorPadProtector: KeyProtector, @unchecked Sendable {
    private let pad: [UInt8]
    private let lock = NSLock()
    private var wraps = 0
    private var unwraps = 0

    init() {
        var generator = SystemRandomNumberGenerator()
        pad = (0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    var calls: (wrap: Int, unwrap: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (wraps, unwraps)
    }

    func wrap(secret: Data) throws -> Data {
        lock.lock(); wraps += 1; lock.unlock()
        return try xor(secret)
    }

    func unwrap(wrapped: Data) throws -> Data {
        lock.lock(); unwraps += 1; lock.unlock()
        return try xor(wrapped)
    }

    private func xor(_ bytes: Data) throws -> Data {
        guard bytes.count <= pad.count else {
            throw VaxpassError.DeviceKeyUnavailable(detail: "key longer than the pad")
        }
        return Data(zip(bytes, pad).map { $0 ^ $1 })
    }
}

/// An ES256 DeviceSigner written in Swift. Foundation on Linux has no P-256, so it delegates the
/// arithmetic to the core's software signer (on a phone: a Secure Enclave key). Counts its calls.
final class CountingP256Signer: DeviceSigner, @unchecked Sendable {
    private let inner = softwareP256Signer()
    private let lock = NSLock()
    private var publicKeyCalls = 0
    private var signCalls = 0

    var calls: (publicKey: Int, sign: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (publicKeyCalls, signCalls)
    }

    func publicKey() throws -> Data {
        lock.lock(); publicKeyCalls += 1; lock.unlock()
        return try inner.publicKey()
    }

    func sign(message: Data) throws -> Data {
        lock.lock(); signCalls += 1; lock.unlock()
        return try inner.sign(message: message)
    }
}

/// A signer that always fails, as a locked Secure Enclave key would.
final class FailingSigner: DeviceSigner, @unchecked Sendable {
    let publicKeyBytes: Data
    init(publicKey: Data) { publicKeyBytes = publicKey }
    func publicKey() throws -> Data { publicKeyBytes }
    func sign(message: Data) throws -> Data {
        throw VaxpassError.DeviceKeyUnavailable(detail: "user cancelled")
    }
}

/// A monotonic clock the test moves; a reboot sets it back near zero.
final class MovableClock: MonotonicClock, @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: TimeInterval

    init(elapsed: TimeInterval) { seconds = elapsed }

    var elapsed: TimeInterval {
        get { lock.lock(); defer { lock.unlock() }; return seconds }
        set { lock.lock(); seconds = newValue; lock.unlock() }
    }

    func elapsedSinceBoot() throws -> TimeInterval { elapsed }
}

final class ForeignTraitTests: XCTestCase {
    static let allTests = [
        ("testSwiftKeyProtectorWrapsTheDeviceKey", testSwiftKeyProtectorWrapsTheDeviceKey),
        ("testSwiftDeviceSignerSignsPresentations", testSwiftDeviceSignerSignsPresentations),
        ("testErrorsThrownBySwiftSignerReachTheCaller", testErrorsThrownBySwiftSignerReachTheCaller),
        ("testClockSetThreeHoursAheadGetsNoCodeThatVerifiesLater",
         testClockSetThreeHoursAheadGetsNoCodeThatVerifiesLater),
    ]

    /// The wallet signs only at times it can trust: the last authority time it saw, carried
    /// forward by the Swift clock. A phone clock set ahead gets no code that verifies later.
    func testClockSetThreeHoursAheadGetsNoCodeThatVerifiesLater() throws {
        let scenario = try makeScenario()
        let verifier = try scenario.verifier()
        let clock = MovableClock(elapsed: 30 * hour)
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: clock)
        let pass = try scenario.enrol(wallet)  // checked against the trust list: a trusted time
        clock.elapsed += 10 * minute
        let real = scenario.now + 10 * minute
        assertValidForKim(try verifier.verify(try wallet.presentation(of: pass.id, at: real).text(), at: real))

        // Clock set ahead, a screenshot every two minutes for eight hours.
        var screenshots: [String] = []
        for k in 1...240 {
            do {
                screenshots.append(try wallet.presentation(of: pass.id, at: real + Double(2 * k) * minute).text())
            } catch VaxpassError.ClockNotTrusted {
                continue
            }
        }
        XCTAssertLessThanOrEqual(screenshots.count, 3, "only the tolerance is signed")
        var accepted = 0
        for k in 0..<200 {
            let door = real + 8 * minute + Double(144 * k)
            accepted += try screenshots.filter { try verifier.verify($0, at: door).admits }.count
        }
        XCTAssertEqual(accepted, 0, "no lent screenshot verifies at a later moment")

        // After a reboot only the stored trusted time is known.
        clock.elapsed = 20
        XCTAssertThrowsError(try wallet.presentation(of: pass.id, at: real + 3 * hour)) {
            guard case VaxpassError.ClockNotTrusted = $0 else {
                return XCTFail("expected VaxpassError.ClockNotTrusted, got \($0)")
            }
        }
        XCTAssertNoThrow(try wallet.presentation(of: pass.id, at: real + minute))

        // A day later a verified list's issue time is trusted again.
        let tomorrow = scenario.now + day
        XCTAssertThrowsError(try wallet.presentation(of: pass.id, at: tomorrow))
        let list = try scenario.authority.trustList(now: tomorrow - minute, validFor: day)
        try wallet.observeTrustedTime(time: try TrustList.verify(bytes: list, rootPublicKey: scenario.rootPublicKey).issuedAt())
        XCTAssertNoThrow(try wallet.presentation(of: pass.id, at: tomorrow))
    }

    /// (f) The wallet's key is stored wrapped by a Swift protector; reopening needs that protector.
    func testSwiftKeyProtectorWrapsTheDeviceKey() throws {
        let scenario = try makeScenario()
        let verifier = try scenario.verifier()
        let path = scenario.path("wallet")
        let protector = XorPadProtector()

        let passId: String
        let deviceKey: Data
        do {
            let wallet = try Wallet.open(path: path, keyProtector: protector, clock: SystemMonotonicClock())
            XCTAssertEqual(protector.calls.wrap, 1, "a new wallet wraps its new key once")
            deviceKey = wallet.devicePublicKey()
            XCTAssertEqual(deviceKey.count, 32, "a software key is Ed25519")
            passId = try scenario.enrol(wallet).id
            assertValidForKim(try verifier.verify(try wallet.presentation(of: passId, at: scenario.now).text(),
                                                  at: scenario.now))
        }

        // Reopened with the same protector: the key is unwrapped and still the same.
        let before = protector.calls
        let reopened = try Wallet.open(path: path, keyProtector: protector, clock: SystemMonotonicClock())
        XCTAssertEqual(protector.calls.unwrap, before.unwrap + 1)
        XCTAssertEqual(protector.calls.wrap, before.wrap, "an existing key is not wrapped again")
        XCTAssertEqual(reopened.devicePublicKey(), deviceKey)
        assertValidForKim(try verifier.verify(try reopened.presentation(of: passId, at: scenario.now).text(),
                                              at: scenario.now))

        // Without the protector, or with another pad, the stored key does not open.
        for other in [nil, XorPadProtector()] as [KeyProtector?] {
            XCTAssertThrowsError(try Wallet.open(path: path, keyProtector: other, clock: SystemMonotonicClock())) {
                guard case VaxpassError.DeviceKeyUnavailable = $0 else {
                    return XCTFail("expected VaxpassError.DeviceKeyUnavailable, got \($0)")
                }
            }
        }
    }

    /// (g) A Swift ES256 signer: the wallet signs its enrolment and presentations through it.
    func testSwiftDeviceSignerSignsPresentations() throws {
        let scenario = try makeScenario()
        let signer = CountingP256Signer()
        let wallet = try Wallet.openWithSigner(path: scenario.path("wallet"), signer: signer, clock: SystemMonotonicClock())
        XCTAssertGreaterThanOrEqual(signer.calls.publicKey, 1)
        let deviceKey = wallet.devicePublicKey()
        XCTAssertEqual(deviceKey, try signer.publicKey())
        XCTAssertTrue(deviceKey.count == 65 || deviceKey.count == 33, "a SEC1 P-256 point")

        let pass = try scenario.enrol(wallet)
        let afterEnrolment = signer.calls.sign
        XCTAssertGreaterThanOrEqual(afterEnrolment, 1, "the enrolment request is signed by the device key")

        let verifier = try scenario.verifier()
        let shown = try wallet.presentation(of: pass.id, at: scenario.now)
        XCTAssertEqual(signer.calls.sign, afterEnrolment + 1, "one signature per presentation")
        assertValidForKim(try verifier.verify(shown.text(), at: scenario.now + 10))
        // The device signature is checked: a screenshot still ages out.
        assertInvalid(try verifier.verify(shown.text(), at: scenario.now + 10 * minute), .presentationTooOld)
    }

    /// An error thrown by a Swift signer comes back to the Swift caller as a VaxpassError.
    func testErrorsThrownBySwiftSignerReachTheCaller() throws {
        let scenario = try makeScenario()
        let key = try softwareP256Signer().publicKey()
        let wallet = try Wallet.openWithSigner(path: scenario.path("wallet"), signer: FailingSigner(publicKey: key), clock: SystemMonotonicClock())
        XCTAssertEqual(wallet.devicePublicKey(), key)
        XCTAssertThrowsError(try wallet.enrolmentRequest(nonce: newNonce(), identityProof: Data())) {
            guard case VaxpassError.DeviceKeyUnavailable(let message) = $0 else {
                return XCTFail("expected VaxpassError.DeviceKeyUnavailable, got \($0)")
            }
            XCTAssertTrue(message.contains("user cancelled"), message)
        }
        XCTAssertEqual(try wallet.passes().count, 0)
    }
}
