import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A bounded HTTP/1.1 listener: what the `/healthz` and `/metrics` listener and the local
/// secrets API share.
///
/// At most `maxConnections` connections at once (more are closed as soon as they are accepted),
/// and a connection that sends nothing for `idleTimeout` is closed, so idle or slow clients can
/// neither exhaust the agent's descriptors nor hold it up. Requests on one connection are
/// answered in order; keep-alive is honoured; request bodies are ignored; HEAD gets no body.
public final class HTTPListener: Sendable {
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

    /// One request as the handler sees it.
    public struct Request: Sendable {
        public var method: HTTPMethod
        public var uri: String
        public var headers: HTTPHeaders

        /// A request (the listener makes them; tests too).
        public init(method: HTTPMethod, uri: String, headers: HTTPHeaders) {
            self.method = method
            self.uri = uri
            self.headers = headers
        }
    }

    /// One answer. `headers` come on top of Content-Type, Content-Length and Cache-Control.
    public struct Reply: Sendable {
        public var status: Int
        public var contentType: String
        public var body: ByteBuffer
        public var headers: [(String, String)]

        /// An answer whose body is already a buffer (shared, not copied, by every send).
        public init(status: Int, contentType: String, body: ByteBuffer, headers: [(String, String)] = []) {
            self.status = status
            self.contentType = contentType
            self.body = body
            self.headers = headers
        }

        /// An answer from bytes.
        public init(status: Int, contentType: String, bytes: [UInt8], headers: [(String, String)] = []) {
            self.init(status: status, contentType: contentType, body: ByteBuffer(bytes: bytes), headers: headers)
        }
    }

    /// Answers one request.
    public typealias Handler = @Sendable (Request) async -> Reply
    /// Answers a request at once, on the connection's event loop, when it can (a cached answer,
    /// a refusal); nil hands it to the `Handler`. Must not block.
    public typealias FastPath = @Sendable (Request) -> Reply?
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// Where the listener is bound (the real port when 0 was asked for).
    public let address: ListenAddress
    let listener: NIOAsyncChannel<Connection, Never>
    let limits: Limits
    let logger: Logger
    /// What the listener serves, for log lines ("health listener", "local API").
    let name: String
    /// Connections being served now.
    let open = Mutex(0)

    private init(address: ListenAddress, listener: NIOAsyncChannel<Connection, Never>, limits: Limits, name: String, logger: Logger) {
        self.address = address
        self.listener = listener
        self.limits = limits
        self.name = name
        self.logger = logger
    }

    /// Binds (nothing is served until `run(_:)`). A port in use or an address that does not
    /// resolve throws `OpsError` (exit 69) saying what the listener was for (`purpose`).
    ///
    /// With `fastPath`, each request is first offered to it on the event loop; only those it
    /// declines reach the async handler (requests on one connection are still answered in order:
    /// the HTTP pipeline handler holds the next one until the answer to the current one is out).
    public static func bind(_ address: ListenAddress, limits: Limits, name: String, purpose: String,
                            logger: Logger, fastPath: FastPath? = nil) async throws -> HTTPListener {
        let listener: NIOAsyncChannel<Connection, Never>
        let idle = TimeAmount.nanoseconds(limits.idleTimeout.nanoseconds)
        do {
            listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                        try channel.pipeline.syncOperations.addHandler(IdleCloser())
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        if let fastPath { try channel.pipeline.syncOperations.addHandler(FastPathHandler(fastPath)) }
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw OpsError.unavailable("cannot listen on \(address) for \(purpose): \(error)")
        }
        let bound = ListenAddress(host: address.host, port: listener.channel.localAddress?.port ?? address.port)
        return HTTPListener(address: bound, listener: listener, limits: limits, name: name, logger: logger)
    }

    /// Serves connections with `handler` until the calling task is cancelled, then closes the listener.
    public func run(_ handler: @escaping Handler) async {
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
                            logger.debug("\(name) at its connection limit; closing a new connection",
                                         metadata: ["limit": "\(limits.maxConnections)"])
                            // Through executeThenClose: the async writer must be finished, not dropped.
                            group.addTask { try? await connection.executeThenClose { _, _ in } }
                            continue
                        }
                        group.addTask {
                            await self.serve(connection, handler)
                            self.open.withLock { $0 -= 1 }
                        }
                    }
                }
            } catch {
                if !Task.isCancelled { logger.warning("the \(name) stopped", metadata: ["error": "\(error)"]) }
            }
            group.cancelAll()
        }
    }

    /// One connection: requests in order, keep-alive honoured.
    func serve(_ connection: Connection, _ handler: Handler) async {
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
                        let reply = await handler(Request(method: request.method, uri: request.uri, headers: request.headers))
                        try await outbound.write(contentsOf: Self.response(reply, to: request))
                        if !request.isKeepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("\(name) connection ended", metadata: ["error": "\(error)"])
        }
    }
}
