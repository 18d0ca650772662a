import AsyncHTTPClient
import FoundationEssentials
import Logging
import SecretAgentCore

/// The AWS side of the agent: one credential chain, one region, one HTTP client, and a
/// provider each for SSM Parameter Store and Secrets Manager.
public final class AWSBackend: Sendable {
    let context: AWSContext
    let stats: CallStats
    let ssm: SSMProvider
    let secretsManager: SecretsManagerProvider

    /// - Parameters:
    ///   - settings: the `aws:` block of the configuration.
    ///   - environment: the agent's environment (`AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL…`,
    ///     credentials); it wins over `settings`. Nothing is read from the process environment.
    ///   - httpClient: the shared client (keep-alive); owned and shut down by the caller. It must
    ///     not follow redirects (`redirectConfiguration = .disallow`): a signed request, its
    ///     session token and body go nowhere but the endpoint. A 3xx answer is an error.
    ///   - logger: one debug line per API call (operation and how many names, never values).
    public convenience init(settings: AWSSettings, environment: [String: String], httpClient: HTTPClient, logger: Logger) {
        self.init(settings: settings, environment: environment, network: AWSNetwork(client: httpClient), logger: logger, retry: nil)
    }

    convenience init(settings: AWSSettings, environment: [String: String], httpClient: HTTPClient, logger: Logger, retry: RetryPolicy) {
        self.init(settings: settings, environment: environment, network: AWSNetwork(client: httpClient), logger: logger, retry: retry)
    }

    /// The same over `network`'s clients (proxies, CA bundle: see `AWSNetwork`), which the
    /// caller shuts down.
    public convenience init(settings: AWSSettings, environment: [String: String], network: AWSNetwork, logger: Logger) {
        self.init(settings: settings, environment: environment, network: network, logger: logger, retry: nil)
    }

    /// - Parameter retry: nil for the configuration's (`aws.*`, `AWS_RETRY_MODE`, `AWS_MAX_ATTEMPTS`, the profile).
    init(settings: AWSSettings, environment: [String: String], network: AWSNetwork, logger: Logger, retry: RetryPolicy?) {
        let config = AWSConfig(settings: settings, environment: environment)
        let stats = CallStats()
        var problem: AWSError?
        let policy: RetryPolicy
        if let retry {
            policy = retry
        } else {
            do throws(AWSError) { policy = try RetryPolicy(config: config) } catch {
                problem = error
                policy = RetryPolicy()
            }
        }
        let transport = AWSTransport(network: network, logger: logger, stats: stats, retry: policy, settingsProblem: problem)
        // Instance metadata and container credentials: link-local or loopback, never proxied.
        let metadata = MetadataClient(http: network.direct)
        let sources = CredentialSources(config: config, sts: STSClient(config: config, transport: transport), metadata: metadata, logger: logger)
        let chain = CredentialChain(sources: sources, logger: logger)
        let context = AWSContext(config: config, transport: transport, chain: chain,
                                 regions: RegionResolver(config: config, metadata: metadata))
        self.context = context
        self.stats = stats
        self.ssm = SSMProvider(context: context)
        self.secretsManager = SecretsManagerProvider(context: context, logger: logger)
    }

    /// `aws-ssm` (`ssm:`, `ssm-path:`) and `aws-secretsmanager` (`sm:`).
    public var providers: [any SecretProvider] { [ssm, secretsManager] }

    /// API calls made so far (every HTTP attempt): `service` is `ssm`, `secretsmanager` or `sts`;
    /// `operation` is the API name (`GetParameters`), or nil for all of the service's calls.
    public func callCount(service: String, operation: String? = nil) -> Int {
        stats.count(service: service, operation: operation)
    }

    /// The most calls to one service that were in flight at the same time.
    public func peakConcurrency(service: String) -> Int {
        stats.peakConcurrency(service: service)
    }

    /// Starts counting calls from zero.
    public func resetCallCounts() {
        stats.reset()
    }

    /// The region requests are signed for when no ARN names one.
    public func region() async throws -> String {
        try await context.regions.region()
    }

    /// A signed `sts:GetCallerIdentity` request from the credential chain, for Vault's aws auth
    /// method. With `serverID`, the `X-Vault-AWS-IAM-Server-ID` header is added and signed.
    ///
    /// The endpoint is `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL` / `aws.endpoint_url` when set
    /// (signed for the agent's region, us-east-1 without one), else Vault's default, the global
    /// `https://sts.amazonaws.com` signed for us-east-1.
    public func vaultLoginRequest(serverID: String?) async throws -> SignedRequest {
        let credentials = try await context.chain.credentials()
        let endpoint: Endpoint
        let region: String
        if let configured = try context.config.configuredEndpoint(for: .sts) {
            endpoint = configured
            region = context.config.staticRegion ?? "us-east-1"
        } else {
            endpoint = Endpoint("https://sts.amazonaws.com/")!
            region = "us-east-1"
        }
        let body = Array("Action=GetCallerIdentity&Version=2011-06-15".utf8)
        var headers = [("content-type", "application/x-www-form-urlencoded; charset=utf-8")]
        if let serverID { headers.append(("x-vault-aws-iam-server-id", serverID)) }
        let signed = SigV4.sign(method: "POST", endpoint: endpoint, headers: headers, body: body,
                                credentials: credentials, region: region, service: "sts")
        return SignedRequest(method: "POST", url: endpoint.url, headers: signed, body: body)
    }
}
