// The Swift program of the FFI benchmark (benches/ffi/README.md): times Verifier.verify through
// the generated bindings, and beside it a bare call (TrustList.sequence(), no arguments, an Int64
// back), and prints one JSON line. Compiled and run by benches/ffi/run.sh.
import Dispatch
import Foundation
import Vaxpass

/// The wallet's monotonic clock; the bench signs one presentation well within its tolerance.
final class UptimeClock: MonotonicClock {
    func elapsedSinceBoot() throws -> TimeInterval { ProcessInfo.processInfo.systemUptime }
}

let warmupCalls = 3_000
let rounds = 21
let callsPerRound = 2_000
let bareCallsPerRound = 20_000
let day: TimeInterval = 86_400
let hour: TimeInterval = 3_600

/// Exits non-zero with a message (run.sh builds with -O, where `precondition` would not say why).
func require(_ condition: Bool, _ message: String) {
    if !condition {
        FileHandle.standardError.write(Data("VerifyBench: \(message)\n".utf8))
        exit(1)
    }
}

/// Whether a verdict lets the holder in.
func admits(_ verdict: Verdict) -> Bool {
    if case .valid = verdict { return true }
    return false
}

/// Changes base45 body characters [30, 33) of a `VP1:` text, so the issuer's signature no longer matches.
func tamper(_ text: String) -> String {
    var body = Array(text.dropFirst("VP1:".count))
    let replacement: [Character] = String(body[30..<33]) == "000" ? ["1", "0", "0"] : ["0", "0", "0"]
    body.replaceSubrange(30..<33, with: replacement)
    return "VP1:" + String(body)
}

/// Times `rounds` rounds of `calls` calls each; returns the per-call times, fastest first.
func perCallNs(_ calls: Int, _ call: () throws -> Void) rethrows -> [Double] {
    var result: [Double] = []
    for _ in 0..<rounds {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<calls { try call() }
        result.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(calls))
    }
    return result.sorted()
}

do {
    let now = Date(timeIntervalSince1970: 1_639_365_000) // 2021-12-13T03:10:00Z
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("vaxpass-ffi-bench-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    let authority = try Authority.create(path: path("authority.sqlite"), issuer: "KR", now: now - 30 * day)
    let root = authority.rootPublicKey()
    let trustList = try authority.trustList(now: now - hour, validFor: day)
    let revocationList = try authority.revocationList(now: now - hour, validFor: day)

    let wallet = try Wallet.open(path: path("wallet.sqlite"), keyProtector: nil, clock: UptimeClock())
    let nonce = newNonce()
    let request = try wallet.enrolmentRequest(nonce: nonce, identityProof: Data("identity proof".utf8))
    let bundle = try authority.answerEnrolment(
        request: request, nonce: nonce, person: Person(name: "김민준", dateOfBirth: "1985-03-14"),
        events: [
            .vaccination(product: .comirnaty, dose: 1, of: 2, date: "2021-06-20"),
            .vaccination(product: .comirnaty, dose: 2, of: 2, date: "2021-07-25"),
            .vaccination(product: .comirnaty, dose: 3, of: 2, date: "2021-12-01"),
        ],
        notBefore: now - day, expires: now - day + 365 * day, now: now)
    let trust = try TrustList.verify(bytes: trustList, rootPublicKey: root)
    let passes = try wallet.importPasses(issued: bundle, trustList: trust, now: now)
    require(passes.count == 1, "expected one pass, got \(passes.count)")

    let verifier = try Verifier.open(path: path("verifier.sqlite"), rootPublicKey: root,
                                     config: defaultVerifierConfig())
    _ = try verifier.applyTrustList(bytes: trustList, now: now)
    _ = try verifier.applyRevocationList(bytes: revocationList, now: now)
    let text = try wallet.presentation(passId: passes[0].id, now: now).text()

    require(admits(try verifier.verify(text: text, now: now)), "the presentation is not valid")
    let refused = try verifier.verify(text: tamper(text), now: now)
    if case .notValid(.badSignature, _) = refused {} else { require(false, "a tampered text was not refused") }

    var valid = 0
    func call() throws {
        if admits(try verifier.verify(text: text, now: now)) { valid += 1 }
    }
    for _ in 0..<warmupCalls { try call() }
    let verify = try perCallNs(callsPerRound, call)
    require(valid == warmupCalls + rounds * callsPerRound, "only \(valid) valid verdicts")

    var sequences: Int64 = 0
    for _ in 0..<warmupCalls { sequences &+= trust.sequence() }
    let bare = perCallNs(bareCallsPerRound) { sequences &+= trust.sequence() }
    require(sequences == Int64(warmupCalls + rounds * bareCallsPerRound) &* trust.sequence(), "bare calls miscounted")

    print(String(format: "{\"language\":\"swift\",\"median_ns\":%.1f,\"min_ns\":%.1f,\"rounds\":%d,\"calls_per_round\":%d,\"bare_call_ns\":%.1f}",
                 verify[rounds / 2], verify[0], rounds, callsPerRound, bare[rounds / 2]))
} catch {
    require(false, "\(error)")
}
