import Foundation
import SecretAgentCore
import Testing
@testable import SecretAgentAWS

/// FIPS, dual-stack and legacy STS host names, checked against what botocore 1.44's endpoint
/// rule sets resolve for the same region and flags; and the credential_process command-line
/// splitting and JSON reading (no process run here).
@Suite struct EndpointVariantTests {
    func config(_ env: [String: String], profile: [String: String] = [:]) -> AWSConfig {
        AWSConfig(settings: AWSSettings(), environment: env, files: ProfileFiles(profiles: ["default": profile], paths: ["/x/config"]))
    }

    func url(_ env: [String: String], _ service: AWSService, _ region: String, profile: [String: String] = [:]) throws -> String {
        try config(env, profile: profile).endpoint(for: service, region: region).url
    }

    @Test func fipsAndDualStackHostNames() throws {
        let fips = ["AWS_USE_FIPS_ENDPOINT": "true"], dual = ["AWS_USE_DUALSTACK_ENDPOINT": "true"]
        let both = fips.merging(dual) { $1 }
        #expect(try url([:], .ssm, "us-east-1") == "https://ssm.us-east-1.amazonaws.com/")
        #expect(try url(fips, .ssm, "us-east-1") == "https://ssm-fips.us-east-1.amazonaws.com/")
        #expect(try url(fips, .secretsManager, "eu-west-1") == "https://secretsmanager-fips.eu-west-1.amazonaws.com/")
        #expect(try url(fips, .sts, "us-west-2") == "https://sts-fips.us-west-2.amazonaws.com/")
        #expect(try url(dual, .ssm, "us-east-1") == "https://ssm.us-east-1.api.aws/")
        #expect(try url(dual, .secretsManager, "ap-southeast-3") == "https://secretsmanager.ap-southeast-3.api.aws/")
        #expect(try url(dual, .sts, "eu-west-1") == "https://sts.eu-west-1.api.aws/")
        #expect(try url(both, .ssm, "us-east-1") == "https://ssm-fips.us-east-1.api.aws/")
        #expect(try url(both, .sts, "us-east-1") == "https://sts-fips.us-east-1.api.aws/")
        // China and GovCloud.
        #expect(try url(dual, .ssm, "cn-north-1") == "https://ssm.cn-north-1.api.amazonwebservices.com.cn/")
        #expect(try url(fips, .secretsManager, "cn-north-1") == "https://secretsmanager-fips.cn-north-1.amazonaws.com.cn/")
        #expect(try url(fips, .ssm, "us-gov-west-1") == "https://ssm.us-gov-west-1.amazonaws.com/")
        #expect(try url(fips, .sts, "us-gov-west-1") == "https://sts.us-gov-west-1.amazonaws.com/")
        #expect(try url(fips, .secretsManager, "us-gov-west-1") == "https://secretsmanager-fips.us-gov-west-1.amazonaws.com/")
        #expect(try url(both, .ssm, "us-gov-west-1") == "https://ssm-fips.us-gov-west-1.api.aws/")
    }

