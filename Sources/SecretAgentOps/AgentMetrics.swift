import Metrics
import Prometheus
import SecretAgentCore
import Synchronization

/// The agent's metrics, in one place, through swift-metrics: each call works with whatever
/// factory the process bootstrapped (Prometheus with `--listen`, nothing otherwise).
///
/// | name | type | labels |
/// |---|---|---|
/// | `secret_agent_api_calls_total` | counter | `backend`, `operation` (`GetParameters`, `BatchGetSecretValue`, `read`…); one per request sent, so each attempt of a retried call counts |
/// | `secret_agent_errors_total` | counter | `backend`, `kind` (`unavailable`, `permission`, `data`, `config`, `write`, `usage`, `other`) |
/// | `secret_agent_fetch_seconds` | histogram | `backend` |
/// | `secret_agent_renders_total` | counter | — (templates written because their bytes changed) |
/// | `secret_agent_child_reloads_total` | counter | — (reload signals or `on_change` commands) |
/// | `secret_agent_child_restarts_total` | counter | — |
/// | `secret_agent_seconds_since_last_success` | gauge | `backend` (set when `/metrics` is read) |
/// | `secret_agent_lease_seconds_left` | gauge | `lease` (`leaseLabel(_:)` of the reference: 16 hex digits, never its path or parameters) |
/// | `secret_agent_token_seconds_left` | gauge | `backend` |
/// | `secret_agent_local_api_{hits,misses,refreshes}_total` | counter | — (the local API: `SecretAgentServe`) |
/// | `secret_agent_local_api_refusals_total` | counter | `reason` (`token`, `forwarded`, `method`, `allow_list`) |
///
/// Labels hold backend names, operations and hashes of references: never a value or a path.
///
/// The names are `MetricName`'s (in the core module, where the backends count their API calls).
public enum AgentMetrics {
    private static let bootstrapped = Mutex<PrometheusCollectorRegistry?>(nil)
    /// The `lease` labels exported by the last `leaseSecondsLeft(_:)`.
    private static let exportedLeases = Mutex<Set<String>>([])

    /// Bootstraps swift-metrics with a Prometheus factory the first time it is called and
    /// returns its registry; later calls return the same registry. (swift-metrics allows one
    /// bootstrap per process: do not bootstrap another factory as well.)
    public static func bootstrapPrometheus() -> PrometheusCollectorRegistry {
        bootstrapped.withLock { registry in
            if let registry { return registry }
            let fresh = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: fresh)
            factory.defaultDurationHistogramBuckets = fetchBuckets
            MetricsSystem.bootstrap(factory)
            registry = fresh
            return fresh
        }
    }

    /// Fetch latency buckets: from a fast local read to a slow cross-region call.
    static let fetchBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    /// A template was written (its bytes changed).
    public static func rendered(count: Int = 1) {
        Counter(label: MetricName.renders).increment(by: count)
    }

    /// The child got its reload signal (or a template's `on_change` command ran).
    public static func reloaded() {
        Counter(label: MetricName.childReloads).increment()
    }

    /// The child was restarted (an environment change, or `on_change: restart`).
    public static func restarted() {
        Counter(label: MetricName.childRestarts).increment()
    }

    /// `count` API calls to `backend` (`aws-ssm`, `aws-secretsmanager`, `vault`, `sts`…): one
    /// per request sent, each attempt of a retried call included (`APICalls.count`).
    public static func apiCall(backend: String, operation: String, count: Int = 1) {
        APICalls.count(backend: backend, operation: operation, count: count)
    }

    /// A failed check or fetch of `backend`; `kind` as `errorKind(_:)` names it.
    public static func error(backend: String, kind: String) {
        Counter(label: MetricName.errors, dimensions: [("backend", backend), ("kind", kind)]).increment()
    }

    /// A failed check or fetch of `backend`, classified by its exit status.
    public static func error(backend: String, _ error: any Error) {
        self.error(backend: backend, kind: errorKind(error))
    }

    /// How long one fetch or poll of `backend` took.
    public static func fetchDuration(backend: String, seconds: Double) {
        Timer(label: MetricName.fetchSeconds, dimensions: [("backend", backend)]).recordSeconds(seconds)
    }

    /// How long one fetch or poll of `backend` took.
    public static func fetchDuration(backend: String, _ duration: Duration) {
        fetchDuration(backend: backend, seconds: duration.seconds)
    }

    /// Sets the lease gauge for every lease held now, and removes the gauges of leases that are no
    /// longer held (called on each scrape). Each is labelled `leaseLabel(reference)`.
    public static func leaseSecondsLeft(_ leases: [(reference: String, seconds: Double)]) {
        var current: [String: Double] = [:]
        for lease in leases { current[leaseLabel(lease.reference)] = lease.seconds }
        let gone = exportedLeases.withLock { exported in
            let gone = exported.subtracting(current.keys)
            exported = Set(current.keys)
            return gone
        }
        for label in gone { Gauge(label: MetricName.leaseSecondsLeft, dimensions: [("lease", label)]).destroy() }
        for (label, seconds) in current { Gauge(label: MetricName.leaseSecondsLeft, dimensions: [("lease", label)]).record(seconds) }
    }

    /// The `lease` label of a reference: FNV-1a (64 bit) of its text, as 16 hex digits. Stable
    /// across restarts and machines, and carries no path, parameter or value.
    public static func leaseLabel(_ reference: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in reference.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Time left on the backend's login token (Vault) or temporary credentials (AWS).
    public static func tokenSecondsLeft(_ seconds: Double, backend: String) {
        Gauge(label: MetricName.tokenSecondsLeft, dimensions: [("backend", backend)]).record(seconds)
    }

    /// Sets `secret_agent_seconds_since_last_success` for every backend of a health report.
    public static func observe(_ report: HealthReport) {
        for b in report.backends {
            Gauge(label: MetricName.secondsSinceLastSuccess, dimensions: [("backend", b.name)]).record(b.secondsSinceLastSuccess)
        }
    }

    /// A short, bounded label for an error: its exit status's meaning.
    public static func errorKind(_ error: any Error) -> String {
        guard let failure = error as? any AgentFailure else { return "other" }
        switch failure.exitCode {
        case .unavailable: return "unavailable"
        case .noPermission: return "permission"
        case .dataError: return "data"
        case .config: return "config"
        case .cannotCreate: return "write"
        case .usage: return "usage"
        default: return "other"
        }
    }
}
