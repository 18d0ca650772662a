import SecretAgentCore
import SecretTemplate

/// Signs the STS request that Vault's aws auth method verifies. The AWS module provides one
/// (SigV4 with the AWS credential chain); tests pass a fake.
public protocol VaultAWSLoginSigner: Sendable {
    /// A SigV4-signed `GetCallerIdentity` request; when `serverID` is set, the
    /// `X-Vault-AWS-IAM-Server-ID` header must be among the signed headers.
    func signedGetCallerIdentity(serverID: String?) async throws -> SignedRequest
}

/// The secret_id unwrapped from a response-wrapping token, kept in memory: a wrapping token can be
/// unwrapped once, and later logins (after the token's max TTL) need the secret_id again.
actor UnwrapCache {
    private var wrappingToken: String?
    private var secretID: String?

    func lookup(_ token: String) -> String? { token == wrappingToken ? secretID : nil }

    func store(_ token: String, _ secretID: String) {
        self.wrappingToken = token
        self.secretID = secretID
    }
}

extension Authenticator {
    /// `sys/wrapping/lookup`, then `sys/wrapping/unwrap`, with the wrapping token as the request's
    /// token. The token is unwrapped only when its `creation_path` is where a secret_id is made (as
    /// Vault Agent's `secret_id_response_wrapping_path` checks): anyone can wrap any data with
    /// `sys/wrapping/wrap`, so a token from elsewhere may carry a secret_id of the wrong role, or
    /// one an attacker knows.
    func unwrapSecretID(_ wrappingToken: String, file: String) async throws(VaultError) -> String {
        if let cached = await unwrapped.lookup(wrappingToken) { return cached }
        let lookup = try await client.send(.GET, "sys/wrapping/lookup", token: wrappingToken, sensitive: [wrappingToken])
        guard lookup.isSuccess, let data = lookup.data else {
            if let failure = VaultErrors.common(lookup, client: client) { throw failure }
            throw VaultError(.authentication, "cannot look up the wrapped AppRole secret_id in \(file) (HTTP \(lookup.status)): the wrapping token has expired, was already unwrapped or is not a wrapping token — if this agent did not unwrap it, someone else may have; put a fresh wrapped secret_id there")
        }
        let creationPath = data["creation_path"]?.stringValue ?? ""
        guard secretIDWrapping.accepts(creationPath) else {
            let found = creationPath.isEmpty ? "none" : Redactor(secrets: [wrappingToken]).clean(creationPath)
            throw VaultError(.authentication, "SECURITY: the wrapped AppRole secret_id in \(file) was not created by \(secretIDWrapping.expected) (its creation_path is \(found)) and may have been tampered with; it was not unwrapped. Put a secret_id wrapped by the role's secret-id endpoint there, and find out who wrote this one\(secretIDWrapping.hint)")
        }
        let response = try await client.send(.POST, "sys/wrapping/unwrap", token: wrappingToken, sensitive: [wrappingToken])
        guard response.isSuccess, let secretID = response.data?["secret_id"]?.stringValue else {
            if let failure = VaultErrors.common(response, client: client) { throw failure }
            throw VaultError(.authentication, "cannot unwrap the wrapped AppRole secret_id in \(file) (HTTP \(response.status)): the wrapping token has expired or was already unwrapped — if this agent did not unwrap it, someone else may have; put a fresh wrapped secret_id there")
        }
        await unwrapped.store(wrappingToken, secretID)
        return secretID
    }

    /// Which `creation_path` a wrapped secret_id may have.
    var secretIDWrapping: WrappingPathRule {
        let configured = settings.secretIDWrappingPath.map { String($0.drop { $0 == "/" }.reversed().drop { $0 == "/" }.reversed()) }
        return WrappingPathRule(mount: mount, role: settings.role, configured: configured, namespace: client.namespace)
    }

