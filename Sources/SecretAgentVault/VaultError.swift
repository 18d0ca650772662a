import SecretAgentCore

/// The one error type of the Vault module.
///
/// Messages name the path, the server and the auth method or role, and say what to do. They never
/// contain a token, a secret_id, a JWT or a secret value: text that comes from the server passes
/// through `Redactor` first.
public struct VaultError: AgentFailure, Equatable {
    /// What went wrong, for callers that branch on it.
    public enum Kind: String, Sendable {
        /// 403: the token's policies do not allow the request, or login was refused.
        case permissionDenied
        /// Login failed for another reason (bad credentials file, wrong role).
        case authentication
        /// The server is sealed (503).
        case sealed
        /// Connection refused, timeout, 5xx, 429.
        case unavailable
        /// The server's certificate was not accepted (wrong or missing CA): not retried.
        case tls
        /// `X-Vault-Namespace` names a namespace the server does not have.
        case unknownNamespace
        /// A bad reference for the path it names (a version pin on KV v1, parameters on a KV path).
        case data
        /// The configuration cannot work (no address, no credentials).
        case config
        /// Any other refusal by the server (400).
        case request
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    public var exitCode: ExitCode {
        switch kind {
        case .permissionDenied, .authentication: return .noPermission
        case .sealed, .unavailable, .tls: return .unavailable
        case .unknownNamespace, .config: return .config
        case .data, .request: return .dataError
        }
    }

    public var isTransient: Bool {
        kind == .sealed || kind == .unavailable
    }
}

/// Removes known credentials from text that came from elsewhere (a server's error message),
/// and keeps server messages short.
struct Redactor: Sendable {
    var secrets: [String] = []

    func clean(_ text: String) -> String {
        var out = text
        for secret in secrets where secret.count >= 4 {
            out = out.replacing(secret, with: "<redacted>")
        }
        if out.count > 300 { out = String(out.prefix(300)) + "…" }
        return out
    }
}

/// Turns server answers into errors that say what to do.
enum VaultErrors {
    /// The failures any request can meet: sealed, unknown namespace, 5xx and rate limits.
    /// Nil for the rest, which the caller interprets (403, 404, 400).
    ///
    /// The server's text never goes into these errors: a failing server or proxy (5xx, 429) may
    /// echo the request, with its secret_id, JWT or signed login in it.
    static func common(_ response: VaultResponse, client: VaultClient, path: String? = nil) -> VaultError? {
        let errors = response.errors.lowercased()
        let at = path.map { " for \($0)" } ?? ""
        switch response.status {
        case 503 where errors.contains("sealed"):
            return VaultError(.sealed, "Vault at \(client.address) is sealed; unseal it (vault/bao operator unseal) and the agent carries on")
        case 404 where errors.contains("namespace not found"):
            return VaultError(.unknownNamespace, "Vault namespace '\(client.namespace ?? "")' (vault.namespace or VAULT_NAMESPACE) does not exist at \(client.address); create it or fix the name")
        case 429, 412, 500..<600:
            return VaultError(.unavailable, "Vault at \(client.address) answered HTTP \(response.status)\(at) (the server's message is not shown: it may repeat the request's credentials); retrying may help, else see the server's log")
        default:
            return nil
        }
    }
}
