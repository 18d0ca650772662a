import AsyncHTTPClient
import NIOHTTP1
import SecretAgentCore

/// The Vault client's own redirect rule (the shared HTTP client follows none): at most one
/// redirect, 301, 302, 307 or 308, and only to the same origin — scheme, host and port, the
/// default port filled in. 307 and 308 repeat the method and body; 301 and 302 are followed only
/// for a GET (as a GET). Anything else is refused, so a token, namespace or login body is never
/// sent to another origin.
extension VaultClient {
    /// The request to send next for a redirect answer, or a `.config` error naming the address
    /// (never the Location's query).
    func redirected(_ request: HTTPClientRequest, status: Int, location: String?, method: HTTPMethod, path: String,
                    alreadyRedirected: Bool) throws(VaultError) -> HTTPClientRequest {
        let target = location.flatMap { RedirectURL.resolve($0, against: request.url) }
        func refuse(_ reason: String) -> VaultError {
            let to = target.map { " to \($0.shown)" } ?? ""
            return VaultError(.config, "Vault at \(address) answered \(method.rawValue) \(path) with a redirect (HTTP \(status))\(to); the redirect was refused: \(reason). The agent follows one redirect only, to the same scheme, host and port, and never sends its token or credentials elsewhere; set vault.address / VAULT_ADDR to the server that answers")
        }
        guard !alreadyRedirected else { throw refuse("it is a second redirect") }
        guard [301, 302, 307, 308].contains(status) else { throw refuse("HTTP \(status) is not a redirect the agent follows") }
        guard let location, !location.isEmpty else { throw refuse("it names no Location") }
        guard let target, let here = RedirectURL.parse(request.url) else { throw refuse("its Location is not an http(s) address") }
        guard !target.hasUserInfo else { throw refuse("its Location carries user information") }
        guard target.origin == here.origin else { throw refuse("it leads to another scheme, host or port") }
        if status == 301 || status == 302 {
            guard method == .GET else { throw refuse("HTTP \(status) would turn the \(method.rawValue) into a GET") }
        }
        var next = request
        next.url = here.written + target.pathAndQuery
        logger.debug("vault \(method.rawValue) \(path) redirected (HTTP \(status)) to \(target.path) on the same server; following it once")
        return next
    }
}

/// The parts of an http(s) URL that the redirect rule needs.
struct RedirectURL: Equatable {
    struct Origin: Equatable {
        let scheme: String
        let host: String
        let port: Int
    }

    let scheme: String
    let host: String
    let port: Int
    let hasUserInfo: Bool
    /// The scheme and authority as written (without user information).
    let written: String
    /// The path (at least "/").
    let path: String
    /// The path and the query as written (no fragment).
    let pathAndQuery: String

    var origin: Origin { Origin(scheme: scheme, host: host, port: port) }
    /// For messages: no user information, no query, at most 200 characters of path.
    var shown: String { written + (path.count > 200 ? path.prefix(200) + "…" : path) }

    /// Parses an absolute http or https URL; nil for anything else.
    static func parse(_ text: String) -> RedirectURL? {
        guard let parts = URLParts(text), !parts.host.isEmpty else { return nil }
        var port = parts.defaultPort
        if let portText = parts.port, !portText.isEmpty {
            guard portText.allSatisfy(\.isASCII), let p = Int(portText), (1...65535).contains(p) else { return nil }
            port = p
        }
        let pathAndQuery = parts.tail.hasPrefix("/") ? String(parts.tail) : "/" + parts.tail
        return RedirectURL(scheme: parts.scheme, host: parts.host.lowercased(), port: port, hasUserInfo: parts.userInfo != nil,
                           written: parts.scheme + "://" + parts.authority, path: parts.path, pathAndQuery: pathAndQuery)
    }

    /// Resolves a Location header against the URL that answered it (absolute, `//host…`,
    /// `/path`, `?query` or a relative path); nil when it is not an http(s) address.
    static func resolve(_ location: String, against base: String) -> RedirectURL? {
        let location = String(location.drop { $0 == " " })
        if location.hasPrefix("//") {
            guard let colon = base.firstIndex(of: ":") else { return nil }
            return parse(String(base[...colon]) + location)
        }
        if let colon = location.firstIndex(of: ":"), !location[..<colon].contains("/"),
           !location[..<colon].contains("?"), location[..<colon].first?.isLetter == true {
            return parse(location)  // has a scheme
        }
        guard let here = parse(base) else { return nil }
        var relative = Substring(location)
        if let hash = relative.firstIndex(of: "#") { relative = relative[..<hash] }
        let joined: String
        if relative.hasPrefix("/") {
            joined = String(relative)
        } else if relative.hasPrefix("?") || relative.isEmpty {
            joined = here.path + relative
        } else {
            joined = String(here.path[...(here.path.lastIndex(of: "/") ?? here.path.startIndex)]) + relative
        }
        return parse(here.written + joined)
    }
}
