// List sync and renewal scheduling through the bindings, against the real issuer service over
// HTTP on 127.0.0.1 (tests/bindings/swift.sh starts it and passes VAXPASS_ISSUER_URL and the
// rest; without them these tests fail). The app's transport is URLSession (FoundationNetworking
// on Linux): the SDK says what to send and reads what came back, it never opens a socket.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Vaxpass
import XCTest

/// The service the runner started; a missing variable fails the test (never skips it).
func service(_ name: String) throws -> String {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
        XCTFail("\(name) not set: run tests/bindings/swift.sh, which starts the issuer service")
        throw URLError(.badURL)
    }
    return value
}

/// No URL cache: the verifier holds the ETag and sends it itself, so a 304 reaches the SDK.
let session: URLSession = {
    let configuration = URLSessionConfiguration.ephemeral
    configuration.urlCache = nil
    configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
    configuration.timeoutIntervalForRequest = 30
    return URLSession(configuration: configuration)
}()

/// The answer of one request, handed from URLSession's queue to the waiting test thread: written
/// once before the semaphore is signalled, read once after it is waited on.
private final class Answer: @unchecked Sendable {
    var result: Result<HttpResponse, Error> = .failure(URLError(.unknown))
}

/// One request, its answer as the SDK reads it.
func send(_ request: URLRequest) throws -> HttpResponse {
    let answer = Answer()
    let done = DispatchSemaphore(value: 0)
    session.dataTask(with: request) { data, response, error in
        if let http = response as? HTTPURLResponse {
            answer.result = .success(HttpResponse(status: Int32(http.statusCode),
                                                  etag: http.value(forHTTPHeaderField: "ETag"),
                                                  retryAfter: http.value(forHTTPHeaderField: "Retry-After"),
                                                  body: data ?? Data()))
        } else {
            answer.result = .failure(error ?? URLError(.badServerResponse))
        }
        done.signal()
    }.resume()
    done.wait()
    return try answer.result.get()
}

final class SyncTests: XCTestCase {
    static let allTests = [
        ("testA200AppliesTheListA304KeepsItAndAPublishBringsTheNext",
         testA200AppliesTheListA304KeepsItAndAPublishBringsTheNext),
        ("testA429WithRetryAfterDelaysTheNextAttemptAtLeastThatLong",
         testA429WithRetryAfterDelaysTheNextAttemptAtLeastThatLong),
        ("testAnUnexpectedStatusIsAnErrorNotAnOutcome", testAnUnexpectedStatusIsAnErrorNotAnOutcome),
        ("testTheNextRefreshIsARandomMomentInTheDocumentedWindow",
         testTheNextRefreshIsARandomMomentInTheDocumentedWindow),
        ("testRenewalIsOffPeakInTheMonthBeforeThePassExpires",
         testRenewalIsOffPeakInTheMonthBeforeThePassExpires),
    ]

    private var baseUrl = ""
    private var verifier: Verifier!
    private let backoff = Backoff()

