#if canImport(Glibc)
import Glibc
#endif
import Logging
import SecretAgentCore
import SecretAgentOps
import Testing

/// The agent's state as the test drives it.
actor FakeAgent {
    var renderedAll = false
    var backends: [BackendHealth] = []
    let poll = Duration.seconds(2)

    func snapshot() -> HealthSnapshot { HealthSnapshot(renderedAll: renderedAll, poll: poll, backends: backends) }

    func rendered(backend: String) {
        renderedAll = true
        backends = [BackendHealth(name: backend, lastSuccess: .now)]
    }

    /// The backend's last success was three polls ago and it has failed since.
    func outage(_ error: String) {
        var b = backends[0]
        b.lastSuccess = .now - poll * 3
        b.failingSince = .now - poll * 2
        b.lastError = error
        b.consecutiveFailures = 3
        backends = [b]
    }

    func recovered() {
        var b = backends[0]
        b.lastSuccess = .now
        b.failingSince = nil
        b.lastError = nil
        b.consecutiveFailures = 0
        backends = [b]
    }
}

@Suite("The health and metrics listener")
struct OpsServerTests {
    let logger = Logger(label: "test")

    func withServer(_ body: (Int, FakeAgent) async throws -> Void) async throws {
        let agent = FakeAgent()
        let server = try await OpsServer.bind(ListenAddress(host: "127.0.0.1", port: 0), logger: logger,
                                              onScrape: { AgentMetrics.tokenSecondsLeft(1800, backend: "scrape-test") },
                                              health: { await agent.snapshot() })
        let port = server.address.port
        #expect(port > 0)
        let running = Task { await server.run() }
        do {
            try await body(port, agent)
        } catch {
            running.cancel()
            throw error
        }
        running.cancel()
        await running.value
        // The listener is closed once run() returns.
        #expect(await HTTPTestClient.request(port: port, "/healthz") == nil)
    }

    @Test("/healthz: starting → ready → degraded during an outage → ready")
    func transitions() async throws {
        try await withServer { port, agent in
            var r = try #require(await HTTPTestClient.request(port: port, "/healthz"))
            #expect(r.status == 503)
            #expect(r.headers["content-type"] == "application/json")
            #expect(r.body.contains("\"status\":\"starting\""))

            await agent.rendered(backend: "aws-ssm")
            r = try #require(await HTTPTestClient.request(port: port, "/healthz"))
            #expect(r.status == 200)
            #expect(r.body.hasPrefix("{\"status\":\"ok\""))

            await agent.outage("ssm:/db/password: AccessDenied for s3cr3t-value")
            r = try #require(await HTTPTestClient.request(port: port, "/healthz"))
            #expect(r.status == 503)
            #expect(r.body.contains("\"status\":\"degraded\""))
            #expect(r.body.contains("\"failing\":[{\"backend\":\"aws-ssm\",\"since\":\""))
            #expect(r.body.contains("\"consecutive_failures\":3"))
            #expect(!r.body.contains("s3cr3t") && !r.body.contains("AccessDenied"))

            await agent.recovered()
            r = try #require(await HTTPTestClient.request(port: port, "/healthz"))
            #expect(r.status == 200)
        }
    }

    @Test("/metrics: Prometheus text, counters move as calls are made")
    func metrics() async throws {
        try await withServer { port, agent in
            await agent.rendered(backend: "metrics-test")
            let calls = "secret_agent_api_calls_total{backend=\"metrics-test\",operation=\"GetParameters\"}"
            let errors = "secret_agent_errors_total{backend=\"metrics-test\",kind=\"unavailable\"}"
            let fetches = "secret_agent_fetch_seconds_count{backend=\"metrics-test\"}"
            let since = "secret_agent_seconds_since_last_success{backend=\"metrics-test\"}"

            AgentMetrics.apiCall(backend: "metrics-test", operation: "GetParameters", count: 3)
            AgentMetrics.fetchDuration(backend: "metrics-test", .milliseconds(30))
            var r = try #require(await HTTPTestClient.request(port: port, "/metrics"))
            #expect(r.status == 200)
            #expect(r.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            var m = PrometheusText.parse(r.body)
            #expect(m[calls] == 3)
            #expect(m[fetches] == 1)
            #expect(m["secret_agent_fetch_seconds_bucket{backend=\"metrics-test\",le=\"0.05\"}"] == 1)
            #expect(m["secret_agent_fetch_seconds_bucket{backend=\"metrics-test\",le=\"0.025\"}"] == 0)
            #expect((m[since] ?? -1) >= 0 && (m[since] ?? 99) < 2)
            let renders = m["secret_agent_renders_total"] ?? 0
            let reloads = m["secret_agent_child_reloads_total"] ?? 0

            AgentMetrics.apiCall(backend: "metrics-test", operation: "GetParameters", count: 2)
            AgentMetrics.error(backend: "metrics-test", kind: "unavailable")
            AgentMetrics.rendered(count: 2)
            AgentMetrics.reloaded()
            AgentMetrics.restarted()
            AgentMetrics.tokenSecondsLeft(1800, backend: "metrics-test")
            await agent.outage("never shown")
            r = try #require(await HTTPTestClient.request(port: port, "/metrics"))
            m = PrometheusText.parse(r.body)
            #expect(m[calls] == 5)
            #expect(m[errors] == 1)
            #expect(m["secret_agent_renders_total"] == renders + 2)
            #expect(m["secret_agent_child_reloads_total"] == reloads + 1)
            #expect((m["secret_agent_child_restarts_total"] ?? 0) >= 1)
            #expect(m["secret_agent_token_seconds_left{backend=\"metrics-test\"}"] == 1800)
            #expect(m["secret_agent_token_seconds_left{backend=\"scrape-test\"}"] == 1800)
            #expect((m[since] ?? 0) >= 6)
            #expect(!r.body.contains("never shown"))
        }
    }

