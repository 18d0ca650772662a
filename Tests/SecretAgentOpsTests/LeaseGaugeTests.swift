import Logging
import SecretAgentCore
import SecretAgentOps
import Synchronization
import Testing

/// The only test that sets lease gauges (they are one process-wide set, replaced at each scrape).
@Suite("The lease gauges of /metrics")
struct LeaseGaugeTests {
    @Test("labelled by a hash of the reference, and only for the leases held at the scrape")
    func labelsAreHashesAndGoneLeasesDisappear() async throws {
        let held = Mutex<[(reference: String, seconds: Double)]>([])
        let server = try await OpsServer.bind(ListenAddress(host: "127.0.0.1", port: 0), logger: Logger(label: "test"),
                                              onScrape: { AgentMetrics.leaseSecondsLeft(held.withLock { $0 }) },
                                              health: { HealthSnapshot(renderedAll: true, poll: .seconds(2), backends: []) })
        let running = Task { await server.run() }
        defer { running.cancel() }
        let port = server.address.port
        let certificate = "vault:pki/issue/web?common_name=gauge-test.example.test&ttl=1h"
        let database = "vault:database/creds/gauge-test"
        func series(_ reference: String) -> String {
            "secret_agent_lease_seconds_left{lease=\"\(AgentMetrics.leaseLabel(reference))\"}"
        }

        held.withLock { $0 = [(certificate, 3000), (database, 1200)] }
        var r = try #require(await HTTPTestClient.request(port: port, "/metrics"))
        var m = PrometheusText.parse(r.body)
        #expect(m[series(certificate)] == 3000)
        #expect(m[series(database)] == 1200)
        for text in ["pki/issue", "common_name", "gauge-test", "database/creds"] {
            #expect(!r.body.contains(text), "the metrics show \(text)")
        }

        // The certificate's lease is gone (replaced by a lease-less answer, or revoked): only the
        // database lease is exported, with its new time left.
        held.withLock { $0 = [(database, 1100)] }
        r = try #require(await HTTPTestClient.request(port: port, "/metrics"))
        m = PrometheusText.parse(r.body)
        #expect(m[series(certificate)] == nil)
        #expect(m[series(database)] == 1100)
        #expect(m.keys.filter { $0.hasPrefix("secret_agent_lease_seconds_left{") }.count == 1)

        held.withLock { $0 = [] }
        r = try #require(await HTTPTestClient.request(port: port, "/metrics"))
        #expect(!r.body.contains("secret_agent_lease_seconds_left{"))
    }

    @Test func theLabelIsStableAndShort() {
        #expect(AgentMetrics.leaseLabel("") == "cbf29ce484222325")  // FNV-1a 64 offset basis
        #expect(AgentMetrics.leaseLabel("a") == "af63dc4c8601ec8c")  // FNV-1a 64 of "a"
        #expect(AgentMetrics.leaseLabel("vault:database/creds/app") == AgentMetrics.leaseLabel("vault:database/creds/app"))
        #expect(AgentMetrics.leaseLabel("vault:database/creds/app") != AgentMetrics.leaseLabel("vault:database/creds/web"))
        #expect(AgentMetrics.leaseLabel("vault:database/creds/app").count == 16)
    }
}
