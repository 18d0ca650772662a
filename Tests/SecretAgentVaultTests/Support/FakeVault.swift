import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny loopback HTTP server that records requests and answers with a closure: for the
/// request shape of auth methods that cannot run here, retries and error statuses.
final class FakeVault: @unchecked Sendable {
    struct Request: Sendable {
        let method: String
        let uri: String
        let headers: [(String, String)]
        let body: String

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
    }

    typealias Responder = @Sendable (Request) -> (Int, String)
    /// An answer with extra headers (`Location` for a redirect).
    typealias HeaderResponder = @Sendable (Request) -> (Int, String, [(String, String)])

    private let recorded = Mutex<[Request]>([])
    private var channel: (any Channel)?
    let respond: HeaderResponder

    init(_ respond: @escaping HeaderResponder) {
        self.respond = respond
    }

    /// Starts on a free 127.0.0.1 port.
    static func start(_ respond: @escaping Responder) async throws -> FakeVault {
        try await start(headers: { request in
            let (status, text) = respond(request)
            return (status, text, [])
        })
    }

    /// Starts on a free 127.0.0.1 port; the answers may carry headers.
    static func start(headers respond: @escaping HeaderResponder) async throws -> FakeVault {
        let server = FakeVault(respond)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(FakeHandler(server: server))
                }
            }
        server.channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        return server
    }

    var address: String { "http://127.0.0.1:\(port)" }
    var port: Int { channel!.localAddress!.port! }

    var requests: [Request] {
        recorded.withLock { $0 }
    }

    func record(_ request: Request) {
        recorded.withLock { $0.append(request) }
    }

    func stop() async {
        try? await channel?.close()
    }

    /// A login answer with the given token.
    static func loginAnswer(token: String, ttl: Int = 3600, role: String = "app") -> (Int, String) {
        (200, #"{"auth":{"client_token":"\#(token)","accessor":"acc-1","lease_duration":\#(ttl),"renewable":true,"policies":["default"],"metadata":{"role":"\#(role)"}}}"#)
    }
}

private final class FakeHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: FakeVault
    var head: HTTPRequestHead?
    var body = ""

    init(server: FakeVault) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = ""
        case .body(var buffer):
            body += buffer.readString(length: buffer.readableBytes) ?? ""
        case .end:
            guard let head else { return }
            let request = FakeVault.Request(method: head.method.rawValue, uri: head.uri,
                                            headers: head.headers.map { ($0.name, $0.value) }, body: body)
            server.record(request)
            let (status, text, extra) = server.respond(request)
            var headers = HTTPHeaders()
            for (name, value) in extra { headers.add(name: name, value: value) }
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(text.utf8.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .init(statusCode: status), headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
