import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import SecretAgentCore
import Synchronization

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
    public struct Limits: Sendable {
        public var maxConnections: Int
        public var idleTimeout: Duration

        /// 32 connections at once (health probes and a scraper need a handful), 10 s idle.
        public init(maxConnections: Int = 32, idleTimeout: Duration = .seconds(10)) {
            self.maxConnections = maxConnections
            self.idleTimeout = idleTimeout
        }
    }

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
    let limits: Limits
    /// Connections being served now.
    let open = Mutex(0)

    private init(address: ListenAddress, listener: NIOAsyncChannel<Connection, Never>, registry: PrometheusCollectorRegistry,
                 health: @escaping HealthSource, onScrape: (@Sendable () async -> Void)?, limits: Limits, logger: Logger) {
        self.address = address
        self.listener = listener
        self.registry = registry
        self.health = health
        self.onScrape = onScrape
        self.limits = limits
        self.logger = logger
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
        let listener: NIOAsyncChannel<Connection, Never>
        let idle = TimeAmount.nanoseconds(limits.idleTimeout.nanoseconds)
        do {
            listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                        try channel.pipeline.syncOperations.addHandler(IdleCloser())
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw OpsError.unavailable("cannot listen on \(address) for /healthz and /metrics: \(error)")
        }
        let bound = ListenAddress(host: address.host, port: listener.channel.localAddress?.port ?? address.port)
        logger.info("serving /healthz and /metrics", metadata: ["listen": "\(bound)"])
        return OpsServer(address: bound, listener: listener, registry: registry, health: health, onScrape: onScrape,
                         limits: limits, logger: logger)
    }

    /// Serves connections until the calling task is cancelled, then closes the listener.
    public func run() async {
        await withDiscardingTaskGroup { group in
            do {
                try await listener.executeThenClose { inbound in
                    for try await connection in inbound {
                        let admitted = open.withLock { count in
                            guard count < limits.maxConnections else { return false }
                            count += 1
                            return true
                        }
                        guard admitted else {
                            logger.debug("health listener at its connection limit; closing a new connection",
                                         metadata: ["limit": "\(limits.maxConnections)"])
                            // Through executeThenClose: the async writer must be finished, not dropped.
                            group.addTask { try? await connection.executeThenClose { _, _ in } }
                            continue
                        }
                        group.addTask {
                            await self.serve(connection)
                            self.open.withLock { $0 -= 1 }
                        }
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

/// Closes a connection that has sent nothing for the idle timeout (`IdleStateHandler` fires).
final class IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
