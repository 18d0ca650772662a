import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import SecretAgentCore

/// The `--listen` HTTP/1.1 listener: `GET /healthz` and `GET /metrics`.
///
/// `/healthz` answers 200 with `{"status":"ok",…}` when every template has rendered and every
/// polled backend's last successful check is more recent than two poll intervals, else 503
/// naming the failing backends and since when. `/metrics` is the Prometheus text format of
/// the registry (see `AgentMetrics`). Neither ever shows a value. Anything else is 404; methods
/// other than GET and HEAD are 405.
///
/// Connections are bounded (``Limits``): at most `maxConnections` at once — more are closed as
/// soon as they are accepted — and a connection that sends nothing for `idleTimeout` is closed,
/// so idle or slow clients can neither exhaust the agent's descriptors nor hold it up.
public final class OpsServer: Sendable {
    /// How many connections the listener keeps, and for how long an idle one.
    public typealias Limits = HTTPListener.Limits

    /// Reads the agent's state for one request.
    public typealias HealthSource = @Sendable () async -> HealthSnapshot

    /// Where the listener is bound (the real port when 0 was asked for).
    public var address: ListenAddress { listener.address }
    let listener: HTTPListener
    let registry: PrometheusCollectorRegistry
    let health: HealthSource
    let onScrape: (@Sendable () async -> Void)?

    private init(listener: HTTPListener, registry: PrometheusCollectorRegistry,
                 health: @escaping HealthSource, onScrape: (@Sendable () async -> Void)?) {
        self.listener = listener
        self.registry = registry
        self.health = health
        self.onScrape = onScrape
    }

    /// Binds the listener (nothing is served until `run()`). A port in use or an address that
    /// does not resolve throws `OpsError` (exit 69).
    ///
    /// - Parameters:
    ///   - registry: what `/metrics` prints; the one `AgentMetrics.bootstrapPrometheus()` made.
    ///   - onScrape: runs before each `/metrics` answer, to set gauges read on demand (lease and
    ///     token time left).
    ///   - limits: how many connections at once, and how long an idle one stays open.
    ///   - health: reads the agent's state for each request.
    public static func bind(_ address: ListenAddress, registry: PrometheusCollectorRegistry = AgentMetrics.bootstrapPrometheus(),
                            limits: Limits = Limits(), logger: Logger, onScrape: (@Sendable () async -> Void)? = nil,
                            health: @escaping HealthSource) async throws -> OpsServer {
        let listener = try await HTTPListener.bind(address, limits: limits, name: "health listener",
                                                   purpose: "/healthz and /metrics", logger: logger)
        logger.info("serving /healthz and /metrics", metadata: ["listen": "\(listener.address)"])
        return OpsServer(listener: listener, registry: registry, health: health, onScrape: onScrape)
    }

    /// Serves connections until the calling task is cancelled, then closes the listener.
    public func run() async {
        await listener.run { [self] request in
            let reply = await respond(method: request.method, uri: request.uri)
            return HTTPListener.Reply(status: reply.status, contentType: reply.contentType, bytes: reply.body)
        }
    }

    /// A response, independent of the transport.
    struct Reply: Sendable {
        var status: Int
        var contentType: String
        var body: [UInt8]
    }

    /// Routes one request.
    func respond(method: HTTPMethod, uri: String) async -> Reply {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        guard path == "/healthz" || path == "/metrics" else {
            return Reply(status: 404, contentType: "text/plain; charset=utf-8", body: Array("not found: try /healthz or /metrics\n".utf8))
        }
        guard method == .GET || method == .HEAD else {
            return Reply(status: 405, contentType: "text/plain; charset=utf-8", body: Array("method not allowed\n".utf8))
        }
        let report = await health().evaluate()
        if path == "/healthz" {
            return Reply(status: report.statusCode, contentType: "application/json", body: Array(report.json.utf8))
        }
        AgentMetrics.observe(report)
        await onScrape?()
        return Reply(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: registry.emitToBuffer())
    }
}
