import AsyncHTTPClient
import NIOSSL
import SecretAgentCore

/// The HTTP clients of the AWS backend: one that connects directly and one per proxy in use
/// (`NO_PROXY` is per destination), and the CAs AWS endpoints are verified against.
///
/// Reads, as the AWS CLI does:
/// - `HTTPS_PROXY` / `https_proxy`, `HTTP_PROXY` / `http_proxy`, `NO_PROXY` / `no_proxy` (see
///   `ProxyRules`), with `aws.proxy` on top (`none`: no proxy). Instance metadata and container
///   credential endpoints are always reached directly.
/// - `aws.ca_bundle`, else `AWS_CA_BUNDLE`, else the profile's `ca_bundle`: a PEM file of CAs used
///   instead of the system's for AWS endpoints (botocore's precedence, with the agent's
///   configuration on top as a client parameter is in the SDKs).
///
/// AsyncHTTPClient reaches every target through a proxy with a CONNECT tunnel, http ones included
/// (not absolute-form requests); proxy credentials from the URL go in `Proxy-Authorization`.
public final class AWSNetwork: Sendable {
    let direct: HTTPClient
    let viaProxy: [ProxyURL: HTTPClient]
    /// Which proxy each request uses.
    public let rules: ProxyRules
    /// The trust for AWS endpoints (nil: the system's), applied to each request.
    let tls: TLSConfiguration?
    /// The CA bundle in use and where it was set, for the log.
    public let caBundle: (path: String, origin: String)?
    private let owned: [HTTPClient]

    /// One given client for everything, no proxy and the system's CAs; the caller shuts it down.
    init(client: HTTPClient) {
        direct = client
        viaProxy = [:]
        rules = .direct
        tls = nil
        caBundle = nil
        owned = []
    }

    private init(direct: HTTPClient, viaProxy: [ProxyURL: HTTPClient], rules: ProxyRules,
                 tls: TLSConfiguration?, caBundle: (String, String)?) {
        self.direct = direct
        self.viaProxy = viaProxy
        self.rules = rules
        self.tls = tls
        self.caBundle = caBundle
        owned = [direct] + Array(viaProxy.values)
    }

    /// Builds the clients from `configuration` (timeouts, redirects: kept for every client).
    ///
    /// - Throws: `AWSError` (exit 78) for a proxy URL that is not http://, or a CA bundle that
    ///   cannot be read or holds no PEM certificate.
    public static func make(settings: AWSSettings, environment: [String: String],
                            configuration: HTTPClient.Configuration) throws(AWSError) -> AWSNetwork {
        let config = AWSConfig(settings: settings, environment: environment)
        let rules: ProxyRules
        do {
            rules = try ProxyRules.resolve(environment: environment, configured: settings.proxy, configKey: "aws.proxy")
        } catch {
            throw AWSError.config(error.message)
        }
        var tls: TLSConfiguration?
        let bundle = config.caBundle
        if let (path, origin) = bundle {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(path)
            } catch {
                throw AWSError.config("the CA bundle \(path) (\(origin)) cannot be read as PEM certificates; point \(origin) at a readable PEM file")
            }
            guard !certificates.isEmpty else {
                throw AWSError.config("the CA bundle \(path) (\(origin)) holds no PEM certificate")
            }
            var t = TLSConfiguration.makeClientConfiguration()
            t.trustRoots = .certificates(certificates)
            tls = t
        }
        let direct = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var viaProxy: [ProxyURL: HTTPClient] = [:]
        for proxy in rules.proxies {
            var c = configuration
            c.useProxy(proxy)
            viaProxy[proxy] = HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
        }
        return AWSNetwork(direct: direct, viaProxy: viaProxy, rules: rules, tls: tls, caBundle: bundle)
    }

    /// The proxy a request to `url` goes through, nil for direct.
    func proxy(for url: String) -> ProxyURL? { rules.proxy(forURL: url) }

    /// The client for a request to `url`.
    func client(for url: String) -> HTTPClient {
        proxy(for: url).flatMap { viaProxy[$0] } ?? direct
    }

    /// For the start-up log (no credentials): the proxy rules and the CA bundle.
    public var summary: String {
        rules.summary + "; " + (caBundle.map { "CA bundle \($0.path) (\($0.origin))" } ?? "system CAs")
    }

    /// Closes the clients this network made (not a client it was given).
    public func shutdown() async {
        for client in owned { try? await client.shutdown() }
    }
}

extension HTTPClient.Configuration {
    /// Sends every request through `proxy` (a CONNECT tunnel, with `Proxy-Authorization: Basic`
    /// when the URL has credentials); nil leaves the configuration without a proxy.
    public mutating func useProxy(_ proxy: ProxyURL?) {
        guard let proxy else {
            self.proxy = nil
            return
        }
        if let user = proxy.username {
            self.proxy = .server(host: proxy.host, port: proxy.port,
                                 authorization: .basic(username: user, password: proxy.password ?? ""))
        } else {
            self.proxy = .server(host: proxy.host, port: proxy.port)
        }
    }
}

extension AWSConfig {
    /// The CA bundle and where it is set: `aws.ca_bundle`, `AWS_CA_BUNDLE`, then the profile's
    /// `ca_bundle` (`~/` expanded).
    var caBundle: (path: String, origin: String)? {
        if let path = settings.caBundle, !path.isEmpty { return (path, "aws.ca_bundle") }
        if let path = env("AWS_CA_BUNDLE") { return (path, "AWS_CA_BUNDLE") }
        if let path = profile?["ca_bundle"], !path.isEmpty {
            let home = env("HOME")
            let expanded = path.hasPrefix("~/") && home != nil ? home! + path.dropFirst(1) : path
            return (expanded, "ca_bundle of AWS profile '\(profileName)'")
        }
        return nil
    }
}