    /// `auth/<mount>/login` of the cert method: the server reads the TLS client certificate of
    /// the connection (`vault.client_cert` / `VAULT_CLIENT_CERT`); the body names the cert role
    /// (`vault.auth.name`) when one is configured, else the server tries every role.
    func certLogin() async throws(VaultError) -> AuthToken {
        guard client.options.clientCert != nil, client.address.hasPrefix("https://") else {
            throw VaultError(.config, "vault.auth.method cert logs in with a TLS client certificate: use an https:// address and set vault.client_cert and vault.client_key (or VAULT_CLIENT_CERT and VAULT_CLIENT_KEY)")
        }
        var body: [String: Value] = [:]
        if let name = settings.name { body["name"] = .string(name) }
        return try await exchange(body, sensitive: [], headers: [])
    }

    /// The IAM flavour of `auth/aws/login`: a signed GetCallerIdentity, base64-encoded.
    func awsLogin() async throws(VaultError) -> AuthToken {
        guard let signer = awsSigner else {
            throw VaultError(.config, "vault.auth.method aws needs AWS credentials, but no AWS signer is available")
        }
        let signed: SignedRequest
        do {
            signed = try await signer.signedGetCallerIdentity(serverID: settings.awsServerID)
        } catch let failure as any AgentFailure {
            throw VaultError(failure.isTransient ? .unavailable : .authentication, "cannot sign the AWS login request for Vault: \(failure.description)")
        } catch {
            throw VaultError(.authentication, "cannot sign the AWS login request for Vault: \(type(of: error))")
        }
        var grouped: [String: [Value]] = [:]
        for (name, value) in signed.headers {
            grouped[name, default: []].append(.string(value))
        }
        let headersJSON = JSON.serialize(.map(grouped.mapValues { .list($0) }))
        var body: [String: Value] = [
            "iam_http_request_method": .string(signed.method),
            "iam_request_url": .string(Base64.encode(Array(signed.url.utf8))),
            "iam_request_body": .string(Base64.encode(signed.body)),
            "iam_request_headers": .string(Base64.encode(Array(headersJSON.utf8))),
        ]
        if let role = settings.role { body["role"] = .string(role) }
        let authorization = signed.headers.filter { $0.0.lowercased() == "authorization" || $0.0.lowercased() == "x-amz-security-token" }.map(\.1)
        return try await exchange(body, sensitive: authorization, headers: [])
    }
}

/// The rule for a wrapped secret_id's `creation_path`: the configured
/// `secret_id_wrapping_path`, else `auth/<mount>/role/<role>/secret-id` with `vault.auth.role`, else
/// any `auth/<mount>/role/<name>/secret-id`. Inside a namespace the path may also carry the
/// namespace in front.
struct WrappingPathRule: Sendable {
    let mount: String
    let role: String?
    let configured: String?
    let namespace: String?

    /// For messages: the path, or the pattern, that is accepted.
    var expected: String {
        configured ?? "auth/\(mount)/role/\(role ?? "*")/secret-id"
    }

    /// How to narrow the rule, for the refusal message.
    var hint: String {
        configured == nil && role == nil ? " (vault.auth.role or vault.auth.secret_id_wrapping_path names the one role to accept)" : ""
    }

    func accepts(_ creationPath: String) -> Bool {
        var path = Substring(creationPath)
        while path.first == "/" { path = path.dropFirst() }
        if let namespace, path.hasPrefix(namespace + "/") { path = path.dropFirst(namespace.count + 1) }
        if let configured { return path == configured || creationPath == configured }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let mountParts = mount.split(separator: "/", omittingEmptySubsequences: false)
        let n = mountParts.count
        guard !mount.isEmpty, parts.count == n + 4, parts[0] == "auth", Array(parts[1...n]) == mountParts,
              parts[n + 1] == "role", !parts[n + 2].isEmpty, parts[n + 3] == "secret-id" else { return false }
        return role.map { parts[n + 2] == $0 } ?? true
    }
}
