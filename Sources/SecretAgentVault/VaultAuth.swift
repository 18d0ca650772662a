import NIOHTTP1
import SecretAgentCore
import SecretTemplate

/// A Vault token the agent holds, with what it knows of its lifetime. Never printed.
struct AuthToken: Sendable {
    let token: String
    let accessor: String?
    /// The TTL when obtained or last renewed; zero means the token does not expire.
    var ttl: Duration
    /// The TTL asked for on renewal (the token's creation TTL).
    let increment: Duration
    var renewable: Bool
    var obtained: ContinuousClock.Instant
    let policies: [String]
    /// The role the server reported (`auth.metadata.role_name`, or the configured role).
    let role: String?

    var expiry: ContinuousClock.Instant? { ttl > .zero ? obtained + ttl : nil }
}

/// Logs in with the configured method. `token` "logs in" by reading its sources again and
/// looking the token up; every other method exchanges a credential for a new token.
struct Authenticator: Sendable {
    let settings: VaultAuthSettings
    let environment: [String: String]
    let client: VaultClient
    let awsSigner: (any VaultAWSLoginSigner)?
    let unwrapped = UnwrapCache()

    var method: VaultAuthSettings.Method { settings.method }
    var mount: String {
        var parts = (settings.mount ?? settings.method.rawValue).split(separator: "/")
        if parts.count > 1 && parts.first == "auth" { parts.removeFirst() }
        return parts.joined(separator: "/")
    }

    /// For messages: "approle login (auth/approle/, role 'web')", "token auth (VAULT_TOKEN)".
    func describe(role: String?) -> String {
        if method == .token { return "token auth (\(tokenSourceName ?? "no token found"))" }
        var who = (role ?? settings.role ?? (method == .cert ? settings.name : nil)).map { "role '\($0)'" }
        if who == nil && method == .approle {
            who = settings.roleIDFile.map { "role_id from \($0)" } ?? "role_id from vault.auth.role_id"
        }
        return "\(method.rawValue) login (auth/\(mount)/\(who.map { ", \($0)" } ?? ""))"
    }

    func login() async throws(VaultError) -> AuthToken {
        switch method {
        case .token:
            guard let (token, _) = try tokenFromSources() else {
                throw VaultError(.config, "no Vault token: set VAULT_TOKEN or BAO_TOKEN, vault.auth.token_file, or write ~/.vault-token; or choose another vault.auth.method (approle, jwt, kubernetes, aws, cert)")
            }
            return try await lookupSelf(token)
        case .approle:
            var body: [String: Value] = [:]
            var sensitive: [String] = []
            if let roleID = settings.roleID {
                body["role_id"] = .string(roleID)
                sensitive.append(roleID)
            } else if let file = settings.roleIDFile {
                let roleID = try Self.credential(file, what: "AppRole role_id")
                body["role_id"] = .string(roleID)
                sensitive.append(roleID)
            } else {
                throw VaultError(.config, "vault.auth.method approle needs role_id or role_id_file")
            }
            if let file = settings.secretIDFile {
                let text = try Self.credential(file, what: "AppRole secret_id")
                let secretID = settings.secretIDWrapped ? try await unwrapSecretID(text, file: file) : text
                body["secret_id"] = .string(secretID)
                sensitive += [text, secretID]
            }
            return try await exchange(body, sensitive: sensitive, headers: [])
        case .jwt, .kubernetes:
            guard let role = settings.role else {
                throw VaultError(.config, "vault.auth.method \(method.rawValue) needs vault.auth.role")
            }
            let file = settings.jwtFile ?? (method == .kubernetes ? "/var/run/secrets/kubernetes.io/serviceaccount/token" : nil)
            guard let file else { throw VaultError(.config, "vault.auth.method jwt needs vault.auth.jwt_file (a file holding the JWT)") }
            let jwt = try Self.credential(file, what: method == .jwt ? "JWT" : "Kubernetes service-account token")
            return try await exchange(["role": .string(role), "jwt": .string(jwt)], sensitive: [jwt], headers: [])
        case .aws:
            return try await awsLogin()
        case .cert:
            return try await certLogin()
        }
    }