    override func setUpWithError() throws {
        baseUrl = try service("VAXPASS_ISSUER_URL")
        let hex = Array(try service("VAXPASS_ISSUER_ROOT_KEY").utf8)
        let root = Data(stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)! })
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("vaxpass-swift-sync-\(UUID().uuidString).sqlite").path
        verifier = try Verifier.open(path: path, rootPublicKey: root, config: defaultVerifierConfig())
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    }

    /// GET the list with the ETag held as If-None-Match, and hand the answer to the verifier.
    private func fetch(_ kind: ListKind) throws -> (HttpResponse, Fetched) {
        var request = URLRequest(url: URL(string: baseUrl + listPath(kind: kind))!)
        if let etag = try verifier.listEtag(kind: kind) {
            request.setValue(etag, forHTTPHeaderField: "If-None-Match")
        }
        let answer = try send(request)
        return (answer, try verifier.applyFetched(kind: kind, response: answer, backoff: backoff, now: Date()))
    }

    func testA200AppliesTheListA304KeepsItAndAPublishBringsTheNext() throws {
        XCTAssertNil(try verifier.listEtag(kind: .trust), "nothing held yet")
        for kind in [ListKind.trust, .revocation, .rules] {
            let (answer, fetched) = try fetch(kind)
            XCTAssertEqual(answer.status, 200)
            guard case .received(applied: .updated) = fetched else { return XCTFail("\(fetched)") }
            XCTAssertEqual(try verifier.listEtag(kind: kind), answer.etag, "the ETag is kept with the list")
        }
        // The three lists held, all just published: fresh.
        let freshness = try verifier.freshness(now: Date())
        XCTAssertNotNil(freshness.rulesList)
        XCTAssertEqual(freshness.state, .fresh)
        let sequence = try XCTUnwrap(freshness.trustList).sequence

        let (notModified, kept) = try fetch(.trust)
        XCTAssertEqual(notModified.status, 304, "the ETag held was sent as If-None-Match")
        XCTAssertEqual(kept, .notModified)
        XCTAssertEqual(backoff.failures(), 0)

        var publish = URLRequest(url: URL(string: baseUrl + "/v1/admin/publish")!)
        publish.httpMethod = "POST"
        publish.setValue("Bearer \(try service("VAXPASS_ISSUER_ADMIN_TOKEN"))", forHTTPHeaderField: "Authorization")
        let published = try send(publish)
        XCTAssertEqual(published.status, 200, String(decoding: published.body, as: UTF8.self))
        let held = try verifier.listEtag(kind: .trust)
        let (next, fetched) = try fetch(.trust)
        XCTAssertEqual(next.status, 200)
        XCTAssertEqual(fetched, .received(applied: .updated(sequence: sequence + 1)))
        XCTAssertNotEqual(try verifier.listEtag(kind: .trust), held)
    }

    func testA429WithRetryAfterDelaysTheNextAttemptAtLeastThatLong() throws {
        let busyUrl = try service("VAXPASS_ISSUER_BUSY_URL")
        let walletPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("vaxpass-swift-sync-wallet-\(UUID().uuidString).sqlite").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: walletPath) }
        let wallet = try Wallet.open(path: walletPath, keyProtector: nil, clock: SystemMonotonicClock())
        // One failed attempt (a nonce the service never issued: 409) uses up this address's limit
        // on the busy service; the next request is refused with 429 and a Retry-After.
        var answers: [HttpResponse] = []
        for _ in 0..<2 where answers.last?.status != 429 {
            var request = URLRequest(url: URL(string: busyUrl + "/v1/enrolment")!)
            request.httpMethod = "POST"
            request.setValue("application/cbor", forHTTPHeaderField: "Content-Type")
            request.httpBody = try wallet.enrolmentRequest(nonce: newNonce(), identityProof: Data("no identity".utf8))
            answers.append(try send(request))
        }
        let refused = try XCTUnwrap(answers.last)
        XCTAssertEqual(refused.status, 429, "statuses \(answers.map(\.status))")
        let asked = TimeInterval(try XCTUnwrap(Int(try XCTUnwrap(refused.retryAfter))))
        XCTAssertGreaterThanOrEqual(asked, 30, "the limit refills once a minute")

        let now = Date()
        let fetched = try verifier.applyFetched(kind: .trust, response: refused, backoff: backoff, now: now)
        guard case let .retryAfter(delay) = fetched else { return XCTFail("\(fetched)") }
        // The backoff alone would wait at most 2 s after a first failure: the server's word wins.
        XCTAssertEqual(delay, asked)
        XCTAssertEqual(backoff.failures(), 1)
        XCTAssertNil(try verifier.listEtag(kind: .trust), "nothing was applied")

        // Without a Retry-After, the jittered exponential bound: at most 4 s at the second failure.
        XCTAssertLessThanOrEqual(try backoff.afterRefusal(retryAfter: nil, now: now), 4)
        XCTAssertEqual(backoff.failures(), 2)
        guard case .received = try fetch(.trust).1 else { return XCTFail("not applied") }
        XCTAssertEqual(backoff.failures(), 0, "a success resets the backoff")
    }

    func testAnUnexpectedStatusIsAnErrorNotAnOutcome() throws {
        let answer = try send(URLRequest(url: URL(string: baseUrl + "/v1/no-such-list")!))
        XCTAssertEqual(answer.status, 404)
        XCTAssertThrowsError(try verifier.applyFetched(kind: .trust, response: answer, backoff: backoff, now: Date())) {
            guard case VaxpassError.ListRefused = $0 else { return XCTFail("\($0)") }
        }
    }

    func testTheNextRefreshIsARandomMomentInTheDocumentedWindow() throws {
        _ = try fetch(.trust)
        let now = Date()
        let nextUpdate = try XCTUnwrap(try verifier.freshness(now: now).trustList).nextUpdate
        let left = nextUpdate.timeIntervalSince(now)
        XCTAssertGreaterThan(left, hour)
        let moments = Set(try (1...50).map { _ in try nextRefresh(now: now, nextUpdate: nextUpdate) })
        for moment in moments {
            // Half to nine tenths of the time left (the core computes in milliseconds).
            XCTAssertGreaterThanOrEqual(moment.timeIntervalSince(now), left / 2 - 0.002)
            XCTAssertLessThanOrEqual(moment.timeIntervalSince(now), left * 0.9 + 0.002)
        }
        XCTAssertGreaterThan(moments.count, 40, "spread, not one moment for every phone")
        let overdue = try nextRefresh(now: now, nextUpdate: now - hour)
        XCTAssertEqual(overdue.timeIntervalSince(now), minute, accuracy: 0.002, "overdue: in a minute, not now")
    }

    func testRenewalIsOffPeakInTheMonthBeforeThePassExpires() throws {
        let scenario = try makeScenario()
        let wallet = try Wallet.open(path: scenario.path("wallet"), keyProtector: nil, clock: SystemMonotonicClock())
        XCTAssertNil(try wallet.nextRenewal(now: scenario.now, utcOffsetMinutes: 540), "no pass, nothing to renew")
        let pass = try scenario.enrol(wallet)
        var seoul = Calendar(identifier: .gregorian)
        seoul.timeZone = TimeZone(secondsFromGMT: 9 * 3_600)!
        let renewals = Set(try (1...20).map { _ in
            try XCTUnwrap(try wallet.nextRenewal(now: scenario.now, utcOffsetMinutes: 540))
        })
        for renewal in renewals {
            XCTAssertGreaterThanOrEqual(renewal, pass.validUntil - 31 * day)
            XCTAssertLessThanOrEqual(renewal, pass.validUntil - 6 * day)
            XCTAssertTrue((1..<5).contains(seoul.component(.hour, from: renewal)), "\(renewal) is not 01:00 to 05:00 in Seoul")
        }
        XCTAssertGreaterThan(renewals.count, 1, "random, so a country's wallets do not renew at once")
    }
}
