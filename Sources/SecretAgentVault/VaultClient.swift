import AsyncHTTPClient
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOSSL
import SecretAgentCore
import SecretTemplate

/// A Vault answer: the status and the body parsed as JSON (nil when empty or not JSON).
struct VaultResponse: Sendable {
    let status: Int
    let body: Value?

    var isSuccess: Bool { (200..<300).contains(status) }
    /// The `data` object of the answer.
    var data: Value? { body?["data"] }
    /// The server's `errors` list, joined.
    var errors: String {
        guard case .list(let items)? = body?["errors"] else { return "" }
        return items.compactMap(\.stringValue).joined(separator: "; ")
    }
}

/// The HTTP side of Vault: address, namespace, TLS, timeouts and retries with backoff and jitter
/// on 5xx and connection errors (never on 4xx), and one same-origin redirect at most (the shared
/// HTTP client must follow none: `redirectConfiguration = .disallow`). It knows nothing about auth or KV.
final class VaultClient: Sendable {
    let address: String
    /// Where requests go: the address, with `tls_server_name` in place of its host when set
    /// (the HTTP client's `dnsOverride` maps that name back to the host).
    let requestBase: String
    let namespace: String?
    let options: VaultOptions
    private let http: HTTPClient
    private let tls: TLSConfiguration?
    let logger: Logger
    /// Where API calls are counted (`MetricName.apiCalls`); nil for the bootstrapped factory. For tests.
    private let metrics: (any MetricsFactory)?
    /// The client-side rate (`vault.retry_mode: adaptive`): lowered by 429 answers.
    let limiter: RateLimiter
    /// `VAULT_RATE_LIMIT`: a fixed rate every request waits for (before the adaptive one).
    let fixedRate: FixedRate?

    init(options: VaultOptions, http: HTTPClient, logger: Logger, metrics: (any MetricsFactory)? = nil) throws(VaultError) {
        self.options = options
        self.metrics = metrics
        self.address = options.address
        self.namespace = options.namespace
        self.http = http
        self.logger = logger
        self.requestBase = options.serverNameOverride?.requestBase ?? options.address
        self.tls = try Self.tlsConfiguration(options)
        self.limiter = RateLimiter(mode: options.retryMode)
        self.fixedRate = options.fixedRate.map { FixedRate(rate: $0.rate, burst: $0.burst) }
    }

    /// A bounded name for metrics (never the path): login, renew, revoke, unwrap, lookup, read, write, list.
    static func operation(_ method: HTTPMethod, _ path: String) -> String {
        if path.hasPrefix("auth/") && path.hasSuffix("/login") || path.contains("/login/") { return "login" }
        for word in ["renew", "revoke", "unwrap", "lookup"] where path.contains(word) { return word }
        switch method {
        case .GET: return "read"
        case .RAW(value: "LIST"): return "list"
        default: return "write"
        }
    }

