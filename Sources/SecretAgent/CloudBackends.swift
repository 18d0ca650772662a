import AsyncHTTPClient
import Logging
import SecretAgentAWS
import SecretAgentCore
import SecretAgentOps
import SecretAgentVault
import SecretTemplate

/// The production backends: `file:` and `env:` always, AWS (SSM, Secrets Manager) and Vault
/// only when a reference names them — no AWS credential lookup and no Vault login otherwise.
final class CloudBackends: Backends {
    public let providers: ProviderSet
    private let vault: VaultBackend?
    /// The AWS backend (the local API reads through it); nil when nothing needs AWS.
    let aws: AWSBackend?
    /// The AWS clients (direct and per proxy) and the Vault client: each backend reads its own
    /// proxy (`aws.proxy`, `vault.proxy`, `HTTPS_PROXY`, `NO_PROXY` …) and trust.
    private let awsNetwork: AWSNetwork?
    private let vaultHTTP: HTTPClient?

    private init(providers: ProviderSet, aws: AWSBackend? = nil, vault: VaultBackend?, awsNetwork: AWSNetwork?, vaultHTTP: HTTPClient?) {
        self.providers = providers
        self.aws = aws
        self.vault = vault
        self.awsNetwork = awsNetwork
        self.vaultHTTP = vaultHTTP
    }

    static func make(for locators: Set<Locator>, config: AgentConfig, environment: [String: String],
                     logger: Logger) async throws -> CloudBackends {
        var set = ProviderSet([FileProvider(), EnvProvider(environment: environment)])
        let schemes = Set(locators.map(\.scheme))
        // The local API's allow-list can name what no template does.
        let serveAllow = config.serve?.allow
        let needsAWS = !schemes.isDisjoint(with: [.ssm, .ssmPath, .sm])
            || !(serveAllow?.secretsManager.isEmpty ?? true) || !(serveAllow?.ssm.isEmpty ?? true)
        let needsVault = schemes.contains(.vault) || !(serveAllow?.vault.isEmpty ?? true)
        guard needsAWS || needsVault else { return CloudBackends(providers: set, vault: nil, awsNetwork: nil, vaultHTTP: nil) }

        // Fail a refused connection at once (the agent's own retries and start deadline apply),
        // and bound the connect time; AsyncHTTPClient's default retries until the request deadline.
        var httpConfig = HTTPClient.Configuration()
        httpConfig.connectionPool.retryConnectionEstablishment = false
        httpConfig.timeout.connect = .seconds(10)
        // SPEC §6: the AWS client follows no redirects (a signed request, its session token and
        // body would go wherever `Location` points); the Vault client follows one hop itself.
        httpConfig.redirectConfiguration = .disallow
        var aws: AWSBackend?
        var awsNetwork: AWSNetwork?
        if needsAWS || config.vault?.auth.method == .aws {
            let network = try AWSNetwork.make(settings: config.aws, environment: environment, configuration: httpConfig)
            awsNetwork = network
            logger.info("AWS network: \(network.summary)")
            let backend = AWSBackend(settings: config.aws, environment: environment, network: network, logger: logger)
            if needsAWS { for p in backend.providers { set.add(p) } }
            aws = backend
        }
        var vault: VaultBackend?
        var vaultHTTP: HTTPClient?
        if needsVault {
            let signer = aws.map { AWSVaultSigner(aws: $0) }
            let settings = config.vault ?? VaultSettings()
            do {
                let (proxy, summary) = try VaultBackend.proxy(settings: settings, environment: environment)
                logger.info("Vault network: \(summary)")
                var vaultConfig = httpConfig
                vaultConfig.useProxy(proxy)
                // vault.tls_server_name / VAULT_TLS_SERVER_NAME: requests name that host, connected to the address's.
                vaultConfig.dnsOverride = VaultBackend.dnsOverride(settings: settings, environment: environment)
                let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: vaultConfig)
                vaultHTTP = http
                let backend = try VaultBackend(settings: settings, environment: environment,
                                               httpClient: http, logger: logger, awsSigner: signer)
                set.add(backend.provider)
                vault = backend
            } catch {
                try? await vaultHTTP?.shutdown()
                await awsNetwork?.shutdown()
                throw error
            }
        }
        // Vault logs in on the first fetch, inside the start-up retries (a server still starting
        // is retried until --start-timeout like any other backend).
        return CloudBackends(providers: set, aws: needsAWS ? aws : nil, vault: vault, awsNetwork: awsNetwork, vaultHTTP: vaultHTTP)
    }

    /// Sets the token and lease gauges (called on each /metrics scrape); gauges of leases no
    /// longer held are removed.
    public func recordTimeLeft() async {
        guard let vault else { return }
        let (token, leases) = await vault.timeLeft()
        if let token { AgentMetrics.tokenSecondsLeft(Double(token.components.seconds), backend: "vault") }
        AgentMetrics.leaseSecondsLeft(leases.map { ($0.reference, Double($0.left.components.seconds)) })
    }

    /// Vault dynamic secrets replaced before their lease ran out (each is a rotation).
    public var leaseReplacements: AsyncStream<Locator>? { vault?.replacements }

    /// Stops background work and closes connections.
    public func shutdown() async {
        for p in providers.providers { await p.shutdown() }
        await vault?.shutdown()
        try? await vaultHTTP?.shutdown()
        await awsNetwork?.shutdown()
    }
}

/// Hands the AWS module's signed sts:GetCallerIdentity request to Vault's aws auth method.
struct AWSVaultSigner: VaultAWSLoginSigner {
    let aws: AWSBackend

    func signedGetCallerIdentity(serverID: String?) async throws -> SignedRequest {
        try await aws.vaultLoginRequest(serverID: serverID)
    }
}
