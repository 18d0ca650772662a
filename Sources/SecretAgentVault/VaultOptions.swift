import SecretAgentCore
import SecretTemplate

/// The `vault:` settings with the environment applied (SPEC §5: the environment wins over the
/// file): `VAULT_ADDR`, then `BAO_ADDR`, over `address`; `VAULT_NAMESPACE` (or `BAO_NAMESPACE`) over
/// `namespace`; `VAULT_CACERT` (or `BAO_CACERT`) over `ca_cert`; `VAULT_SKIP_VERIFY` or
/// `tls_skip_verify` turn verification off; `VAULT_CLIENT_TIMEOUT` over `timeout`;
/// `VAULT_MAX_RETRIES` (default 2).
struct VaultOptions: Sendable {
    var address: String
    var namespace: String?
    var caCert: String?
    var skipVerify: Bool
    var timeout: Duration
    var maxRetries: Int

    init(settings: VaultSettings, environment env: [String: String]) throws(VaultError) {
        func pick(_ names: String...) -> String? {
            for name in names { if let v = env[name], !v.isEmpty { return v } }
            return nil
        }
        guard var address = pick("VAULT_ADDR", "BAO_ADDR") ?? settings.address, !address.isEmpty else {
            throw VaultError(.config, "no Vault address: set vault.address in the configuration, or VAULT_ADDR / BAO_ADDR")
        }
        while address.hasSuffix("/") { address.removeLast() }
        guard address.hasPrefix("http://") || address.hasPrefix("https://") else {
            throw VaultError(.config, "Vault address '\(address)' must start with http:// or https://")
        }
        self.address = address
        let namespace = pick("VAULT_NAMESPACE", "BAO_NAMESPACE") ?? settings.namespace
        self.namespace = namespace.map { ns in String(ns.drop(while: { $0 == "/" }).reversed().drop(while: { $0 == "/" }).reversed()) }
            .flatMap { $0.isEmpty ? nil : $0 }
        self.caCert = pick("VAULT_CACERT", "BAO_CACERT") ?? settings.caCert
        let skipEnv = pick("VAULT_SKIP_VERIFY", "BAO_SKIP_VERIFY").map { ["1", "true", "yes", "on"].contains($0.lowercased()) }
        self.skipVerify = skipEnv ?? settings.tlsSkipVerify
        if let text = pick("VAULT_CLIENT_TIMEOUT") {
            guard let d = DurationParser.parse(text) ?? Int(text).map({ Duration.seconds($0) }), d > .zero else {
                throw VaultError(.config, "VAULT_CLIENT_TIMEOUT '\(text)' is not a duration such as 30s")
            }
            self.timeout = d
        } else {
            self.timeout = settings.timeout
        }
        if let text = pick("VAULT_MAX_RETRIES") {
            guard let n = Int(text), n >= 0 else { throw VaultError(.config, "VAULT_MAX_RETRIES '\(text)' is not a number") }
            self.maxRetries = n
        } else {
            self.maxRetries = 2
        }
    }
}

extension Value {
    subscript(key: String) -> Value? {
        guard case .map(let map) = self else { return nil }
        return map[key]
    }

    var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    var intValue: Int? {
        switch self {
        case .number(let n): return Int(n) ?? Double(n).map { Int($0) }
        case .string(let s): return Int(s)
        default: return nil
        }
    }

    var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
