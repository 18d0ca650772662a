#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A forward HTTP proxy: `http://[user:password@]host[:port]` (port 80 when none is written; a
/// URL without a scheme is read as `http://`, as botocore and Go do). Credentials are sent as
/// `Proxy-Authorization: Basic`; `description` never shows the password.
public struct ProxyURL: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int
    /// Percent-decoded user name and password from the URL, if any.
    public let username: String?
    public let password: String?

    public init(host: String, port: Int, username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }

    /// Reads a proxy URL; `origin` (`HTTPS_PROXY`, `aws.proxy`) names it in the error, which
    /// never contains the password.
    public static func parse(_ text: String, origin: String) throws(AgentError) -> ProxyURL {
        var rest = Substring(text.trimmingWhitespace)
        if let range = rest.firstRange(of: "://") {
            let scheme = rest[..<range.lowerBound].lowercased()
            guard scheme == "http" else {
                throw AgentError.config("\(origin) must be an http:// proxy URL such as http://proxy.example.com:3128 (got a \(scheme):// URL; TLS and SOCKS proxies are not supported)")
            }
            rest = rest[range.upperBound...]
        }
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let info = rest[..<at]
            if let colon = info.firstIndex(of: ":") {
                username = percentDecoded(info[..<colon])
                password = percentDecoded(info[info.index(after: colon)...])
            } else {
                username = percentDecoded(info)
            }
            rest = rest[rest.index(after: at)...]
        }
        guard let (host, port) = splitHostPort(rest), !host.isEmpty else {
            throw AgentError.config("\(origin) is not a proxy URL such as http://proxy.example.com:3128 (no host name)")
        }
        guard host.allSatisfy({ $0.isLetter || $0.isNumber || "-._:".contains($0) }) else {
            throw AgentError.config("\(origin) is not a proxy URL such as http://proxy.example.com:3128 (the host name has characters a host name cannot have)")
        }
        let number: Int
        if let port {
            guard let n = Int(port), (1...65535).contains(n) else {
                throw AgentError.config("\(origin) is not a proxy URL such as http://proxy.example.com:3128 (the port is not a number from 1 to 65535)")
            }
            number = n
        } else {
            number = 80
        }
        return ProxyURL(host: host, port: number, username: username, password: password)
    }

    /// `http://host:port`, or `http://user:***@host:port` with credentials: for logs and errors.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let user = username.map { "\(ProxyURL.percentEncoded($0)):***@" } ?? ""
        return "http://\(user)\(shownHost):\(port)"
    }

    /// `host` and `port`, a bracketed IPv6 address unwrapped.
    static func splitHostPort(_ text: Substring) -> (String, String?)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if after.isEmpty { return (host, nil) }
            guard after.hasPrefix(":") else { return nil }
            return (host, String(after.dropFirst()))
        }
        let colons = text.filter { $0 == ":" }.count
        if colons == 1, let colon = text.firstIndex(of: ":") {
            return (String(text[..<colon]), String(text[text.index(after: colon)...]))
        }
        return (String(text), nil)  // a name, or a bare IPv6 address (no port)
    }

    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
               let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 0x80, c.isLetter || c.isNumber || "-._~".contains(c) { out.append(c) } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// Which proxy, if any, a request goes through: the rules the AWS CLI (botocore) and the Vault CLI
