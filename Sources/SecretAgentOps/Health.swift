#if canImport(Glibc)
import Glibc
#endif
import SecretAgentCore
import SecretTemplate

/// What `/healthz` judges: read from the running agent each time it is asked.
public struct HealthSnapshot: Sendable {
    /// True once every template (and the child's environment) has rendered at least once.
    public var renderedAll: Bool
    /// The configured poll interval; a backend is healthy while its last successful check is
    /// more recent than two of them.
    public var poll: Duration
    /// The backends that are polled (a backend with nothing to watch should not be listed:
    /// its last success would never move).
    public var backends: [BackendHealth]

    public init(renderedAll: Bool, poll: Duration, backends: [BackendHealth]) {
        self.renderedAll = renderedAll
        self.poll = poll
        self.backends = backends
    }

    /// Judges the snapshot at `now`; `wallClock` is the matching time in seconds since the
    /// epoch, used only to print instants in the body.
    public func evaluate(now: ContinuousClock.Instant = .now, wallClock: Double = HealthReport.wallClockNow()) -> HealthReport {
        let limit = poll * 2
        var entries: [HealthReport.Backend] = []
        for b in backends.sorted(by: { $0.name < $1.name }) {
            let age = now - b.lastSuccess
            let failingFor = b.failingSince.map { now - $0 }
            entries.append(HealthReport.Backend(
                name: b.name, healthy: age <= limit,
                secondsSinceLastSuccess: age.seconds,
                lastSuccess: wallClock - age.seconds,
                failingSince: failingFor.map { wallClock - $0.seconds },
                consecutiveFailures: b.consecutiveFailures))
        }
        return HealthReport(renderedAll: renderedAll, pollSeconds: poll.seconds, backends: entries)
    }
}

/// The verdict of `/healthz`: 200 when every template has rendered and every backend checked
/// in successfully within two polls, else 503 with the failing backends and since when.
/// It holds names, instants and counts only — never a value or an error text.
public struct HealthReport: Sendable, Equatable {
    /// One backend's line.
    public struct Backend: Sendable, Equatable {
        public var name: String
        public var healthy: Bool
        public var secondsSinceLastSuccess: Double
        /// Seconds since the epoch.
        public var lastSuccess: Double
        /// Seconds since the epoch when the current run of failures began; nil for a backend
        /// that has not failed but has not answered either (a hung request).
        public var failingSince: Double?
        public var consecutiveFailures: Int
    }

    public var renderedAll: Bool
    public var pollSeconds: Double
    public var backends: [Backend]

    /// True when the agent is ready: everything rendered, every backend recent.
    public var healthy: Bool { renderedAll && backends.allSatisfy(\.healthy) }
    /// 200 or 503.
    public var statusCode: Int { healthy ? 200 : 503 }
    /// The backends that make it unhealthy.
    public var failing: [Backend] { backends.filter { !$0.healthy } }

    /// `ok`, `starting` (not everything has rendered yet) or `degraded`.
    public var status: String {
        if healthy { return "ok" }
        return renderedAll ? "degraded" : "starting"
    }

    /// A one-line summary for systemd's `STATUS=` (`systemctl status`), without values.
    public var statusLine: String {
        switch status {
        case "ok":
            return "ready: every template rendered; \(backends.count) backend\(backends.count == 1 ? "" : "s") answering"
        case "starting":
            return "starting: rendering templates"
        default:
            let names = failing.map { "\($0.name) since \(Self.iso8601($0.failingSince ?? $0.lastSuccess))" }
            return "degraded: no successful check from \(names.joined(separator: ", ")); files keep the last good values"
        }
    }

    /// The JSON body.
    public var json: String {
        var fields = ["\"status\":\(JSON.quote(status))", "\"templates_rendered\":\(renderedAll)",
                      "\"poll_seconds\":\(Self.number(pollSeconds))"]
        if !healthy {
            fields.append("\"failing\":[" + failing.map(Self.failingJSON).joined(separator: ",") + "]")
        }
        fields.append("\"backends\":[" + backends.map { b in
            "{\"backend\":\(JSON.quote(b.name)),\"healthy\":\(b.healthy),\"seconds_since_last_success\":\(Self.number(b.secondsSinceLastSuccess))}"
        }.joined(separator: ",") + "]")
        return "{" + fields.joined(separator: ",") + "}\n"
    }

    static func failingJSON(_ b: Backend) -> String {
        var f = ["\"backend\":\(JSON.quote(b.name))",
                 "\"since\":\(JSON.quote(iso8601(b.failingSince ?? b.lastSuccess)))",
                 "\"failing_since\":" + (b.failingSince.map { JSON.quote(iso8601($0)) } ?? "null"),
                 "\"last_success\":\(JSON.quote(iso8601(b.lastSuccess)))",
                 "\"seconds_since_last_success\":\(number(b.secondsSinceLastSuccess))",
                 "\"consecutive_failures\":\(b.consecutiveFailures)"]
        if b.failingSince == nil { f.append("\"reason\":\"no successful check within two polls (a request may be hanging)\"") }
        return "{" + f.joined(separator: ",") + "}"
    }

    /// Whole seconds (health does not need more).
    static func number(_ value: Double) -> String { String(Int64(value.rounded(.down))) }

    /// `2026-11-29T02:00:00Z`.
    public static func iso8601(_ epochSeconds: Double) -> String {
        var t = time_t(epochSeconds.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// The wall clock in seconds since the epoch.
    public static func wallClockNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
