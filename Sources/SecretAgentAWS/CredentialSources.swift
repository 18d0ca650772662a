import FoundationEssentials
import Logging
import SecretAgentCore

/// Where credentials can come from, in the order they are tried.
enum CredentialSource: Sendable, Equatable, CaseIterable {
    case environment, webIdentity, profile, container, instanceMetadata
}

/// Loads credentials from each source. `nil` from a source means "not configured here, try the
/// next one"; an error means it is configured but failed, which stops the chain (as the SDKs do).
///
/// Profile keys read for credentials: `aws_access_key_id`, `aws_secret_access_key`,
/// `aws_session_token`; `credential_process` (see ``CredentialProcess``); `role_arn` with
/// `source_profile`, `credential_source` (`Environment`, `Ec2InstanceMetadata`, `EcsContainer`) or
/// `web_identity_token_file`, and for the AssumeRole call `external_id`, `role_session_name`
/// (also for web identity) and `duration_seconds`. `sso_session` / `sso_start_url` profiles are
/// refused with the ways out (`aws sso login`, `aws configure export-credentials`).
/// Environment variables: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
/// `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`,
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI`, `AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)`;
/// STS endpoints follow ``AWSConfig`` (`AWS_STS_REGIONAL_ENDPOINTS`, FIPS, dual-stack).
struct CredentialSources: CredentialLoader {
    let config: AWSConfig
    let sts: STSClient
    let metadata: MetadataClient
    let logger: Logger

    func load(preferring known: CredentialSource?) async throws -> (AWSCredentials, CredentialSource) {
        if let known, let credentials = try await fetch(known) { return (credentials, known) }
        for source in order where source != known {
            if let credentials = try await fetch(source) { return (credentials, source) }
        }
        var tried = "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, "
        tried += config.files.paths.isEmpty ? "shared files (no HOME, AWS_CONFIG_FILE or AWS_SHARED_CREDENTIALS_FILE), "
            : "profile '\(config.profileName)' in \(config.files.paths.joined(separator: " and ")), "
        tried += "AWS_CONTAINER_CREDENTIALS_FULL_URI/RELATIVE_URI"
        tried += config.metadataEndpoint.map { ", EC2 instance metadata at \($0)" } ?? " (instance metadata disabled)"
        throw AWSError.denied("no AWS credentials found; tried \(tried). Set one of them (for example AWS_PROFILE)")
    }

    /// The sources in the order they are tried: the SDKs' order, except that a profile chosen by
    /// name (`AWS_PROFILE`, `aws.profile`) with `role_arn` and `credential_source = Environment`
    /// goes before the environment, whose keys are then only that role's base credentials (as
    /// botocore does for a profile given with `--profile`).
    var order: [CredentialSource] {
        guard config.profileIsExplicit, let profile = config.profile, profile["role_arn"]?.isEmpty == false,
              profile["credential_source"] == "Environment" else { return CredentialSource.allCases }
        return [.profile] + CredentialSource.allCases.filter { $0 != .profile }
    }

    func fetch(_ source: CredentialSource) async throws -> AWSCredentials? {
        switch source {
        case .environment: return try environmentCredentials()
        case .webIdentity:
            guard let file = config.env("AWS_WEB_IDENTITY_TOKEN_FILE"), let role = config.env("AWS_ROLE_ARN") else { return nil }
            return try await webIdentity(role: role, tokenFile: file, sessionName: config.env("AWS_ROLE_SESSION_NAME"))
        case .profile:
            guard config.profile != nil else {
                if config.profileIsExplicit {
                    throw AWSError.config("AWS profile '\(config.profileName)' is not in \(config.files.paths.joined(separator: " or ")); check AWS_PROFILE, aws.profile and AWS_CONFIG_FILE/AWS_SHARED_CREDENTIALS_FILE")
                }
                return nil
            }
            return try await profileCredentials(config.profileName, visited: [])
        case .container: return try await containerCredentials()
        case .instanceMetadata:
            guard let endpoint = config.metadataEndpoint else { return nil }
            return try await metadata.instanceCredentials(endpoint)
        }
    }

    private func environmentCredentials() throws -> AWSCredentials? {
        let key = config.env("AWS_ACCESS_KEY_ID"), secret = config.env("AWS_SECRET_ACCESS_KEY")
        if key == nil && secret == nil { return nil }
        guard let key, let secret else {
            throw AWSError.config("\(key == nil ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") is set but \(key == nil ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") is not")
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: config.env("AWS_SESSION_TOKEN"), source: "environment")
    }

    private func webIdentity(role: String, tokenFile: String, sessionName: String?) async throws -> AWSCredentials {
        guard let token = FileBytes.readCredential(tokenFile) else {
            throw AWSError.config("cannot read the web identity token file \(tokenFile) (AWS_WEB_IDENTITY_TOKEN_FILE)")
        }
        let session = sessionName ?? "secret-agent-\(Int(Date().timeIntervalSince1970))"
        return try await sts.assumeRoleWithWebIdentity(roleARN: role, sessionName: session, token: token, label: "web identity role \(role)")
    }

    /// A profile's credentials: static keys, or a role assumed with `source_profile`,
    /// `credential_source` or `web_identity_token_file`.
    private func profileCredentials(_ name: String, visited: [String]) async throws -> AWSCredentials? {
        guard let profile = config.files.profile(name) else {
            throw AWSError.config("AWS profile '\(name)' (source_profile of '\(visited.last ?? name)') is not in \(config.files.paths.joined(separator: " or "))")
        }
        let label = "profile \(name)"
        let staticKeys: AWSCredentials? = {
            guard let key = profile["aws_access_key_id"], let secret = profile["aws_secret_access_key"], !key.isEmpty else { return nil }
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: profile["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }, source: label)
        }()
        guard let role = profile["role_arn"], !role.isEmpty else {
            if staticKeys == nil, let command = profile["credential_process"], !command.isEmpty {
                return try await CredentialProcess(profile: name, commandLine: command, environment: config.environment, logger: logger).credentials()
            }
            if staticKeys == nil, profile["sso_session"] != nil || profile["sso_start_url"] != nil {
                throw Self.ssoUnsupported(name)
            }
            return staticKeys
        }
        let session = profile["role_session_name"] ?? "secret-agent-\(Int(Date().timeIntervalSince1970))"
        if let tokenFile = profile["web_identity_token_file"] {
            return try await webIdentity(role: role, tokenFile: tokenFile, sessionName: session)
        }
        let source: AWSCredentials
        if let sourceProfile = profile["source_profile"] {
            if visited.contains(sourceProfile) {
                throw AWSError.config("AWS profiles form a loop through source_profile: \((visited + [name, sourceProfile]).joined(separator: " → "))")
            }
            if sourceProfile == name, let staticKeys {
                source = staticKeys
            } else if let found = try await profileCredentials(sourceProfile, visited: visited + [name]) {
                source = found
            } else {
                throw AWSError.config("AWS profile '\(sourceProfile)' (source_profile of '\(name)') has no credentials")
            }
        } else if let origin = profile["credential_source"] {
            let found: AWSCredentials?
            switch origin {
            case "Environment": found = try environmentCredentials()
            case "EcsContainer": found = try await containerCredentials()
            case "Ec2InstanceMetadata": found = try await config.metadataEndpoint.asyncMap { try await metadata.instanceCredentials($0) } ?? nil
            default: throw AWSError.config("AWS \(label): credential_source '\(origin)' is not Environment, EcsContainer or Ec2InstanceMetadata")
            }
            guard let found else { throw AWSError.denied("AWS \(label): credential_source \(origin) has no credentials") }
            source = found
        } else {
            throw AWSError.config("AWS \(label) has role_arn but no source_profile, credential_source or web_identity_token_file")
        }
        let duration = profile["duration_seconds"].flatMap { $0.isEmpty ? nil : $0 }
        if let duration, Int(duration).map({ $0 <= 0 }) ?? true {
            throw AWSError.config("AWS \(label): duration_seconds must be a whole number of seconds (900 to the role's maximum session duration), got '\(duration)'")
        }
        return try await sts.assumeRole(roleARN: role, sessionName: session, externalID: profile["external_id"].flatMap { $0.isEmpty ? nil : $0 },
                                        durationSeconds: duration, with: source, label: "\(label) role \(role)")
    }

    /// ECS / EKS Pod Identity credentials from `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `_FULL_URI`.
    private func containerCredentials() async throws -> AWSCredentials? {
        let url: String
        if let relative = config.env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            url = "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative)
        } else if let full = config.env("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            try Self.checkContainerURI(full)
            url = full
        } else {
            return nil
        }
        var token = config.env("AWS_CONTAINER_AUTHORIZATION_TOKEN")
        if let file = config.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            guard let text = FileBytes.readCredential(file) else {
                throw AWSError.config("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file)")
            }
            token = text
        }
        return try await metadata.container(url: url, token: token)
    }
}

