import FoundationEssentials
import SecretAgentCore
#if canImport(Glibc)
import Glibc
#endif

/// An endpoint URL split into what signing and sending need: `scheme://host[:port][/path]`.
struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    var scheme: String
    /// The host as written in a URL (an IPv6 address keeps its brackets).
    var host: String
    var port: Int?
    /// The path, `/` at least.
    var path: String

    /// Parses `scheme://host[:port][/path]`; nil for another scheme, user information
    /// (`user@host`), a host with characters no host name or IP literal has, or a bad port, so
    /// that the host checked is the host the HTTP client connects to.
    init?(_ text: String) {
        guard let parts = URLParts(text), parts.userInfo == nil else { return nil }
        scheme = parts.scheme
        path = parts.path
        host = String(parts.host)
        if host.hasPrefix("[") {
            guard host.count > 2, host.dropFirst().dropLast().allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            guard !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") }) else { return nil }
        }
        if let portText = parts.port {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let p = Int(portText), (1...65535).contains(p) else { return nil }
            port = p
        }
        host = host.lowercased()
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    var hostHeader: String {
        guard let port, port != (scheme == "https" ? 443 : 80) else { return host }
        return "\(host):\(port)"
    }

    var url: String { "\(scheme)://\(hostHeader)\(path)" }
    var description: String { url }

    /// True when the host is written as a loopback IP address: 127.0.0.0/8 or `[::1]` (not a
    /// name, which DNS could point anywhere).
    var isLoopbackAddress: Bool {
        if let v4 = IPLiteral.v4(host) { return v4[0] == 127 }
        if let v6 = IPLiteral.v6(host) { return v6 == IPLiteral.v6("[::1]") }
        return false
    }
}

/// Parsing of IP address literals (as `inet_pton` reads them: dotted quads only, no `127.1`).
enum IPLiteral {
    /// The four bytes of a dotted-quad IPv4 address, or nil.
    static func v4(_ text: String) -> [UInt8]? {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    /// The sixteen bytes of a bracketed (`[fd00:ec2::23]`) or bare IPv6 address, or nil.
    static func v6(_ text: String) -> [UInt8]? {
        var bare = Substring(text)
        if bare.hasPrefix("[") && bare.hasSuffix("]") { bare = bare.dropFirst().dropLast() }
        var address = in6_addr()
        guard inet_pton(AF_INET6, String(bare), &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }
}

/// AWS Signature Version 4 (header signing), as in the AWS test suite.
enum SigV4 {
    /// Headers never signed: proxies and clients change them (`User-Agent`, as moto re-signs).
    static let unsigned: Set<String> = ["user-agent", "expect", "x-amzn-trace-id", "content-length", "connection"]

    /// Signs a request and returns every header to send: the given ones plus `host`,
    /// `x-amz-date`, `x-amz-security-token` (when the credentials have one) and `authorization`.
    static func sign(method: String, endpoint: Endpoint, query: [(String, String)] = [], headers: [(String, String)],
                     body: [UInt8], credentials: AWSCredentials, region: String, service: String,
                     date: Date = Date()) -> [(String, String)] {
        let amzDate = AWSDate.amzDate(date)
        let day = String(amzDate.prefix(8))
        var all = headers.filter { $0.0.lowercased() != "host" }
        all.insert(("host", endpoint.hostHeader), at: 0)
        all.append(("x-amz-date", amzDate))
        if let token = credentials.sessionToken { all.append(("x-amz-security-token", token)) }
        let (canonical, signedHeaders) = canonicalRequest(method: method, path: endpoint.path, query: query, headers: all, body: body)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(hex(SHA256.hash(Array(canonical.utf8))))"
        var key = signingKey(secret: credentials.secretAccessKey, day: day, region: region, service: service)
        let signature = hex(SHA256.hmac(key: key, message: Array(toSign.utf8)))
        SHA256.wipe(&key)
        all.append(("authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return all
    }

    /// The canonical request and the `SignedHeaders` list.
    static func canonicalRequest(method: String, path: String, query: [(String, String)], headers: [(String, String)],
                                 body: [UInt8]) -> (String, String) {
        var grouped: [String: [String]] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            guard !unsigned.contains(lower) else { continue }
            grouped[lower, default: []].append(trimHeader(value))
        }
        let names = grouped.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(grouped[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonicalURI = path.isEmpty ? "/" : path.split(separator: "/", omittingEmptySubsequences: false)
            .map { uriEncode(String($0)) }.joined(separator: "/")
        let encoded: [(String, String)] = query.map { (uriEncode($0.0), uriEncode($0.1)) }
        let sortedQuery = encoded.sorted { (a: (String, String), b: (String, String)) -> Bool in
            a.0 == b.0 ? a.1 < b.1 : a.0 < b.0
        }
        let canonicalQuery = sortedQuery.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let payload = hex(SHA256.hash(body))
        let canonical = [method, canonicalURI, canonicalQuery, canonicalHeaders, signedHeaders, payload].joined(separator: "\n")
        return (canonical, signedHeaders)
    }

    /// The day's signing key (HMAC chain over day, region, service); the caller wipes it after use.
    static func signingKey(secret: String, day: String, region: String, service: String) -> [UInt8] {
        var key = Array("AWS4\(secret)".utf8)
        for part in [day, region, service, "aws4_request"] {
            let next = SHA256.hmac(key: key, message: Array(part.utf8))
            SHA256.wipe(&key)
            key = next
        }
        return key
    }

    /// RFC 3986 encoding of everything but the unreserved characters.
    static func uriEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let h = String(b, radix: 16, uppercase: true)
                out += "%" + (h.count == 1 ? "0" + h : h)
            }
        }
        return out
    }

    /// A form body (`application/x-www-form-urlencoded`) as AWS query APIs take it.
    static func formBody(_ pairs: [(String, String)]) -> [UInt8] {
        Array(pairs.map { "\(uriEncode($0.0))=\(uriEncode($0.1))" }.joined(separator: "&").utf8)
    }

    private static func trimHeader(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in digest { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
