// The types a platform developer expects: TimeInterval periods, signed integers refused when out
// of range (never wrapped, never a crash), and a QR bitmap a CGImage takes in one call.
import Foundation
import Vaxpass
import XCTest

final class PlatformTypesTests: XCTestCase {
    static let allTests = [
        ("testATimeIntervalBecomesTheListsValidityAndTheDefaultsComeBackAsTimeIntervals",
         testATimeIntervalBecomesTheListsValidityAndTheDefaultsComeBackAsTimeIntervals),
        ("testNegativeAndOverflowingValuesAreRefusedWithATypedError",
         testNegativeAndOverflowingValuesAreRefusedWithATypedError),
        ("testTheQrBitmapIsAGreyPixelBufferOfTheModules", testTheQrBitmapIsAGreyPixelBufferOfTheModules),
    ]

    private func assertInvalidArgument<T>(_ call: @autoclosure () throws -> T, _ what: String,
                                          file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try call(), what, file: file, line: line) {
            guard case VaxpassError.InvalidArgument = $0 else {
                return XCTFail("\(what): expected InvalidArgument, got \($0)", file: file, line: line)
            }
        }
    }

    func testATimeIntervalBecomesTheListsValidityAndTheDefaultsComeBackAsTimeIntervals() throws {
        let scenario = try makeScenario()
        let issuedAt = scenario.now - 30 * minute
        let list = try scenario.authority.trustList(now: issuedAt, validFor: 36 * hour)
        let shop = try Verifier.open(path: scenario.path("shop"), rootPublicKey: scenario.rootPublicKey,
                                     config: defaultVerifierConfig())
        XCTAssertEqual(try shop.applyTrustList(bytes: list, now: scenario.now), .updated(sequence: 2))
        let info = try XCTUnwrap(try shop.freshness(now: scenario.now).trustList)
        XCTAssertEqual(info.issuedAt, issuedAt)
        XCTAssertEqual(info.nextUpdate, issuedAt + 36 * hour)
        XCTAssertEqual(info.sequence, 2)
        let config = defaultVerifierConfig()
        XCTAssertEqual(config.clockLeeway, 60)
        XCTAssertEqual(config.presentationWindow, 60)
        XCTAssertEqual(config.warnAfter, 36 * hour)
        XCTAssertEqual(config.failAfter, 7 * day)
        XCTAssertNil(config.offlineRulesList, "no rules are compiled in")
    }

    /// uniffi's own Duration would have crashed here (fatalError on a negative TimeInterval).
    func testNegativeAndOverflowingValuesAreRefusedWithATypedError() throws {
        let scenario = try makeScenario()
        for validFor in [-1, -.infinity, .infinity, .nan, 20_000 * 366 * day] as [TimeInterval] {
            assertInvalidArgument(try scenario.authority.trustList(now: scenario.now, validFor: validFor), "\(validFor)")
        }
        var config = defaultVerifierConfig()
        config.clockLeeway = -0.001
        assertInvalidArgument(try Verifier.open(path: scenario.path("v"), rootPublicKey: scenario.rootPublicKey,
                                                config: config), "negative leeway")
        config = defaultVerifierConfig()
        config.offlineRulesList = Data("not a rules list".utf8)
        XCTAssertThrowsError(try Verifier.open(path: scenario.path("d"), rootPublicKey: scenario.rootPublicKey,
                                               config: config)) { error in
            guard case VaxpassError.ListRefused = error else {
                return XCTFail("expected ListRefused, got \(error)")
            }
        }
        let qr = try Qr.encode(text: "VP1:ABCDEFGHIJKLMNOPQRSTU", ecLevel: .m)
        for size in [-1, 0, 65, Int32.min] as [Int32] {
            assertInvalidArgument(try qr.png(moduleSize: size), "png \(size)")
            assertInvalidArgument(try qr.bitmap(moduleSize: size), "bitmap \(size)")
        }
        let deviceKey = try softwareP256Signer().publicKey()
        for dose in [-1, 256] as [Int32] {
            let event = Event.vaccination(product: .comirnaty, dose: dose, of: 2, date: "2021-06-20")
            assertInvalidArgument(try scenario.authority.issue(person: Scenario.person, events: [event], deviceKey: deviceKey,
                                                               notBefore: scenario.now, expires: scenario.now + day,
                                                               now: scenario.now), "dose \(dose)")
        }
    }

    /// What `CGImage(width:height:bitsPerComponent: 8, bitsPerPixel: 8, bytesPerRow: width,
    /// space: CGColorSpaceCreateDeviceGray(), ...)` is given on iOS: checked here byte by byte
    /// (CoreGraphics is not on Linux).
    func testTheQrBitmapIsAGreyPixelBufferOfTheModules() throws {
        let qr = try Qr.encode(text: "VP1:ABCDEFGHIJKLMNOPQRSTU", ecLevel: .m)
        let scale = 3
        let bitmap = try qr.bitmap(moduleSize: Int32(scale))
        let modules = Int(qr.width())
        let side = (modules + 8) * scale
        XCTAssertEqual(Int(bitmap.width), side)
        XCTAssertEqual(Int(bitmap.height), side)
        XCTAssertEqual(bitmap.pixels.count, side * side) // bytesPerRow == width
        let pixel = { (x: Int, y: Int) in bitmap.pixels[bitmap.pixels.startIndex + y * side + x] }
        XCTAssertEqual(pixel(0, 0), 255) // quiet zone
        // The top-left finder pattern: a dark 7-module square ring around a light ring.
        for module in 0..<7 {
            let at = (4 + module) * scale
            XCTAssertEqual(pixel(at, 4 * scale), 0)
            XCTAssertEqual(pixel(4 * scale, at), 0)
        }
        XCTAssertEqual(pixel(5 * scale, 5 * scale), 255)
        XCTAssertEqual(pixel(6 * scale, 6 * scale), 0)
        XCTAssertTrue(bitmap.pixels.allSatisfy { $0 == 0 || $0 == 255 })
        // The PNG is the same image, encoded.
        XCTAssertEqual(try qr.png(moduleSize: Int32(scale)).prefix(4), Data([0x89, 0x50, 0x4E, 0x47]))
    }
}
