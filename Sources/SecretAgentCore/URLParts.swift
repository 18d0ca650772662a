/// An absolute `http://` or `https://` URL split as written, before any check of its parts:
/// the scheme (lower case), the user information, the host (an IPv6 literal keeps its
/// brackets), the port as written, and what follows the authority (the fragment dropped).
/// One split for every reader, each applying its own rules on top: the AWS endpoint's strict
/// host, the Vault redirect rule's origin, the proxy choice.
public struct URLParts: Sendable, Equatable {
    /// `http` or `https`.
    public let scheme: String
    /// What came before the last `@` of the authority, when there was one.
    public let userInfo: Substring?
    /// The authority without the user information: `host[:port]`.
    public let authority: Substring
    /// The host as written (not lower-cased; `[…]` for an IPv6 literal).
    public let host: Substring
    /// The text after the port's colon (may be empty), nil without one.
    public let port: Substring?
    /// The path and the query as written, from the first `/` or `?` (empty when neither).
    public let tail: Substring

    /// Nil for another scheme, no `://`, or a bracketed host that is not closed or is followed by
    /// something other than `:port`.
    public init?(_ text: String) {
        guard let separator = text.firstRange(of: "://") else { return nil }
        scheme = text[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        var rest = text[separator.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let end = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        tail = rest[end...]
        var authority = rest[..<end]
        if let at = authority.lastIndex(of: "@") {
            userInfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
        } else {
            userInfo = nil
        }
        self.authority = authority
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                port = after.dropFirst()
            } else if after.isEmpty {
                port = nil
            } else {
                return nil
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        } else {
            host = authority
            port = nil
        }
    }

    /// 443 for https, 80 for http.
    public var defaultPort: Int { scheme == "https" ? 443 : 80 }

    /// The path without the query, `/` at least.
    public var path: String {
        guard tail.hasPrefix("/") else { return "/" }
        return String(tail.prefix { $0 != "?" })
    }
}
