import SecretTemplate

/// What the AWS module reads from an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`).
///
/// The template module recognises ARN references and keeps the ARN as the locator's name (an SSM
/// parameter name, a Secrets Manager secret id); what its region means — the region requests are
/// signed for, and part of the endpoint's host name — is AWS's business, here.
public enum ARN {
    /// The region of the ARN that `locator` names (`ssm:` or `sm:` by ARN), or nil when it names
    /// no ARN or the ARN has no region: then the agent's region applies.
    ///
    /// - Throws: `AWSError` of kind `.reference` (exit 65) naming the reference when the region
    ///   is not a region name: it would become part of the endpoint's host, and `evil.example/`
    ///   would send a signed request to another host.
    public static func region(of locator: Locator) throws(AWSError) -> String? {
        let name: String
        switch locator {
        case .ssm(let parameter, _): name = parameter
        case .secretsManager(let id, _, _): name = id
        default: return nil
        }
        guard name.hasPrefix("arn:") else { return nil }
        let fields = name.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count > 3, !fields[3].isEmpty else { return nil }
        guard isRegionName(fields[3]) else {
            throw AWSError.reference("the region in the ARN of reference '\(locator.text)' is not a region name (lowercase letters, digits and '-', such as eu-west-1)")
        }
        return String(fields[3])
    }

    /// Throws for the first locator whose ARN region is not a region name (see `region(of:)`).
    static func validate(_ locators: [Locator]) throws(AWSError) {
        for locator in locators { _ = try region(of: locator) }
    }

    /// True for a name that can be an AWS region (`eu-west-1`): lowercase letters, digits and
    /// `-`, not empty. An ARN's region and a configured one become part of an endpoint's host
    /// name, so nothing else is accepted.
    public static func isRegionName<S: StringProtocol>(_ text: S) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }
}