    /// Sends a login request to `auth/<mount>/login` and reads the token from `auth`.
    func exchange(_ body: [String: Value], sensitive: [String], headers: [(String, String)]) async throws(VaultError) -> AuthToken {
        let path = "auth/\(mount)/login"
        let response = try await client.send(.POST, path, body: .map(body), token: nil, headers: headers, sensitive: sensitive)
        let redactor = Redactor(secrets: sensitive)
        guard response.isSuccess, let auth = response.body?["auth"], let token = auth["client_token"]?.stringValue else {
            if let failure = VaultErrors.common(response, client: client) { throw failure }
            let reason = response.status == 404 ? "no auth method is enabled at auth/\(mount)/ (set vault.auth.mount)" : redactor.clean(response.errors)
            throw VaultError(.authentication, "Vault \(describe(role: nil)) failed (HTTP \(response.status)): \(reason); check the role and the credentials")
        }
        let ttl = Duration.seconds(auth["lease_duration"]?.intValue ?? 0)
        var policies: [String] = []
        if case .list(let items)? = auth["policies"] { policies = items.compactMap(\.stringValue) }
        return AuthToken(token: token, accessor: auth["accessor"]?.stringValue, ttl: ttl, increment: ttl,
                         renewable: auth["renewable"]?.boolValue ?? false, obtained: .now, policies: policies,
                         role: auth["metadata"]?["role_name"]?.stringValue ?? auth["metadata"]?["role"]?.stringValue
                            ?? auth["metadata"]?["cert_name"]?.stringValue ?? settings.role ?? settings.name)
    }

    /// `auth/token/lookup-self`: validates a token and learns its TTL.
    func lookupSelf(_ token: String) async throws(VaultError) -> AuthToken {
        let response = try await client.send(.GET, "auth/token/lookup-self", token: token)
        guard response.isSuccess, let data = response.data else {
            if let failure = VaultErrors.common(response, client: client) { throw failure }
            throw VaultError(.authentication, "the Vault token from \(tokenSourceName ?? "the environment") is not valid at \(client.address) (HTTP \(response.status): expired, revoked, for another server, or without the default policy's auth/token/lookup-self); supply a fresh token")
        }
        var policies: [String] = []
        if case .list(let items)? = data["policies"] { policies = items.compactMap(\.stringValue) }
        let ttl = Duration.seconds(data["ttl"]?.intValue ?? 0)
        let creation = data["creation_ttl"]?.intValue ?? 0
        return AuthToken(token: token, accessor: data["accessor"]?.stringValue, ttl: ttl,
                         increment: creation > 0 ? .seconds(creation) : ttl,
                         renewable: data["renewable"]?.boolValue ?? false, obtained: .now, policies: policies,
                         role: data["role"]?.stringValue ?? data["meta"]?["role_name"]?.stringValue)
    }

    /// Where a token comes from, in precedence order: VAULT_TOKEN, BAO_TOKEN, token_file, ~/.vault-token.
    func tokenFromSources() throws(VaultError) -> (String, String)? {
        for name in ["VAULT_TOKEN", "BAO_TOKEN"] {
            if let v = environment[name]?.trimmingWhitespace, !v.isEmpty { return (String(v), name) }
        }
        if let file = settings.tokenFile { return (try Self.credential(file, what: "Vault token"), file) }
        if let home = environment["HOME"], !home.isEmpty {
            let file = (home.hasSuffix("/") ? String(home.dropLast()) : home) + "/.vault-token"
            if FileBytes.isReadable(file) { return (try Self.credential(file, what: "Vault token"), "~/.vault-token") }
        }
        return nil
    }

    var tokenSourceName: String? {
        (try? tokenFromSources())?.1
    }

    /// A credential file's content, trimmed of surrounding whitespace (SPEC §2); an error naming
    /// the file (never its content) when it cannot be read or is empty.
    static func credential(_ path: String, what: String) throws(VaultError) -> String {
        guard let text = FileBytes.readCredential(path) else {
            throw VaultError(.config, "cannot read the \(what) file \(path): \(FileBytes.lastErrorDescription())")
        }
        guard !text.isEmpty else { throw VaultError(.config, "the \(what) file \(path) is empty") }
        return text
    }
}
