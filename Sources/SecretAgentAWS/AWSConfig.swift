import SecretAgentCore
import SecretTemplate

/// The AWS services the agent talks to.
enum AWSService: String, Sendable, CaseIterable {
    case ssm
    case secretsManager = "secretsmanager"
    case sts

    /// The SigV4 signing name, also the endpoint's host prefix.
    var signingName: String { rawValue }

    /// `AWS_ENDPOINT_URL_<ID>`, from the service's SDK id.
    var endpointVariable: String {
        switch self {
        case .ssm: return "AWS_ENDPOINT_URL_SSM"
        case .secretsManager: return "AWS_ENDPOINT_URL_SECRETS_MANAGER"
        case .sts: return "AWS_ENDPOINT_URL_STS"
        }
    }

    /// The `X-Amz-Target` prefix of the JSON 1.1 protocol.
    var targetPrefix: String {
        switch self {
        case .ssm: return "AmazonSSM"
        case .secretsManager: return "secretsmanager"
        case .sts: return ""
        }
    }
}

/// Settings, environment and shared files, with the precedence rules in one place.
///
/// Environment variables win over the configuration file (`aws:`), which wins over the profile.
/// Endpoint variants (`AWS_USE_FIPS_ENDPOINT`, `AWS_USE_DUALSTACK_ENDPOINT`,
/// `AWS_STS_REGIONAL_ENDPOINTS` and their profile keys) are in `AWSConfig+Endpoints.swift`.
struct AWSConfig: Sendable {
    let settings: AWSSettings
    let environment: [String: String]
    let files: ProfileFiles

    init(settings: AWSSettings, environment: [String: String], files: ProfileFiles? = nil) {
        self.settings = settings
        self.environment = environment
        self.files = files ?? ProfileFiles.load(environment: environment)
    }

    func env(_ name: String) -> String? {
        guard let v = environment[name], !v.isEmpty else { return nil }
        return v
    }

    /// `AWS_PROFILE`, then `aws.profile`, then `default`.
    var profileName: String { env("AWS_PROFILE") ?? settings.profile ?? "default" }

    /// True when a profile was asked for by name, so a missing one is an error.
    var profileIsExplicit: Bool { env("AWS_PROFILE") != nil || settings.profile != nil }

    var profile: [String: String]? { files.profile(profileName) }

    /// The region without asking instance metadata: `AWS_REGION`, `AWS_DEFAULT_REGION`,
    /// `aws.region`, then the profile's `region`.
    var staticRegion: String? {
        env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? settings.region ?? profile?["region"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The instance metadata endpoint, nil when `AWS_EC2_METADATA_DISABLED=true`.
    var metadataEndpoint: Endpoint? {
        if env("AWS_EC2_METADATA_DISABLED")?.lowercased() == "true" { return nil }
        if let configured = env("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? profile?["ec2_metadata_service_endpoint"] {
            return Endpoint(configured)
        }
        if (env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") ?? profile?["ec2_metadata_service_endpoint_mode"])?.lowercased() == "ipv6" {
            return Endpoint("http://[fd00:ec2::254]")
        }
        return Endpoint("http://169.254.169.254")
    }

    /// The endpoint configured for a service, if any: `AWS_ENDPOINT_URL_<SERVICE>`,
    /// `AWS_ENDPOINT_URL`, `aws.endpoint_url`, then the profile's `endpoint_url`.
    func configuredEndpoint(for service: AWSService) throws(AWSError) -> Endpoint? {
        if env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.lowercased() == "true" { return nil }
        let candidates: [(String, String?)] = [
            (service.endpointVariable, env(service.endpointVariable)),
            ("AWS_ENDPOINT_URL", env("AWS_ENDPOINT_URL")),
            ("aws.endpoint_url", settings.endpointURL),
            ("endpoint_url of profile '\(profileName)'", profile?["endpoint_url"]),
        ]
        for (origin, value) in candidates {
            guard let value, !value.isEmpty else { continue }
            guard let endpoint = Endpoint(value) else {
                throw AWSError.config("\(origin) is not an http(s) URL: '\(value)'")
            }
            return endpoint
        }
        return nil
    }

    /// The endpoint for a service in a region: the configured one, else AWS's regional endpoint.
    /// A region that is not a region name (it becomes part of the host) is a configuration error.
    func endpoint(for service: AWSService, region: String) throws(AWSError) -> Endpoint {
        guard ARN.isRegionName(region) else {
            throw AWSError.config("AWS region '\(region)' is not a region name (lowercase letters, digits and '-', such as eu-west-1); check AWS_REGION, aws.region and the profile's region")
        }
        if let configured = try configuredEndpoint(for: service) { return configured }
        let fips = try useFIPSEndpoint
        let dualStack = try useDualStackEndpoint
        let host = Self.host(for: service, region: region, fips: fips, dualStack: dualStack)
        return Endpoint("https://\(host)")!
    }

    /// STS for the credential chain, with the region it is signed for: regional when a region is
    /// known (the global endpoint for the legacy regions when `AWS_STS_REGIONAL_ENDPOINTS` /
    /// `sts_regional_endpoints` is `legacy`), else the global endpoint (or us-east-1's FIPS /
    /// dual-stack one when those are asked for).
    func stsEndpoint() throws(AWSError) -> (Endpoint, String) {
        if let region = staticRegion {
            if try configuredEndpoint(for: .sts) == nil, try usesGlobalSTSEndpoint(region: region) {
                return (Endpoint("https://sts.amazonaws.com")!, "us-east-1")
            }
            return (try endpoint(for: .sts, region: region), region)
        }
        if let configured = try configuredEndpoint(for: .sts) { return (configured, "us-east-1") }
        let fips = try useFIPSEndpoint
        let dualStack = try useDualStackEndpoint
        if fips || dualStack { return (try endpoint(for: .sts, region: "us-east-1"), "us-east-1") }
        return (Endpoint("https://sts.amazonaws.com")!, "us-east-1")
    }
}
