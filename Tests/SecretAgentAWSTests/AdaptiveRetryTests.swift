import AsyncHTTPClient
import Foundation
import Logging
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentAWS

/// `scripts/throttle-proxy.py` in front of the shared moto, stopped when the test ends.
final class ThrottleProxy: Sendable {
    let helper: Helper

    init(_ moto: Moto, quotas: [String], retryAfter: Double? = nil) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        var argv = [root + "/scripts/throttle-proxy.py", "--upstream", moto.endpoint, "--exit-on-eof"]
        for q in quotas { argv += ["--quota", q] }
        if let retryAfter { argv += ["--retry-after", "\(retryAfter)"] }
        let list = argv.map { "'\($0)'" }.joined(separator: ", ")
        // Runs the script as __main__; the Helper stops it by closing stdin and terminating it.
        helper = try Helper(python: moto.python, script: "import runpy, sys\nsys.argv = [\(list)]\nrunpy.run_path(sys.argv[0], run_name='__main__')")
    }

    var endpoint: String { "http://127.0.0.1:\(helper.port)" }

    /// (useful, throttled) GetParameters calls so far.
    func counts(_ target: String = "AmazonSSM.GetParameters") async throws -> (ok: Int, throttled: Int) {
        let response = try await testHTTPClient.execute(HTTPClientRequest(url: endpoint + "/__stats"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        let entry = json?[target] as? [String: Int]
        return (entry?["ok"] ?? 0, entry?["throttled"] ?? 0)
    }

    func stop() { helper.stop() }
}

/// Client-side rate adaptation and Retry-After against real moto behind a throttling proxy.
@Suite(.serialized, .enabled(if: Moto.enabled)) struct AdaptiveRetryTests {
    static let quota = "AmazonSSM.GetParameters"
    static let twenty = (1...20).map { String(format: "ssm:/sa-test/batch/p%02d", $0) }

    func backend(_ moto: Moto, _ proxy: ThrottleProxy, mode: RetryMode, attempts: Int = 100,
                 adaptive: AdaptiveRate.Parameters = AdaptiveRate.Parameters()) -> AWSBackend {
        var retry = RetryPolicy(maxAttempts: attempts, baseDelay: .milliseconds(50), maxDelay: .milliseconds(400), timeout: .seconds(10))
        retry.mode = mode
        retry.adaptive = adaptive
        return AWSBackend(settings: AWSSettings(), environment: moto.environment(["AWS_ENDPOINT_URL": proxy.endpoint]),
                          httpClient: testHTTPClient, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), retry: retry)
    }

    /// Four agents, two GetParameters batches each, under one call a second: all their values
    /// arrive either way, but adaptive agents slow down (their rate drops after the first
    /// throttling answer) where standard ones keep retrying every few hundred milliseconds.
    func throttledCalls(_ mode: RetryMode) async throws -> (ok: Int, throttled: Int, limited: Int) {
        let moto = try Moto.require()
        let proxy = try ThrottleProxy(moto, quotas: ["1/1:\(Self.quota)"])
        defer { proxy.stop() }
        let backends = (0..<4).map { _ in backend(moto, proxy, mode: mode) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for b in backends {
                group.addTask {
                    let out = try await fetch(b, Self.twenty)
                    #expect(out.values.compactMap(\.secret).count == 20)
                }
            }
            try await group.waitForAll()
        }
        let limited = backends.filter { $0.context.transport.limiter.rate("ssm|us-east-1") < .infinity }.count
        let (ok, throttled) = try await proxy.counts()
        return (ok, throttled, limited)
    }

    @Test("adaptive agents sharing a quota slow down: fewer throttled calls than standard retries")
    func adaptationSlowsDown() async throws {
        let adaptive = try await throttledCalls(.adaptive)
        let standard = try await throttledCalls(.standard)
        #expect(adaptive.ok == 8 && standard.ok == 8)
        #expect(adaptive.limited > 0, "no agent's rate was lowered")
        #expect(standard.limited == 0)
        // Measured: about 25 against about 150.
        #expect(adaptive.throttled * 2 < standard.throttled, "adaptive \(adaptive.throttled), standard \(standard.throttled) throttled calls")
    }

    @Test("after throttling the rate grows back, and a success past the ceiling lifts the limit")
    func adaptationRecovers() async throws {
        let moto = try Moto.require()
        let proxy = try ThrottleProxy(moto, quotas: ["1/1:\(Self.quota)"])
        defer { proxy.stop() }
        // Quicker than the defaults: a retry within about 2 s, and the ceiling reached about 4.7 s
        // after the last throttling answer (after the success, which comes sooner).
        var curve = AdaptiveRate.Parameters()
        curve.firstRate = 1
        curve.maxRate = 5
        let b = backend(moto, proxy, mode: .adaptive, adaptive: curve)
        let limiter = b.context.transport.limiter
        let out = try await fetch(b, Self.twenty)  // two batches, one throttled
        #expect(out.values.compactMap(\.secret).count == 20)
        #expect(limiter.rate("ssm|us-east-1") < 5, "the rate was not lowered")
        try await Task.sleep(for: .seconds(6))
        #expect(limiter.rate("ssm|us-east-1") >= 5, "the rate did not grow back")
        _ = try await fetch(b, ["ssm:/sa-test/batch/p01"])
        #expect(limiter.rate("ssm|us-east-1") == .infinity, "the limit was not lifted")
        let counts = try await proxy.counts()
        #expect(counts.ok == 3)
    }

    @Test("Retry-After on a throttling answer is honoured: one wait of that length instead of quick retries")
    func retryAfterHonoured() async throws {
        let moto = try Moto.require()
        let proxy = try ThrottleProxy(moto, quotas: ["1/1:\(Self.quota)"], retryAfter: 2)
        defer { proxy.stop() }
        // Standard mode, 50 ms backoff and two attempts: without Retry-After the second attempt
        // would come long before the quota has a token again and fail.
        let b = backend(moto, proxy, mode: .standard, attempts: 2)
        let started = ContinuousClock.now
        let out = try await fetch(b, Self.twenty)
        let elapsed = ContinuousClock.now - started
        #expect(out.values.compactMap(\.secret).count == 20)
        #expect(elapsed >= .milliseconds(1900), "retried after \(elapsed)")
        let counts = try await proxy.counts()
        #expect(counts.ok == 2 && counts.throttled == 1)
    }
}
