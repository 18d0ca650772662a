import AsyncHTTPClient
import SecretAgentCore
import Testing
@testable import SecretAgentAWS

/// Which CA bundle and which client (direct or through a proxy) an AWS request gets.
@Suite struct AWSNetworkTests {
    func config(_ env: [String: String], settings: AWSSettings = AWSSettings(), profiles: [String: [String: String]] = [:]) -> AWSConfig {
        AWSConfig(settings: settings, environment: env, files: ProfileFiles(profiles: profiles, paths: ["/x/config"]))
    }

    /// botocore: AWS_CA_BUNDLE over the profile's ca_bundle; the agent's aws.ca_bundle over both.
    @Test func caBundlePrecedence() {
        var settings = AWSSettings()
        settings.caBundle = "/etc/agent/ca.pem"
        let profiles = ["default": ["ca_bundle": "~/corp.pem"], "other": ["ca_bundle": "/other.pem"]]
        let env = ["AWS_CA_BUNDLE": "/env/ca.pem", "HOME": "/home/u"]
        #expect(config(env, settings: settings, profiles: profiles).caBundle?.origin == "aws.ca_bundle")
        #expect(config(env, profiles: profiles).caBundle?.path == "/env/ca.pem")
        let fromProfile = config(["HOME": "/home/u"], profiles: profiles).caBundle
        #expect(fromProfile?.path == "/home/u/corp.pem")
        #expect(fromProfile?.origin == "ca_bundle of AWS profile 'default'")
        #expect(config(["AWS_PROFILE": "other"], profiles: profiles).caBundle?.path == "/other.pem")
        #expect(config([:]).caBundle == nil)
    }

    @Test func requestsGetTheClientOfTheirProxy() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let network = try AWSNetwork.make(settings: AWSSettings(), environment: [
            "HTTPS_PROXY": "http://u:p@proxy.corp:3128", "NO_PROXY": "169.254.169.254,.internal",
            "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        ], configuration: configuration)
        #expect(network.client(for: "https://ssm.eu-west-1.amazonaws.com/") === network.viaProxy[ProxyURL(host: "proxy.corp", port: 3128, username: "u", password: "p")])
        #expect(network.client(for: "https://ssm.vpce.internal/") === network.direct)
        #expect(network.client(for: "http://moto:5000/") === network.direct)
        #expect(!network.summary.contains("p@"))
        await network.shutdown()
    }

    @Test func badProxiesAndBundlesAreConfigurationErrors() async {
        let files = ["AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"]
        #expect(throws: AWSError.self) {
            _ = try AWSNetwork.make(settings: AWSSettings(), environment: files.merging(["https_proxy": "socks5://x:1"]) { $1 },
                                    configuration: HTTPClient.Configuration())
        }
        do {
            _ = try AWSNetwork.make(settings: AWSSettings(), environment: files.merging(["AWS_CA_BUNDLE": "/nonexistent/ca.pem"]) { $1 },
                                    configuration: HTTPClient.Configuration())
            Issue.record("an unreadable bundle was accepted")
        } catch {
            #expect(error.exitCode == .config)
            #expect(error.message.contains("/nonexistent/ca.pem") && error.message.contains("AWS_CA_BUNDLE"))
        }
    }
}
