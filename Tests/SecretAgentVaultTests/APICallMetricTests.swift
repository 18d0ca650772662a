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