    @Test func profileKeysAndPrecedence() throws {
        #expect(try url([:], .ssm, "us-east-1", profile: ["use_fips_endpoint": "true"]) == "https://ssm-fips.us-east-1.amazonaws.com/")
        #expect(try url([:], .ssm, "us-east-1", profile: ["use_dualstack_endpoint": "True"]) == "https://ssm.us-east-1.api.aws/")
        // The environment wins over the profile.
        #expect(try url(["AWS_USE_FIPS_ENDPOINT": "false"], .ssm, "us-east-1", profile: ["use_fips_endpoint": "true"])
                == "https://ssm.us-east-1.amazonaws.com/")
        // An explicit endpoint URL wins over both.
        #expect(try url(["AWS_USE_FIPS_ENDPOINT": "true", "AWS_USE_DUALSTACK_ENDPOINT": "true", "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:9"],
                        .ssm, "us-east-1") == "http://127.0.0.1:9/")
        #expect(try config(["AWS_USE_FIPS_ENDPOINT": "true", "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:8", "AWS_REGION": "us-east-1"])
                .stsEndpoint().0.url == "http://127.0.0.1:8/")
        // A value that is neither true nor false names where it came from.
        #expect { try url(["AWS_USE_FIPS_ENDPOINT": "yes"], .ssm, "us-east-1") } throws: {
            ($0 as? AWSError)?.exitCode == .config && "\($0)".contains("AWS_USE_FIPS_ENDPOINT")
        }
        #expect { try url([:], .ssm, "us-east-1", profile: ["use_dualstack_endpoint": "1"]) } throws: {
            ($0 as? AWSError)?.exitCode == .config && "\($0)".contains("use_dualstack_endpoint")
        }
    }

    @Test func stsRegionalAndLegacyEndpoints() throws {
        func sts(_ env: [String: String], profile: [String: String] = [:]) throws -> (String, String) {
            let (endpoint, region) = try config(env, profile: profile).stsEndpoint()
            return (endpoint.url, region)
        }
        // regional is the default (botocore today).
        #expect(try sts(["AWS_REGION": "eu-west-1"]) == ("https://sts.eu-west-1.amazonaws.com/", "eu-west-1"))
        #expect(try sts(["AWS_REGION": "us-east-1", "AWS_STS_REGIONAL_ENDPOINTS": "regional"]) == ("https://sts.us-east-1.amazonaws.com/", "us-east-1"))
        // legacy: the global endpoint, signed for us-east-1, for the legacy regions only.
        #expect(try sts(["AWS_REGION": "eu-west-1", "AWS_STS_REGIONAL_ENDPOINTS": "legacy"]) == ("https://sts.amazonaws.com/", "us-east-1"))
        #expect(try sts(["AWS_REGION": "us-east-2"], profile: ["sts_regional_endpoints": "legacy"]) == ("https://sts.amazonaws.com/", "us-east-1"))
        #expect(try sts(["AWS_REGION": "af-south-1", "AWS_STS_REGIONAL_ENDPOINTS": "legacy"]) == ("https://sts.af-south-1.amazonaws.com/", "af-south-1"))
        #expect(try sts(["AWS_REGION": "eu-central-2", "AWS_STS_REGIONAL_ENDPOINTS": "legacy"]) == ("https://sts.eu-central-2.amazonaws.com/", "eu-central-2"))
        // FIPS or dual-stack keep the regional host even in legacy mode.
        #expect(try sts(["AWS_REGION": "eu-west-1", "AWS_STS_REGIONAL_ENDPOINTS": "legacy", "AWS_USE_FIPS_ENDPOINT": "true"])
                == ("https://sts-fips.eu-west-1.amazonaws.com/", "eu-west-1"))
        #expect(try sts(["AWS_REGION": "us-east-1", "AWS_STS_REGIONAL_ENDPOINTS": "legacy", "AWS_USE_DUALSTACK_ENDPOINT": "true"])
                == ("https://sts.us-east-1.api.aws/", "us-east-1"))
        // The environment wins over the profile; a bad value is a configuration error.
        #expect(try sts(["AWS_REGION": "eu-west-1", "AWS_STS_REGIONAL_ENDPOINTS": "regional"], profile: ["sts_regional_endpoints": "legacy"])
                == ("https://sts.eu-west-1.amazonaws.com/", "eu-west-1"))
        #expect { try sts(["AWS_REGION": "eu-west-1", "AWS_STS_REGIONAL_ENDPOINTS": "global"]) } throws: {
            ($0 as? AWSError)?.exitCode == .config && "\($0)".contains("AWS_STS_REGIONAL_ENDPOINTS")
        }
        // Without a region: the global endpoint, or us-east-1's FIPS one.
        #expect(try sts([:]) == ("https://sts.amazonaws.com/", "us-east-1"))
        #expect(try sts(["AWS_USE_FIPS_ENDPOINT": "true"]) == ("https://sts-fips.us-east-1.amazonaws.com/", "us-east-1"))
    }

    @Test func credentialProcessCommandLineSplitsLikeShlex() throws {
        func split(_ text: String) throws -> [String] { try CredentialProcess.split(text, profile: "p") }
        #expect(try split("aws_signing_helper credential-process --certificate /etc/pki/c.pem") ==
                ["aws_signing_helper", "credential-process", "--certificate", "/etc/pki/c.pem"])
        #expect(try split(#"  /opt/my tool/x  'a b'  "c \"d\" \$e \\ f"  g\ h  "#) == ["/opt/my", "tool/x", "a b", #"c "d" \$e \ f"#, "g h"])
        #expect(try split(#"sh -c 'echo "$HOME"; exit 3'"#) == ["sh", "-c", #"echo "$HOME"; exit 3"#])
        #expect(try split(#"a""b''c"#) == ["abc"])
        #expect(try split(#"x """#) == ["x", ""])
        for bad in ["", "   ", "tool 'open", #"tool "open"#, #"tool \"#] {
            #expect { try split(bad) } throws: { ($0 as? AWSError)?.exitCode == .config && "\($0)".contains("'p'") }
        }
    }

    @Test func credentialProcessOutput() throws {
        func parse(_ json: String) throws -> AWSCredentials {
            try CredentialProcess.parse(Array(json.utf8), what: "AWS profile 'p': credential_process (tool)", label: "credential_process of profile p")
        }
        let full = try parse(#"{"Version": 1, "AccessKeyId": "ASIAPROCESS000000001", "SecretAccessKey": "s3cr3t", "SessionToken": "tok", "Expiration": "2030-01-02T03:04:05Z"}"#)
        #expect(full.accessKeyID == "ASIAPROCESS000000001" && full.secretAccessKey == "s3cr3t" && full.sessionToken == "tok")
        #expect(full.expiration == Date(timeIntervalSince1970: 1_893_553_445))
        let longTerm = try parse(#"{"Version":1,"AccessKeyId":"AKIAPROCESS000000001","SecretAccessKey":"s"}"#)
        #expect(longTerm.expiration == nil && longTerm.sessionToken == nil && !longTerm.needsRefresh())
        let secretish = "do-not-echo-me-4411"
        for bad in ["not json \(secretish)", #"{"Version": 2, "AccessKeyId": "\#(secretish)", "SecretAccessKey": "x"}"#,
                    #"{"AccessKeyId": "a", "SecretAccessKey": "\#(secretish)"}"#, #"{"Version": 1, "AccessKeyId": "\#(secretish)"}"#,
                    #"{"Version": 1, "AccessKeyId": "a", "SecretAccessKey": "b", "Expiration": "\#(secretish)"}"#] {
            #expect { try parse(bad) } throws: {
                ($0 as? AWSError)?.exitCode == .noPermission && "\($0)".contains("'p'") && !"\($0)".contains(secretish)
            }
        }
    }

    @Test func ssoProfilesNameTheWaysOut() async throws {
        let dir = try TempDir()
        let file = try dir.write("config", "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n")
        let backend = makeBackend(["AWS_PROFILE": "dev", "AWS_CONFIG_FILE": file, "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"])
        await #expect { try await backend.context.chain.credentials() } throws: {
            let text = "\($0)"
            return ($0 as? AWSError)?.exitCode == .config && text.contains("aws sso login --profile dev")
                && text.contains("aws configure export-credentials --profile dev --format process")
        }
    }
}
