import Foundation
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentAWS

@Suite struct AWSConfigTests {
    func config(_ env: [String: String], settings: AWSSettings = AWSSettings(), profiles: [String: [String: String]] = [:]) -> AWSConfig {
        AWSConfig(settings: settings, environment: env, files: ProfileFiles(profiles: profiles, paths: ["/x/config"]))
    }

    @Test func regionPrecedence() {
        let settings = AWSSettings(region: "eu-central-1")
        let profiles = ["default": ["region": "ap-south-1"]]
        #expect(config(["AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "us-east-2"], settings: settings, profiles: profiles).staticRegion == "us-west-2")
        #expect(config(["AWS_DEFAULT_REGION": "us-east-2"], settings: settings, profiles: profiles).staticRegion == "us-east-2")
        #expect(config([:], settings: settings, profiles: profiles).staticRegion == "eu-central-1")
        #expect(config([:], profiles: profiles).staticRegion == "ap-south-1")
        #expect(config([:]).staticRegion == nil)
    }

    @Test func profilePrecedence() {
        #expect(config(["AWS_PROFILE": "env"], settings: AWSSettings(profile: "file")).profileName == "env")
        #expect(config([:], settings: AWSSettings(profile: "file")).profileName == "file")
        #expect(config([:]).profileName == "default")
        #expect(config([:]).profileIsExplicit == false)
    }

