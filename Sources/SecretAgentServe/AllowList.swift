import SecretAgentAWS
import SecretAgentCore
import SecretTemplate

/// What the local API may serve, so that a leaked token cannot read the whole account.
///
/// By default only what the configuration's templates reference: their Secrets Manager ids,
/// SSM names (and everything under an `ssm-path:`), Vault paths. `serve.allow` replaces that
/// per backend with names and prefixes (`prod/*`; `*` alone is everything). `file:` and `env:`
/// references, and Vault references with write parameters (`pki/issue/web?common_name=…`), are
/// served only when a template uses exactly that reference.
public struct AllowList: Sendable {
    /// Exact names and prefixes of one backend.
    struct Names: Sendable {
        var exact: Set<String> = []
        var prefixes: [String] = []

        init(_ patterns: [String]) {
            for pattern in patterns {
                if pattern.hasSuffix("*") { prefixes.append(String(pattern.dropLast())) } else { exact.insert(pattern) }
            }
        }

        func allows(_ name: String) -> Bool {
            exact.contains(name) || prefixes.contains { name.hasPrefix($0) }
        }
    }

    var secretsManager: Names
    var ssm: Names
    var vault: Names
    /// The templates' locators: `file:`, `env:` and Vault writes are served only when listed here.
    var referenced: Set<Locator>

    /// - Parameters:
    ///   - settings: `serve.allow`; nil for the default (the templates' references).
    ///   - referenced: every locator the configuration's templates use.
    public init(settings: ServeAllowSettings?, referenced: Set<Locator>) {
        self.referenced = referenced
        if let settings {
            secretsManager = Names(settings.secretsManager)
            ssm = Names(settings.ssm)
            vault = Names(settings.vault)
            return
        }
        var sm: [String] = [], ssm: [String] = [], vault: [String] = []
        for locator in referenced {
            switch locator {
            case .secretsManager(let id, _, _): sm.append(id)
            case .ssm(let name, _): ssm.append(name)
            case .ssmPath(let path):
                ssm.append(path)
                ssm.append((path.hasSuffix("/") ? path : path + "/") + "*")
            case .vault(let path, _, let parameters) where parameters.isEmpty: vault.append(path)
            default: continue
            }
        }
        secretsManager = Names(sm)
        self.ssm = Names(ssm)
        self.vault = Names(vault)
    }

    /// Whether a Secrets Manager or SSM read may be served.
    public func allows(_ request: AWSRawRequest) -> Bool {
        allows(request.locator)
    }

    /// Whether a reference's locator may be served.
    public func allows(_ locator: Locator) -> Bool {
        switch locator {
        case .secretsManager(let id, _, _): return secretsManager.allows(id)
        case .ssm(let name, _): return ssm.allows(name)
        case .ssmPath(let path): return ssm.allows(path) || (!path.hasSuffix("/") && ssm.allows(path + "/"))
        case .vault(let path, _, let parameters): return parameters.isEmpty ? vault.allows(path) : referenced.contains(locator)
        case .file, .env: return referenced.contains(locator)
        }
    }

    /// True when the list can name a Secrets Manager or SSM name (the AWS backend is needed).
    public var needsAWS: Bool {
        !secretsManager.exact.isEmpty || !secretsManager.prefixes.isEmpty || !ssm.exact.isEmpty || !ssm.prefixes.isEmpty
    }

    /// True when the list can name a Vault path.
    public var needsVault: Bool { !vault.exact.isEmpty || !vault.prefixes.isEmpty }
}