/// (Go's `net/http`) read from the environment, with the agent's configuration on top.
///
/// - `https_proxy` / `HTTPS_PROXY`: the proxy for https URLs (a CONNECT tunnel);
///   `http_proxy` / `HTTP_PROXY`: for http URLs. The lower-case spelling wins when both are set
///   (as botocore and curl; Go prefers the upper-case one). Empty values count as unset.
/// - `no_proxy` / `NO_PROXY`: comma-separated hosts reached directly: `*` (everything), a host
///   name (`example.com` and `.example.com` both match `example.com` and every subdomain, as
///   botocore and curl), an IP address, a CIDR block (`10.0.0.0/8`, `fd00::/8`), each optionally
///   with `:port` (then only that port). IP entries match only URLs written with an IP address
///   (no DNS lookup). Loopback addresses are proxied unless listed (as botocore; Go never
///   proxies them).
/// - A configured proxy (`aws.proxy`, `vault.proxy`) replaces both proxy variables; `none`
///   means no proxy at all. `NO_PROXY` still applies to a configured proxy URL.
public struct ProxyRules: Sendable, Equatable {
    /// The proxy for https URLs, and the variable or key it came from.
    public var https: (ProxyURL, String)?
    /// The proxy for http URLs, and the variable or key it came from.
    public var http: (ProxyURL, String)?
    /// The hosts reached directly.
    public var noProxy: [NoProxyEntry]

    public init(https: (ProxyURL, String)? = nil, http: (ProxyURL, String)? = nil, noProxy: [NoProxyEntry] = []) {
        self.https = https
        self.http = http
        self.noProxy = noProxy
    }

    /// No proxy for anything.
    public static let direct = ProxyRules()

    /// The word a configuration uses for "no proxy, whatever the environment says".
    public static let noneKeyword = "none"

    /// Reads the environment, then applies `configured` (the value of `configKey`), which wins:
    /// a proxy URL for both schemes, or `none` for no proxy. Throws (exit 78) on a URL that is
    /// not an http:// proxy URL.
    public static func resolve(environment env: [String: String], configured: String? = nil,
                               configKey: String = "proxy") throws(AgentError) -> ProxyRules {
        func pick(_ name: String) -> (String, String)? {
            for n in [name.lowercased(), name.uppercased()] { if let v = env[n], !v.trimmingWhitespace.isEmpty { return (v, n) } }
            return nil
        }
        var rules = ProxyRules()
        if let (text, name) = pick("no_proxy") { rules.noProxy = NoProxyEntry.parseList(text) }
        if let configured {
            if configured.trimmingWhitespace.lowercased() == noneKeyword { return ProxyRules() }
            let url = try ProxyURL.parse(configured, origin: configKey)
            rules.https = (url, configKey)
            rules.http = (url, configKey)
            return rules
        }
        if let (text, name) = pick("https_proxy") { rules.https = (try ProxyURL.parse(text, origin: name), name) }
        if let (text, name) = pick("http_proxy") { rules.http = (try ProxyURL.parse(text, origin: name), name) }
        return rules
    }

    /// The proxy for a URL (`https://host:port/path`), nil to connect directly.
    public func proxy(forURL url: String) -> ProxyURL? {
        guard let target = ProxyTarget(url: url) else { return nil }
        return proxy(scheme: target.scheme, host: target.host, port: target.port)
    }

    /// The proxy for a request to `host:port` over `scheme` (`http` or `https`), nil for direct.
    public func proxy(scheme: String, host: String, port: Int) -> ProxyURL? {
        guard let (proxy, _) = scheme.lowercased() == "https" ? https : http else { return nil }
        let name = NoProxyEntry.normalized(host)
        if noProxy.contains(where: { $0.matches(host: name, port: port) }) { return nil }
        return proxy
    }

    /// Every distinct proxy the rules may use.
    public var proxies: [ProxyURL] {
        var out: [ProxyURL] = []
        for p in [https?.0, http?.0].compactMap({ $0 }) where !out.contains(p) { out.append(p) }
        return out
    }

    /// For the start-up log, without credentials: `https via http://proxy:3128 (HTTPS_PROXY),
    /// http direct; NO_PROXY: localhost, .internal` or `no proxy`.
    public var summary: String {
        if https == nil && http == nil { return "no proxy" }
        func one(_ p: (ProxyURL, String)?) -> String { p.map { "via \(ProxyURL(host: $0.0.host, port: $0.0.port)) (\($0.1))" } ?? "direct" }
        var text = "https \(one(https)), http \(one(http))"
        if !noProxy.isEmpty { text += "; except NO_PROXY: " + noProxy.map(\.text).joined(separator: ", ") }
        return text
    }

