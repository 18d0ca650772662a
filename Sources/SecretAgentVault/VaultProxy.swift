import SecretAgentCore

extension VaultBackend {
    /// The proxy for requests to the Vault address (every request of the backend goes to that one
    /// origin), read as the Vault CLI reads it, with the configuration on top:
    /// `vault.proxy` (`none`: no proxy; `NO_PROXY` applies to a URL), else `VAULT_PROXY_ADDR`
    /// (or the older `VAULT_HTTP_PROXY`) for every request whatever `NO_PROXY` says, else
    /// `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` and their lower-case spellings (`ProxyRules`).
    ///
    /// - Returns: the proxy (nil: direct) and a line for the start-up log, without credentials.
    /// - Throws: `VaultError` (exit 78) for no address or a proxy URL that is not http://.
    public static func proxy(settings: VaultSettings, environment env: [String: String]) throws -> (proxy: ProxyURL?, summary: String) {
        let options = try VaultOptions(settings: settings, environment: env)
        do {
            if settings.proxy == nil {
                for name in ["VAULT_PROXY_ADDR", "VAULT_HTTP_PROXY"] {
                    guard let text = env[name], !text.trimmingWhitespace.isEmpty else { continue }
                    let proxy = try ProxyURL.parse(text, origin: name)
                    return (proxy, "Vault at \(options.address) via \(ProxyURL(host: proxy.host, port: proxy.port)) (\(name))")
                }
            }
            let rules = try ProxyRules.resolve(environment: env, configured: settings.proxy, configKey: "vault.proxy")
            guard let proxy = rules.proxy(forURL: options.address) else {
                let why = rules.https == nil && rules.http == nil ? "no proxy" : "NO_PROXY"
                return (nil, "Vault at \(options.address) direct (\(why))")
            }
            let origin = (options.address.hasPrefix("https://") ? rules.https : rules.http)?.1 ?? "proxy"
            return (proxy, "Vault at \(options.address) via \(ProxyURL(host: proxy.host, port: proxy.port)) (\(origin))")
        } catch {
            throw VaultError(.config, error.message)
        }
    }
}
