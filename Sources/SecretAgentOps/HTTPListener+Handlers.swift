import NIOCore
import NIOHTTP1

extension HTTPListener {
    /// The response parts of a reply: head (Content-Type, Content-Length, Cache-Control, the
    /// reply's headers, `Connection: close` when the client did not keep alive), body (not for
    /// HEAD), end.
    static func response(_ reply: Reply, to request: HTTPRequestHead) -> [HTTPServerResponsePart] {
        var headers = HTTPHeaders()
        headers.reserveCapacity(4 + reply.headers.count)
        headers.add(name: "Content-Type", value: reply.contentType)
        headers.add(name: "Content-Length", value: String(reply.body.readableBytes))
        headers.add(name: "Cache-Control", value: "no-store")
        for (name, value) in reply.headers { headers.add(name: name, value: value) }
        if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPServerResponsePart.head(HTTPResponseHead(version: request.version, status: HTTPResponseStatus(statusCode: reply.status),
                                                                headers: headers))
        return request.method == .HEAD ? [head, .end(nil)] : [head, .body(.byteBuffer(reply.body)), .end(nil)]
    }
}

/// Offers each request to the fast path; answers what it takes on the event loop and passes the
/// rest on to the async handler. Request bodies are ignored either way.
final class FastPathHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let fastPath: HTTPListener.FastPath
    /// The request being answered here, and its answer (sent at the request's end).
    private var answering: (HTTPRequestHead, HTTPListener.Reply)?

    init(_ fastPath: @escaping HTTPListener.FastPath) {
        self.fastPath = fastPath
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if let reply = fastPath(HTTPListener.Request(method: head.method, uri: head.uri, headers: head.headers)) {
                answering = (head, reply)
            } else {
                context.fireChannelRead(data)
            }
        case .body:
            if answering == nil { context.fireChannelRead(data) }
        case .end:
            guard let (head, reply) = answering else {
                context.fireChannelRead(data)
                return
            }
            answering = nil
            let parts = HTTPListener.response(reply, to: head)
            for part in parts.dropLast() { context.write(wrapOutboundOut(part), promise: nil) }
            if head.isKeepAlive {
                context.writeAndFlush(wrapOutboundOut(parts[parts.count - 1]), promise: nil)
            } else {
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(parts[parts.count - 1])).whenComplete { _ in channel.close(promise: nil) }
            }
        }
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
