/// The AWS endpoint variants, as botocore's endpoint rule sets resolve them for SSM, Secrets
/// Manager and STS.
///
/// Environment variables (they win over the profile, like the SDKs):
/// - `AWS_USE_FIPS_ENDPOINT` (`true`/`false`; profile key `use_fips_endpoint`): the FIPS 140
///   endpoints, `ssm-fips.REGION.amazonaws.com`, `secretsmanager-fips.…`, `sts-fips.…` (in
///   GovCloud the standard SSM and STS hosts are the FIPS ones).
/// - `AWS_USE_DUALSTACK_ENDPOINT` (`true`/`false`; profile key `use_dualstack_endpoint`): the
///   IPv4 + IPv6 endpoints, `ssm.REGION.api.aws` (`api.amazonwebservices.com.cn` in China);
///   with FIPS too, `ssm-fips.REGION.api.aws`.
/// - `AWS_STS_REGIONAL_ENDPOINTS` (`regional`, the default, or `legacy`; profile key
///   `sts_regional_endpoints`): `legacy` sends STS calls for the sixteen regions that had no
///   regional STS endpoint before 2015 (and us-east-1) to the global `sts.amazonaws.com`,
///   signed for us-east-1, unless FIPS or dual-stack is asked for.
///
/// An endpoint URL that is configured (`AWS_ENDPOINT_URL…`, `aws.endpoint_url`, the profile's
/// `endpoint_url`) wins over all of these.
extension AWSConfig {
    /// The regions that `AWS_STS_REGIONAL_ENDPOINTS=legacy` sends to the global STS endpoint.
    static let legacyGlobalSTSRegions: Set<String> = [
        "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "aws-global", "ca-central-1",
        "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    ]

    /// `AWS_USE_FIPS_ENDPOINT`, else the profile's `use_fips_endpoint`; false when neither is set.
    var useFIPSEndpoint: Bool {
        get throws(AWSError) { try flag("AWS_USE_FIPS_ENDPOINT", profileKey: "use_fips_endpoint") }
    }

    /// `AWS_USE_DUALSTACK_ENDPOINT`, else the profile's `use_dualstack_endpoint`; false when neither is set.
    var useDualStackEndpoint: Bool {
        get throws(AWSError) { try flag("AWS_USE_DUALSTACK_ENDPOINT", profileKey: "use_dualstack_endpoint") }
    }

    /// True when STS calls for `region` go to the global endpoint: `legacy` mode, a legacy
    /// region, and neither FIPS nor dual-stack.
    func usesGlobalSTSEndpoint(region: String) throws(AWSError) -> Bool {
        let origin: String, value: String?
        if let v = env("AWS_STS_REGIONAL_ENDPOINTS") {
            (origin, value) = ("AWS_STS_REGIONAL_ENDPOINTS", v)
        } else {
            (origin, value) = ("sts_regional_endpoints of profile '\(profileName)'", profile?["sts_regional_endpoints"].flatMap { $0.isEmpty ? nil : $0 })
        }
        switch value?.lowercased() {
        case nil, "regional": return false
        case "legacy":
            let fips = try useFIPSEndpoint
            let dualStack = try useDualStackEndpoint
            return Self.legacyGlobalSTSRegions.contains(region) && !fips && !dualStack
        default:
            throw AWSError.config("\(origin) must be 'regional' or 'legacy' (got '\(value ?? "")')")
        }
    }

    /// The host name of `service` in `region` (a valid region name).
    static func host(for service: AWSService, region: String, fips: Bool, dualStack: Bool) -> String {
        let china = region.hasPrefix("cn-")
        // GovCloud's standard SSM and STS hosts are FIPS endpoints already.
        if fips && !dualStack && region.hasPrefix("us-gov-") && service != .secretsManager {
            return "\(service.signingName).\(region).amazonaws.com"
        }
        let name = fips ? "\(service.signingName)-fips" : service.signingName
        let suffix = switch (china, dualStack) {
        case (false, false): "amazonaws.com"
        case (false, true): "api.aws"
        case (true, false): "amazonaws.com.cn"
        case (true, true): "api.amazonwebservices.com.cn"
        }
        return "\(name).\(region).\(suffix)"
    }

    private func flag(_ variable: String, profileKey: String) throws(AWSError) -> Bool {
        let origin: String, value: String
        if let v = env(variable) {
            (origin, value) = (variable, v)
        } else if let v = profile?[profileKey], !v.isEmpty {
            (origin, value) = ("\(profileKey) of profile '\(profileName)'", v)
        } else {
            return false
        }
        switch value.lowercased() {
        case "true": return true
        case "false": return false
        default: throw AWSError.config("\(origin) must be true or false (got '\(value)')")
        }
    }
}
