import SecretAgentCore

/// The one error type of the Vault module.
///
/// Messages name the path, the server and the auth method or role, and say what to do. They never
/// contain a token, a secret_id, a JWT or a secret value: text that comes from the server passes
/// through `Redactor` first.
public struct VaultError: AgentFailure, Equatable {
    /// What went wrong, for callers that branch on it: compare with `==`. A struct, so that new
    /// kinds break no caller.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: String, Hashable, Sendable {
            case permissionDenied, authentication, sealed, unavailable, tls, unknownNamespace, data, config, request
        }

        private let code: Code

        private init(_ code: Code) {
            self.code = code
        }

        /// 403: the token's policies do not allow the request, or login was refused. Exit 77.
        public static let permissionDenied = Kind(.permissionDenied)
        /// Login failed for another reason (bad credentials file, wrong role). Exit 77.
        public static let authentication = Kind(.authentication)
        /// The server is sealed (503). Exit 69, transient.
        public static let sealed = Kind(.sealed)
        /// Connection refused, timeout, 5xx, 429. Exit 69, transient.
        public static let unavailable = Kind(.unavailable)
        /// The server's certificate was not accepted (wrong or missing CA): exit 69, not retried.
        public static let tls = Kind(.tls)
        /// `X-Vault-Namespace` names a namespace the server does not have. Exit 78.
        public static let unknownNamespace = Kind(.unknownNamespace)
        /// A bad reference for the path it names (a version pin on KV v1, parameters on a KV path). Exit 65.
        public static let data = Kind(.data)
        /// The configuration cannot work (no address, no credentials). Exit 78.
        public static let config = Kind(.config)
        /// Any other refusal by the server (400). Exit 65.
        public static let request = Kind(.request)

        /// The exit status this kind maps to.
        public var exitCode: ExitCode {
            switch code {
            case .permissionDenied, .authentication: .noPermission
            case .sealed, .unavailable, .tls: .unavailable
            case .unknownNamespace, .config: .config
            case .data, .request: .dataError
            }
        }

        /// True for the kinds worth retrying: sealed, unavailable.
        public var isTransient: Bool { code == .sealed || code == .unavailable }

        public var description: String { code.rawValue }
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
    public var exitCode: ExitCode { kind.exitCode }
    public var isTransient: Bool { kind.isTransient }
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
