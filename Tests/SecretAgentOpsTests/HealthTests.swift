import SecretAgentCore
import SecretAgentOps
import Testing

@Suite("/healthz verdicts")
struct HealthTests {
    let now = ContinuousClock.now
    let wall = 1_795_000_000.0  // 2026-11-18T…Z
    let poll = Duration.seconds(300)

    func backend(_ name: String, lastSuccessAgo: Duration, failingFor: Duration? = nil, failures: Int = 0) -> BackendHealth {
        var b = BackendHealth(name: name, lastSuccess: now - lastSuccessAgo)
        b.failingSince = failingFor.map { now - $0 }
        b.lastError = failingFor == nil ? nil : "ssm:/db/password: connection refused"
        b.consecutiveFailures = failures
        return b
    }

    @Test("ready: everything rendered, every backend within two polls")
    func ready() {
        let snapshot = HealthSnapshot(renderedAll: true, poll: poll,
                                      backends: [backend("aws-ssm", lastSuccessAgo: .seconds(599)), backend("vault", lastSuccessAgo: .seconds(10))])
        let report = snapshot.evaluate(now: now, wallClock: wall)
        #expect(report.statusCode == 200)
        #expect(report.json.hasPrefix("{\"status\":\"ok\",\"templates_rendered\":true,\"poll_seconds\":300,\"backends\":["))
        #expect(report.json.contains("{\"backend\":\"aws-ssm\",\"healthy\":true,\"seconds_since_last_success\":599}"))
        #expect(!report.json.contains("failing"))
        #expect(report.statusLine == "ready: every template rendered; 2 backends answering")
    }

    @Test("starting: 503 until the first complete render")
    func starting() {
        let report = HealthSnapshot(renderedAll: false, poll: poll, backends: []).evaluate(now: now, wallClock: wall)
        #expect(report.statusCode == 503)
        #expect(report.status == "starting")
        #expect(report.json.contains("\"templates_rendered\":false"))
    }

    @Test("degraded: a failing backend is named with since when, never with its error text")
    func degraded() {
        let snapshot = HealthSnapshot(renderedAll: true, poll: poll, backends: [
            backend("aws-ssm", lastSuccessAgo: .seconds(700), failingFor: .seconds(400), failures: 4),
            backend("vault", lastSuccessAgo: .seconds(5)),
        ])
        let report = snapshot.evaluate(now: now, wallClock: wall)
        #expect(report.statusCode == 503)
        #expect(report.status == "degraded")
        #expect(report.failing.map(\.name) == ["aws-ssm"])
        let since = HealthReport.iso8601(wall - 400)
        #expect(report.json.contains("\"failing\":[{\"backend\":\"aws-ssm\",\"since\":\"\(since)\",\"failing_since\":\"\(since)\""))
        #expect(report.json.contains("\"seconds_since_last_success\":700,\"consecutive_failures\":4}"))
        #expect(report.statusLine == "degraded: no successful check from aws-ssm since \(since); files keep the last good values")
        #expect(!report.json.contains("password"))
        #expect(!report.json.contains("refused"))
    }

    @Test("a hung request: no failure recorded, but no success for two polls either")
    func hung() {
        let snapshot = HealthSnapshot(renderedAll: true, poll: .seconds(30),
                                      backends: [backend("aws-secretsmanager", lastSuccessAgo: .seconds(61))])
        let report = snapshot.evaluate(now: now, wallClock: wall)
        #expect(report.statusCode == 503)
        #expect(report.json.contains("\"failing_since\":null"))
        #expect(report.json.contains("\"since\":\"\(HealthReport.iso8601(wall - 61))\""))
        #expect(report.json.contains("a request may be hanging"))
    }

    @Test("ISO 8601 instants")
    func instants() {
        #expect(HealthReport.iso8601(0) == "1970-01-01T00:00:00Z")
        #expect(HealthReport.iso8601(1_795_000_000.9) == "2026-11-18T11:06:40Z")
    }
}
