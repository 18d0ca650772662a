import Logging
import SecretAgentCore
import Testing
@testable import SecretAgentAWS

/// `AWS_RETRY_MODE`, `AWS_MAX_ATTEMPTS` and the profile's `retry_mode` / `max_attempts`, as
/// botocore reads them, under the agent's own `aws.retry_mode` / `aws.max_attempts`.
@Suite struct RetrySettingsTests {
    func config(_ env: [String: String], profile: [String: String] = [:], settings: AWSSettings = AWSSettings()) -> AWSConfig {
        AWSConfig(settings: settings, environment: env, files: ProfileFiles(profiles: ["default": profile], paths: ["/x/config"]))
    }

    @Test("nothing set: adaptive, the default attempts")
    func defaults() throws {
        let r = try config([:]).retrySettings()
        #expect(r.mode == .adaptive && r.maxAttempts == nil)
        #expect(try RetryPolicy(config: config([:])).maxAttempts == 4)
    }

    @Test("the agent's configuration, then the environment, then the profile")
    func precedence() throws {
        let profile = ["retry_mode": "standard", "max_attempts": "7"]
        #expect(try config([:], profile: profile).retrySettings() == (.standard, 7))
        #expect(try config(["AWS_RETRY_MODE": "adaptive", "AWS_MAX_ATTEMPTS": "3"], profile: profile).retrySettings() == (.adaptive, 3))
        var settings = AWSSettings(maxAttempts: 2)
        settings.retryMode = .standard
        #expect(try config(["AWS_RETRY_MODE": "adaptive", "AWS_MAX_ATTEMPTS": "3"], profile: profile, settings: settings).retrySettings() == (.standard, 2))
        let policy = try RetryPolicy(config: config(["AWS_RETRY_MODE": "Standard", "AWS_MAX_ATTEMPTS": " 9 "]))
        #expect(policy.mode == .standard && policy.maxAttempts == 9)
    }

    @Test("legacy (the SDKs' older mode) is standard here: backoff per call")
    func legacy() throws {
        #expect(try config(["AWS_RETRY_MODE": "legacy"]).retrySettings().mode == .standard)
    }

    @Test("a value that is not a mode or a count is a configuration error naming where it came from")
    func badValues() {
        #expect { try config(["AWS_RETRY_MODE": "often"]).retrySettings() } throws: {
            ($0 as? AWSError)?.exitCode == .config && "\($0)".contains("AWS_RETRY_MODE") && "\($0)".contains("'often'")
        }
        #expect { try config(["AWS_MAX_ATTEMPTS": "0"]).retrySettings() } throws: {
            ($0 as? AWSError)?.exitCode == .config && "\($0)".contains("AWS_MAX_ATTEMPTS")
        }
        #expect { try config([:], profile: ["max_attempts": "many"]).retrySettings() } throws: {
            ($0 as? AWSError)?.exitCode == .config && "\($0)".contains("max_attempts of profile 'default'")
        }
    }

    @Test("a backend with a bad AWS_RETRY_MODE fails its first call with that error, before any request")
    func backendRefusesBadMode() async {
        let b = AWSBackend(settings: AWSSettings(), environment: ["AWS_RETRY_MODE": "often", "AWS_REGION": "us-east-1",
                                                                 "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x",
                                                                 "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true",
                                                                 "HOME": "/nonexistent"],
                           httpClient: testHTTPClient, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        await #expect { try await fetch(b, ["ssm:/sa-test/one"]) } throws: {
            "\($0)".contains("AWS_RETRY_MODE")
        }
        #expect(b.callCount(service: "ssm") == 0)
    }
}
