import Foundation
import Logging
import SecretAgentCore
import Testing
@testable import SecretAgentAWS

/// No secret value, secret key or session token in any log line, at trace level, or in errors.
@Suite(.enabled(if: Moto.enabled)) struct LogHygieneTests {
    @Test func traceLogsNameOperationsAndCountsButNoValues() async throws {
        let moto = try Moto.require()
        let capture = LogCapture()
        let role = try Moto.value("SECRET_AGENT_TEST_AWS_ROLE_ARN")
        let dir = try TempDir()
        let credentials = try dir.write("credentials", "[base]\naws_access_key_id = \(moto.accessKeyID)\naws_secret_access_key = \(moto.secretAccessKey)\n")
        let config = try dir.write("config", "[profile deploy]\nrole_arn = \(role)\nsource_profile = base\n")
        let backend = makeBackend(moto.environment(["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "deploy",
                                                    "AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_CONFIG_FILE": config]),
                                  logger: capture.logger(level: .trace))
        let refs = ["ssm:/sa-test/secure", "ssm:/docker/registry/username", "ssm-path:/sa-test/app/", "sm:docker/registry/password",
                    "sm:sa-test/json", "sm:sa-test/rotated?stage=AWSPREVIOUS", "sm:sa-test/nope", "ssm:/sa-test/nope"]
        _ = try await fetch(backend, refs)
        let assumed = try await backend.context.chain.credentials()
        // A failing call too: its error and logs must not carry the key either.
        let wrongKey = "wrongSecretKeyForHygieneTest0000000000000"
        let wrong = makeBackend(moto.environment(["AWS_SECRET_ACCESS_KEY": wrongKey]), logger: capture.logger(level: .trace))
        let error = await #expect(throws: AWSError.self) { try await fetch(wrong, ["sm:docker/registry/password"]) }

        let lines = capture.lines
        #expect(lines.contains { $0.contains("GetParameters") && $0.contains("names=3") })
        #expect(lines.contains { $0.contains("BatchGetSecretValue") })
        let secrets = ["secure-plaintext-7f3a", "ci-deployer", "app-db-pa55", "app-value-01", "Dr0ck3r-Regi5try-Pa55!", "json-pa55",
                       "rotated-old-value", moto.secretAccessKey, wrongKey, assumed.secretAccessKey, assumed.sessionToken ?? "-"]
        for line in lines + [error?.description ?? ""] {
            for secret in secrets {
                #expect(!line.contains(secret), "a log line or error contains a secret")
            }
        }
    }
}