    @Test func endpointPrecedence() throws {
        let settings = AWSSettings(endpointURL: "http://config:1")
        let profiles = ["default": ["endpoint_url": "http://profile:2"]]
        let all = ["AWS_ENDPOINT_URL_SSM": "http://ssm-only:3", "AWS_ENDPOINT_URL": "http://global:4"]
        #expect(try config(all, settings: settings, profiles: profiles).endpoint(for: .ssm, region: "us-east-1").url == "http://ssm-only:3/")
        #expect(try config(all, settings: settings, profiles: profiles).endpoint(for: .secretsManager, region: "us-east-1").url == "http://global:4/")
        #expect(try config(["AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://sm:5"]).endpoint(for: .secretsManager, region: "x").url == "http://sm:5/")
        #expect(try config(["AWS_ENDPOINT_URL_STS": "http://sts:6"]).endpoint(for: .sts, region: "x").url == "http://sts:6/")
        #expect(try config([:], settings: settings, profiles: profiles).endpoint(for: .ssm, region: "us-east-1").url == "http://config:1/")
        #expect(try config([:], profiles: profiles).endpoint(for: .ssm, region: "us-east-1").url == "http://profile:2/")
        #expect(try config([:]).endpoint(for: .ssm, region: "eu-west-1").url == "https://ssm.eu-west-1.amazonaws.com/")
        #expect(try config([:]).endpoint(for: .secretsManager, region: "cn-north-1").url == "https://secretsmanager.cn-north-1.amazonaws.com.cn/")
        #expect(try config(all.merging(["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"]) { $1 }).endpoint(for: .ssm, region: "us-east-1").url
                == "https://ssm.us-east-1.amazonaws.com/")
        #expect(throws: AWSError.self) { try config(["AWS_ENDPOINT_URL": "not a url"]).endpoint(for: .ssm, region: "us-east-1") }
        #expect(try config([:]).stsEndpoint().0.url == "https://sts.amazonaws.com/")
    }

    @Test func metadataEndpoint() {
        #expect(config([:]).metadataEndpoint?.url == "http://169.254.169.254/")
        #expect(config(["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"]).metadataEndpoint?.url == "http://127.0.0.1:9/")
        #expect(config(["AWS_EC2_METADATA_DISABLED": "true"]).metadataEndpoint == nil)
    }

    @Test func sharedFiles() {
        let configFile = """
        # comment
        [default]
        region = eu-west-1
        [profile ci]
        region=us-east-2
        role_arn = arn:aws:iam::1:role/r   ; inline comment
        s3 =
          max_concurrent_requests = 20
        [sso-session corp]
        sso_region = us-east-1
        """
        let credentialsFile = "[ci]\r\naws_access_key_id = AKIAEXAMPLE\r\naws_secret_access_key = abc/def+ghi\r\nregion = us-west-1\r\n"
        var files = ProfileFiles()
        files.merge(ProfileFiles.parse(configFile, isConfig: true))
        files.merge(ProfileFiles.parse(credentialsFile, isConfig: false))
        #expect(files.profile("default")?["region"] == "eu-west-1")
        #expect(files.profile("ci")?["role_arn"] == "arn:aws:iam::1:role/r")
        #expect(files.profile("ci")?["aws_secret_access_key"] == "abc/def+ghi")
        #expect(files.profile("ci")?["region"] == "us-west-1") // credentials file wins
        #expect(files.profile("ci")?["max_concurrent_requests"] == nil)
        #expect(files.profile("corp") == nil)
    }

    @Test func faults() {
        let json = AWSFault(status: 400, errorTypeHeader: nil, body: Array(#"{"__type":"com.amazonaws.ssm#ParameterNotFound","message":"x"}"#.utf8))
        #expect(json.code == "ParameterNotFound" && json.message == "x")
        let xml = AWSFault(status: 403, errorTypeHeader: nil, body: Array("<?xml version=\"1.0\"?><ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>a &amp; b</Message></Error></ErrorResponse>".utf8))
        #expect(xml.code == "SignatureDoesNotMatch" && xml.message == "a & b")
        let header = AWSFault(status: 400, errorTypeHeader: "ThrottlingException:http://internal.amazon.com/", body: [])
        #expect(header.code == "ThrottlingException")
        #expect(AWSFault(status: 502, errorTypeHeader: nil, body: Array("bad gateway".utf8)).code == "HTTP502")
    }

    @Test func ssmBatchesKeepEachParameterOncePerCall() {
        let plain = (1...25).map { Locator.ssm(name: "/p/\($0)", selector: nil) }
        #expect(SSMProvider.batches(plain).map(\.count) == [10, 10, 5])
        let same = [Locator.ssm(name: "/db", selector: nil), .ssm(name: "/db", selector: "3"), .ssm(name: "/db", selector: "prod"),
                    .ssm(name: "arn:aws:ssm:us-east-1:1:parameter/db", selector: nil), .ssm(name: "/other", selector: nil)]
        let batches = SSMProvider.batches(same)
        #expect(batches.count == 4)
        for batch in batches {
            let keys = batch.map { locator -> String in
                guard case .ssm(let name, _) = locator else { return "" }
                return SSMProvider.parameterKey(name)
            }
            #expect(Set(keys).count == keys.count)
        }
    }

    @Test func secretIdsMatchNamesAndARNs() {
        let arn = "arn:aws:secretsmanager:us-east-1:1:secret:prod/db-AbCdEf"
        #expect(SecretsManagerProvider.matches("prod/db", name: "prod/db", arn: arn))
        #expect(SecretsManagerProvider.matches(arn, name: "prod/db", arn: arn))
        #expect(SecretsManagerProvider.matches("arn:aws:secretsmanager:us-east-1:1:secret:prod/db", name: "prod/db", arn: arn))
        #expect(!SecretsManagerProvider.matches("arn:aws:secretsmanager:us-east-1:1:secret:prod", name: "prod/db", arn: arn))
        #expect(!SecretsManagerProvider.matches("prod", name: "prod/db", arn: arn))
    }

    @Test func backoffIsBoundedFullJitter() {
        let policy = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(100), maxDelay: .milliseconds(300))
        for attempt in 1...6 {
            let d = policy.delay(afterAttempt: attempt)
            #expect(d >= .zero && d <= .milliseconds(300))
        }
    }

    @Test func settingsBlock() throws {
        let node = try ConfigNode.parse(yaml: "region: eu-west-1\nrequest_timeout: 3s\nmax_attempts: 2\n", file: "a.yaml")
        let settings = try AWSSettings(node: node)
        #expect(settings.region == "eu-west-1" && settings.requestTimeout == .seconds(3) && settings.maxAttempts == 2)
        #expect(throws: AgentError.self) { try AWSSettings(node: ConfigNode.parse(yaml: "regoin: x\n", file: "a.yaml")) }
    }

    @Test func credentialsNeverPrintTheirSecrets() {
        let c = AWSCredentials(accessKeyID: "AKIAABCDEFGHIJKLMNOP", secretAccessKey: "SECRETSECRET", sessionToken: "TOKENTOKEN", source: "environment")
        #expect(c.keyHint == "AKIA…MNOP")
        #expect(!"\(c)".contains("SECRETSECRET") && !"\(c)".contains("TOKENTOKEN") && !"\(c)".contains("ABCDEFGHIJKL"))
    }

    @Test func noCredentialsAnywhereIsExit77AndSaysWhatToSet() async throws {
        let backend = makeBackend(["AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent", "AWS_REGION": "us-east-1"])
        do {
            _ = try await backend.context.chain.credentials()
            Issue.record("expected an error")
        } catch let error as AWSError {
            #expect(error.exitCode == .noPermission)
            #expect(error.message.contains("AWS_ACCESS_KEY_ID") && error.message.contains("AWS_PROFILE"))
        }
    }

    @Test func halfSetEnvironmentCredentialsAreAConfigError() async throws {
        let backend = makeBackend(["AWS_ACCESS_KEY_ID": "AKIAONLY", "AWS_EC2_METADATA_DISABLED": "true"])
        await #expect(throws: AWSError.self) { try await backend.context.chain.credentials() }
    }

    @Test func noRegionIsAConfigError() async throws {
        let backend = makeBackend(["AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"])
        do {
            _ = try await backend.region()
            Issue.record("expected an error")
        } catch let error as AWSError {
            #expect(error.exitCode == .config && error.message.contains("AWS_REGION"))
        }
    }

    @Test func missingExplicitProfileIsAConfigError() async throws {
        let backend = makeBackend(["AWS_PROFILE": "nope", "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"])
        do {
            _ = try await backend.context.chain.credentials()
            Issue.record("expected an error")
        } catch let error as AWSError {
            #expect(error.exitCode == .config && error.message.contains("'nope'"))
        }
    }
}
