import Logging
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentAWS

/// ARN regions: read here (the template module only keeps the ARN), checked before anything is sent.
@Suite("ARN regions")
struct ARNTests {
    func locator(_ text: String) throws -> Locator {
        try Reference.parse(text).locator
    }

    @Test func regionOfAnARN() throws {
        #expect(try ARN.region(of: locator("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf#password")) == "eu-west-1")
        #expect(try ARN.region(of: locator("arn:aws:ssm:us-east-2:123456789012:parameter/db/password:3")) == "us-east-2")
        #expect(try ARN.region(of: locator("sm:arn:aws:secretsmanager:eu-central-1:1:secret:x")) == "eu-central-1")
        #expect(try ARN.region(of: locator("ssm:/db/password")) == nil)
        #expect(try ARN.region(of: locator("sm:prod/db")) == nil)
        #expect(try ARN.region(of: locator("sm:arn:aws:secretsmanager")) == nil)
        #expect(try ARN.region(of: locator("env:X")) == nil)
    }

    @Test func regionNames() throws {
        for region in ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "us-isob-east-1"] {
            #expect(try ARN.region(of: locator("arn:aws:secretsmanager:\(region):123456789012:secret:prod/db-AbCdEf")) == region)
            #expect(try ARN.region(of: locator("arn:aws:ssm:\(region):123456789012:parameter/db:2")) == region)
        }
        #expect(!ARN.isRegionName(""))
        #expect(!ARN.isRegionName("eu-west-1."))
    }

    /// The ARN's region becomes part of the endpoint's host: anything but a region name would
    /// send a signed request elsewhere, so it is a reference error (exit 65) naming the reference.
    @Test(arguments: [
        "arn:aws:secretsmanager:evil.example/x:123456789012:secret:prod/db-AbCdEf",
        "arn:aws:secretsmanager:evil.example:123456789012:secret:prod/db-AbCdEf",
        "arn:aws:ssm:us-east-1.evil.example:123456789012:parameter/db/password",
        "arn:aws:ssm:EU-WEST-1:123456789012:parameter/db/password",
        "arn:aws:ssm:eu_west_1:123456789012:parameter/db/password",
        "arn:aws:ssm:eu-west-1@evil:123456789012:parameter/db/password",
        "sm:arn:aws:secretsmanager:evil.example/x:123456789012:secret:prod/db",
        "ssm:arn:aws:ssm:evil.example/x:123456789012:parameter",
    ])
    func arnRegionMustBeARegionName(text: String) throws {
        let locator = try locator(text)
        let error = #expect(throws: AWSError.self) { try ARN.region(of: locator) }
        #expect(error?.kind == .reference)
        #expect(error?.exitCode == .dataError)
        #expect(error?.message.contains(text) == true)
    }

    /// The check runs before any backend is contacted: the fetch fails at once with exit 65, no
    /// AWS call is made (not even for the valid reference beside it), and no credentials are
    /// looked up (there are none here).
    @Test func badARNRegionFailsBeforeAnyCall() async throws {
        let backend = makeBackend(["AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
                                   "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"])
        let bad = "arn:aws:ssm:evil.example/x:123456789012:parameter/db/password"
        let set = ProviderSet(backend.providers)
        let locators = Set([try locator(bad), try locator("ssm:/fine"), try locator("sm:fine")])
        let error = await #expect(throws: AWSError.self) { try await set.fetch(locators) }
        #expect(error?.exitCode == .dataError)
        #expect(error?.message.contains(bad) == true)
        #expect(backend.callCount(service: "ssm") == 0)
        #expect(backend.callCount(service: "secretsmanager") == 0)
        #expect(backend.callCount(service: "sts") == 0)
    }
}
