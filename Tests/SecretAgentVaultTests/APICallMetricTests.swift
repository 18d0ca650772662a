import Logging
import MetricsTestKit
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentVault

/// `secret_agent_api_calls_total` means the same for Vault as for AWS: one per request sent, so a
/// retried call counts once per attempt (it used to count once per call).
@Suite("API call metric")
struct APICallMetricTests {
    @Test func aRetriedCallCountsEveryAttempt() async throws {
        let counter = Counter()
        let fake = try await FakeVault.start { _ in
            counter.next() <= 2 ? (502, #"{"errors":["bad gateway"]}"#) : (200, #"{"data":{"data":{"a":"b"}}}"#)
        }
        defer { Task { await fake.stop() } }
        let metrics = TestMetrics()  // this client's own: other tests' counts cannot mix in
        let options = try VaultOptions(settings: VaultSettings(address: fake.address), environment: ["VAULT_MAX_RETRIES": "2"])
        let client = try VaultClient(options: options, http: TestBao.http, logger: Logger(label: "t"), metrics: metrics)
        let response = try await client.send(.GET, "secret/data/app", token: "hvs.metric-test")
        #expect(response.status == 200)
        #expect(fake.requests.count == 3)
        let calls = try metrics.expectCounter(MetricName.apiCalls, [("backend", "vault"), ("operation", "read")])
        #expect(calls.totalValue == 3)
    }
}

@Suite("Vault login at first use")
struct FirstLoginTests {
    @Test("ten first reads at once make one login (one lookup-self), not ten")
    func concurrentFirstUseLogsInOnce() async throws {
        let fake = try await FakeVault.start { request in
            request.uri.contains("lookup-self")
                ? (200, #"{"data":{"ttl":0,"renewable":false,"policies":["default"],"accessor":"acc"}}"#)
                : (404, #"{"errors":[]}"#)
        }
        defer { Task { await fake.stop() } }
        let environment = ["VAULT_TOKEN": "hvs.first-login-test"]
        let client = try VaultClient(options: try VaultOptions(settings: VaultSettings(address: fake.address), environment: environment),
                                     http: TestBao.http, logger: Logger(label: "t"))
        let auth = Authenticator(settings: VaultSettings().auth, environment: environment, client: client, awsSigner: nil)
        let (_, changes) = AsyncStream<TokenChange>.makeStream()
        let manager = TokenManager(auth: auth, logger: Logger(label: "t"), changes: changes)
        let tokens = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<10 { group.addTask { try? await manager.token().token } }
            var all: [String?] = []
            for await token in group { all.append(token) }
            return all
        }
        #expect(tokens.count == 10 && tokens.allSatisfy { $0 == "hvs.first-login-test" })
        #expect(fake.requests.filter { $0.uri.contains("lookup-self") }.count == 1)
        await manager.shutdown()
    }
}