    public static func == (a: ProxyRules, b: ProxyRules) -> Bool {
        a.https?.0 == b.https?.0 && a.https?.1 == b.https?.1 && a.http?.0 == b.http?.0 && a.http?.1 == b.http?.1
            && a.noProxy == b.noProxy
    }
}

/// The scheme, host and port of an http(s) URL.
struct ProxyTarget {
    let scheme: String
    let host: String
    let port: Int

    init?(url: String) {
        guard let parts = URLParts(url) else { return nil }
        scheme = parts.scheme
        guard let (host, port) = ProxyURL.splitHostPort(parts.authority), !host.isEmpty else { return nil }
        self.host = host
        if let port { guard let n = Int(port) else { return nil }; self.port = n } else { self.port = parts.defaultPort }
    }
}

/// One entry of `NO_PROXY`.
public struct NoProxyEntry: Sendable, Equatable {
    enum Kind: Equatable {
        case everything
        case domain(String)
        case address([UInt8])
        case network([UInt8], bits: Int)
    }

    let kind: Kind
    let port: Int?
    /// The entry as written (for the log).
    public let text: String

    /// Parses a comma-separated list; entries that cannot match anything are kept as names.
    public static func parseList(_ list: String) -> [NoProxyEntry] {
        list.split(separator: ",").compactMap { NoProxyEntry(String($0)) }
    }

    init?(_ raw: String) {
        let text = String(raw.trimmingWhitespace)
        guard !text.isEmpty else { return nil }
        self.text = text
        if text == "*" { kind = .everything; port = nil; return }
        if let slash = text.firstIndex(of: "/") {
            let address = String(text[..<slash])
            if let bytes = IPAddressBytes.parse(address), let bits = Int(text[text.index(after: slash)...]),
               (0...(bytes.count * 8)).contains(bits) {
                kind = .network(bytes, bits: bits)
                port = nil
                return
            }
            kind = .domain(text.lowercased())  // matches nothing useful, kept as written
            port = nil
            return
        }
        if let bytes = IPAddressBytes.parse(text) { kind = .address(bytes); port = nil; return }
        var host = text
        var port: Int?
        if let (h, p) = ProxyURL.splitHostPort(Substring(text)), let p, let n = Int(p) { host = h; port = n }
        self.port = port
        if let bytes = IPAddressBytes.parse(host) { kind = .address(bytes); return }
        var name = NoProxyEntry.normalized(host)
        if name.hasPrefix("*.") { name.removeFirst(2) }
        while name.hasPrefix(".") { name.removeFirst() }
        kind = .domain(name)
    }

    /// Lower case, no brackets, no trailing dot.
    static func normalized(_ host: String) -> String {
        var h = host.lowercased()
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        while h.hasSuffix(".") { h.removeLast() }
        return h
    }

    func matches(host: String, port targetPort: Int) -> Bool {
        if let port, port != targetPort { return false }
        switch kind {
        case .everything: return true
        case .domain(let name): return !name.isEmpty && (host == name || host.hasSuffix("." + name))
        case .address(let bytes): return IPAddressBytes.parse(host) == bytes
        case .network(let net, let bits):
            guard let address = IPAddressBytes.parse(host), address.count == net.count else { return false }
            for i in 0..<net.count {
                let used = min(8, max(0, bits - i * 8))
                let mask: UInt8 = used == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - used))
                if address[i] & mask != net[i] & mask { return false }
            }
            return true
        }
    }
}

/// IP address literals as `inet_pton` reads them (dotted quads; IPv6 bare or bracketed).
enum IPAddressBytes {
    static func parse(_ text: String) -> [UInt8]? {
        var bare = Substring(text)
        if bare.hasPrefix("[") && bare.hasSuffix("]") { bare = bare.dropFirst().dropLast() }
        var v4 = in_addr()
        if inet_pton(AF_INET, String(bare), &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, String(bare), &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