    /// Sends one request, retrying transient failures. `sensitive` lists the credentials in the
    /// request, removed from any server text that ends up in an error.
    func send(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: Value? = nil,
              token: String?, headers extra: [(String, String)] = [], sensitive: [String] = []) async throws(VaultError) -> VaultResponse {
        var request = HTTPClientRequest(url: requestBase + "/v1/" + Self.encodePath(path) + Self.encodeQuery(query))
        request.method = method
        request.tlsConfiguration = tls
        if let token { request.headers.add(name: "X-Vault-Token", value: token) }
        if let namespace { request.headers.add(name: "X-Vault-Namespace", value: namespace) }
        request.headers.add(name: "X-Vault-Request", value: "true")
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: JSON.serialize(body)))
        }
        let operation = Self.operation(method, path)
        var attempt = 0
        var followedRedirect = false
        while true {
            do {
                try await fixedRate?.acquire()
                try await limiter.acquire("vault")
            } catch {
                throw VaultError(.unavailable, "the request to Vault at \(address) (\(path)) was cancelled while it waited for the client-side rate (VAULT_RATE_LIMIT, or Vault answered 429 before)")
            }
            let started = ContinuousClock.now
            do {
                APICalls.count(backend: "vault", operation: operation, factory: metrics)  // each attempt and redirect is a request
                let response = try await http.execute(request, timeout: .nanoseconds(options.timeout.nanoseconds), logger: nil)
                if (300..<400).contains(Int(response.status.code)) {
                    let status = Int(response.status.code)
                    logger.trace("vault \(method.rawValue) \(path) → \(status) in \(ContinuousClock.now - started)")
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    request = try redirected(request, status: status, location: response.headers.first(name: "Location"),
                                             method: method, path: path, alreadyRedirected: followedRedirect)
                    followedRedirect = true
                    continue
                }
                let bytes = try await response.body.collect(upTo: 64 << 20)
                let text = String(buffer: bytes)
                let parsed = text.isEmpty ? nil : try? JSON.parse(text)
                let status = Int(response.status.code)
                limiter.record("vault", throttled: status == 429)
                if (200..<300).contains(status) && !text.isEmpty && parsed == nil {
                    // A proxy's error page or a cut-off answer: never read as "no data"; retried like a 5xx.
                    if attempt < options.maxRetries {
                        attempt += 1
                        logger.debug("vault \(method.rawValue) \(path) answered \(status) with a body that is not JSON; retry \(attempt) of \(options.maxRetries)")
                        await Self.pause(attempt: attempt)
                        continue
                    }
                    throw VaultError(.unavailable, "Vault at \(address) answered \(path) with a body that is not JSON (a proxy in the way, or a cut-off answer)")
                }
                let result = VaultResponse(status: status, body: parsed)
                logger.trace("vault \(method.rawValue) \(path) → \(result.status) in \(ContinuousClock.now - started)")
                if Self.isRetryable(result.status) && attempt < options.maxRetries {
                    attempt += 1
                    logger.debug("vault \(method.rawValue) \(path) answered \(result.status); retry \(attempt) of \(options.maxRetries)")
                    // Retry-After (429, 503) is a floor; after a 429 in adaptive mode the limiter spaces the retry.
                    let after = [429, 503].contains(status) ? Backoff.retryAfter(response.headers.first(name: "Retry-After"), cap: options.maxRetryAfter) : nil
                    await Self.pause(attempt: attempt, atLeast: after, jitter: !(status == 429 && limiter.mode == .adaptive))
                    continue
                }
                return result
            } catch let error as VaultError {
                throw error
            } catch {
                let reason = Redactor(secrets: sensitive + [token].compactMap { $0 }).clean("\(error)")
                if let failure = Self.tlsFailure(error, reason: reason, address: address, serverName: options.tlsServerName) {
                    throw failure
                }
                if attempt < options.maxRetries {
                    attempt += 1
                    logger.debug("vault \(method.rawValue) \(path) failed (\(reason)); retry \(attempt) of \(options.maxRetries)")
                    await Self.pause(attempt: attempt)
                    continue
                }
                throw VaultError(.unavailable, "cannot reach Vault at \(address) (\(path)): \(reason); check vault.address / VAULT_ADDR and that the server is up")
            }
        }
    }

    /// Waits before retry `attempt`: full jitter up to 100 ms, 200 ms, 400 ms … 2 s (none
    /// without `jitter`), and at least `atLeast` (a `Retry-After`).
    static func pause(attempt: Int, atLeast: Duration? = nil, jitter: Bool = true) async {
        let delay = max(jitter ? Backoff.delay(attempt: attempt, base: .milliseconds(100), cap: .seconds(2)) : .zero, atLeast ?? .zero)
        guard delay > .zero else { return }
        try? await Task.sleep(for: delay)
    }

    /// 5xx (but 501) and 429 (a rate limit quota).
    static func isRetryable(_ status: Int) -> Bool {
        (status >= 500 && status != 501) || status == 429
    }

    /// Percent-encodes each segment of a path, keeping the slashes.
    static func encodePath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).map { percentEncode(String($0)) }.joined(separator: "/")
    }

    static func encodeQuery(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        return "?" + query.map { percentEncode($0.0) + "=" + percentEncode($0.1) }.joined(separator: "&")
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if c.isASCII && (c.isLetter || c.isNumber || "-._~".contains(c)) {
                out.append(c)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }
}