extension CredentialSources {
    /// The error for an IAM Identity Center (SSO) profile, which the agent does not log in to.
    static func ssoUnsupported(_ profile: String) -> AWSError {
        AWSError.config("AWS profile '\(profile)' uses IAM Identity Center (SSO), which secret-agent does not log in to. "
            + "Either run `aws sso login --profile \(profile)` and give the agent a profile with "
            + "`credential_process = aws configure export-credentials --profile \(profile) --format process`, "
            + "or export credentials with `aws configure export-credentials --profile \(profile) --format env`")
    }

    /// The hosts besides loopback addresses that `AWS_CONTAINER_CREDENTIALS_FULL_URI` may name
    /// over plain http, as botocore's `ContainerMetadataFetcher`: ECS, EKS Pod Identity (IPv4
    /// and IPv6) and `localhost` (AWS IoT Greengrass).
    static let containerHosts: Set<String> = ["169.254.170.2", "169.254.170.23", "[fd00:ec2::23]", "localhost"]

    /// Accepts an https URI, or an http one whose host is a loopback IP address (127.0.0.0/8,
    /// ::1) or one of `containerHosts`, written literally. User information (`user@`) is refused
    /// outright: `http://127.0.0.1@evil.example/` goes to evil.example.
    static func checkContainerURI(_ text: String) throws(AWSError) {
        let afterScheme = text.firstRange(of: "://").map { text[$0.upperBound...] } ?? ""
        if afterScheme.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" }).contains("@") {
            throw AWSError.config("AWS_CONTAINER_CREDENTIALS_FULL_URI must not contain user information (user@host); give the credentials endpoint's own URL")
        }
        guard let endpoint = Endpoint(text) else {
            throw AWSError.config("AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL with a host name or IP address")
        }
        var host = endpoint.host
        if let v6 = IPLiteral.v6(host), v6 == IPLiteral.v6("fd00:ec2::23") { host = "[fd00:ec2::23]" }
        guard endpoint.scheme == "https" || endpoint.isLoopbackAddress || containerHosts.contains(host) else {
            throw AWSError.config("AWS_CONTAINER_CREDENTIALS_FULL_URI must use https, or http to a loopback IP address (127.0.0.0/8, ::1), localhost, 169.254.170.2, 169.254.170.23 or fd00:ec2::23 (got host \(endpoint.host))")
        }
    }
}

extension Optional {
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
