import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// The `--listen` HTTP/1.1 listener: `GET /healthz` and `GET /metrics`.
///
/// `/healthz` answers 200 with `{"status":"ok",…}` when every template has rendered and every
/// polled backend's last successful check is more recent than two poll intervals, else 503
/// naming the failing backends and since when. `/metrics` is the Prometheus text format of
/// the registry (see `AgentMetrics`). Neither ever shows a value. Anything else is 404; methods
/// other than GET and HEAD are 405.
public final class OpsServer: Sendable {
    /// Reads the agent's state for one request.
    public typealias HealthSource = @Sendable () async -> HealthSnapshot
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// Where the listener is bound (the real port when 0 was asked for).
    public let address: ListenAddress
    let listener: NIOAsyncChannel<Connection, Never>
    let registry: PrometheusCollectorRegistry
    let health: HealthSource
    let onScrape: (@Sendable () async -> Void)?
    let logger: Logger

    private init(address: ListenAddress, listener: NIOAsyncChannel<Connection, Never>, registry: PrometheusCollectorRegistry,
                 health: @escaping HealthSource, onScrape: (@Sendable () async -> Void)?, logger: Logger) {
        self.address = address
        self.listener = listener
        self.registry = registry
        self.health = health
        self.onScrape = onScrape
        self.logger = logger
    }

    /// Binds the listener (nothing is served until `run()`). A port in use or an address that
    /// does not resolve throws `OpsError` (exit 69).
    ///
    /// - Parameters:
    ///   - registry: what `/metrics` prints; the one `AgentMetrics.bootstrapPrometheus()` made.
    ///   - onScrape: runs before each `/metrics` answer, to set gauges read on demand (lease and
    ///     token time left).
    ///   - health: reads the agent's state for each request.
    public static func bind(_ address: ListenAddress, registry: PrometheusCollectorRegistry = AgentMetrics.bootstrapPrometheus(),
                            logger: Logger, onScrape: (@Sendable () async -> Void)? = nil,
                            health: @escaping HealthSource) async throws -> OpsServer {
        let listener: NIOAsyncChannel<Connection, Never>
        do {
            listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw OpsError.unavailable("cannot listen on \(address) for /healthz and /metrics: \(error)")
        }
        let bound = ListenAddress(host: address.host, port: listener.channel.localAddress?.port ?? address.port)
        logger.info("serving /healthz and /metrics", metadata: ["listen": "\(bound)"])
        return OpsServer(address: bound, listener: listener, registry: registry, health: health, onScrape: onScrape, logger: logger)
    }

    /// Serves connections until the calling task is cancelled, then closes the listener.
    public func run() async {
        await withDiscardingTaskGroup { group in
            do {
                try await listener.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            } catch {
                if !Task.isCancelled { logger.warning("the health listener stopped", metadata: ["error": "\(error)"]) }
            }
            group.cancelAll()
        }
    }

    /// One connection: requests in order, keep-alive honoured.
    func serve(_ connection: Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let h): head = h
                    case .body: continue
                    case .end:
                        guard let request = head else { continue }
                        head = nil
                        let reply = await respond(method: request.method, uri: request.uri)
                        var headers = HTTPHeaders()
                        headers.add(name: "Content-Type", value: reply.contentType)
                        headers.add(name: "Content-Length", value: "\(reply.body.count)")
                        headers.add(name: "Cache-Control", value: "no-store")
                        if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
                        try await outbound.write(.head(HTTPResponseHead(version: request.version,
                                                                        status: HTTPResponseStatus(statusCode: reply.status),
                                                                        headers: headers)))
                        if request.method != .HEAD {
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: reply.body))))
                        }
                        try await outbound.write(.end(nil))
                        if !request.isKeepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("health listener connection ended", metadata: ["error": "\(error)"])
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
