/// The `--listen HOST:PORT` address of the health and metrics listener.
///
/// `127.0.0.1:9464`, `localhost:9464`, `[::1]:9464`, or `:9464` for every interface
/// (`0.0.0.0`, what a Kubernetes probe needs). Port 0 picks a free port.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; a malformed address is a usage error (exit 64).
    public static func parse(_ text: String) throws(OpsError) -> ListenAddress {
        guard let colon = text.lastIndex(of: ":") else {
            throw .usage("--listen takes HOST:PORT such as 127.0.0.1:9464 (got '\(text)')")
        }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw .usage("--listen needs a port from 0 to 65535 after the last ':' (got '\(text)')")
        }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else {
                throw .usage("--listen: an IPv6 host goes in brackets, such as [::1]:9464 (got '\(text)')")
            }
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw .usage("--listen: write an IPv6 host in brackets, such as [::1]:9464 (got '\(text)')")
        }
        if host.isEmpty { host = "0.0.0.0" }
        guard !host.contains(where: \.isWhitespace) else {
            throw .usage("--listen takes HOST:PORT without spaces (got '\(text)')")
        }
        return ListenAddress(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