    @Test("HEAD, unknown paths and other methods")
    func routing() async throws {
        try await withServer { port, agent in
            await agent.rendered(backend: "routing-test")
            let head = try #require(await HTTPTestClient.request(port: port, "/healthz", method: "HEAD"))
            #expect(head.status == 200 && head.body.isEmpty)
            #expect(await HTTPTestClient.request(port: port, "/healthz?verbose=1")?.status == 200)
            #expect(await HTTPTestClient.request(port: port, "/")?.status == 404)
            #expect(await HTTPTestClient.request(port: port, "/metrics", method: "POST")?.status == 405)
        }
    }

    @Test("a port in use is an error that names the address (exit 69)")
    func portInUse() async throws {
        let first = try await OpsServer.bind(ListenAddress(host: "127.0.0.1", port: 0), logger: logger) {
            HealthSnapshot(renderedAll: true, poll: .seconds(1), backends: [])
        }
        let running = Task { await first.run() }
        defer { running.cancel() }
        let error = await #expect(throws: OpsError.self) {
            _ = try await OpsServer.bind(ListenAddress(host: "127.0.0.1", port: first.address.port), logger: logger) {
                HealthSnapshot(renderedAll: true, poll: .seconds(1), backends: [])
            }
        }
        #expect(error?.exitCode.rawValue == 69)
        #expect(error?.description.contains("127.0.0.1:\(first.address.port)") == true)
    }

    @Test("--listen addresses")
    func listen() throws {
        #expect(try ListenAddress.parse("127.0.0.1:9464") == ListenAddress(host: "127.0.0.1", port: 9464))
        #expect(try ListenAddress.parse(":9464") == ListenAddress(host: "0.0.0.0", port: 9464))
        #expect(try ListenAddress.parse("[::1]:9464") == ListenAddress(host: "::1", port: 9464))
        #expect(try ListenAddress.parse("[::1]:9464").description == "[::1]:9464")
        for bad in ["9464", "host:", "host:99999", "::1:9464", "[::1:9464", "a b:1"] {
            #expect(throws: OpsError.self) { try ListenAddress.parse(bad) }
        }
    }

    @Test("connections over the limit are closed at once; idle ones after the idle timeout; requests go through again")
    func connectionLimits() async throws {
        let agent = FakeAgent()
        await agent.rendered(backend: "limits-test")
        let server = try await OpsServer.bind(ListenAddress(host: "127.0.0.1", port: 0),
                                              limits: OpsServer.Limits(maxConnections: 3, idleTimeout: .seconds(3)),
                                              logger: logger, health: { await agent.snapshot() })
        let port = server.address.port
        let running = Task { await server.run() }
        defer { running.cancel() }
        let idle = (0..<3).map { _ in HTTPTestClient.connectIdle(port: port) }
        defer { for fd in idle where fd >= 0 { close(fd) } }
        #expect(idle.allSatisfy { $0 >= 0 })
        try await Task.sleep(for: .milliseconds(100))
        let extra = HTTPTestClient.connectIdle(port: port)
        defer { if extra >= 0 { close(extra) } }
        #expect(await HTTPTestClient.closedByServer(extra, within: 1), "a fourth connection is closed at once, not after the idle timeout")
        for fd in idle {
            #expect(await HTTPTestClient.closedByServer(fd, within: 6), "an idle connection is closed after the idle timeout")
        }
        let r = try #require(await HTTPTestClient.request(port: port, "/healthz"))
        #expect(r.status == 200)
    }
}
