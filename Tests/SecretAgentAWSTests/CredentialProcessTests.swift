import AsyncHTTPClient
import Foundation
import NIOCore
import SecretAgentCore
import Testing
@testable import SecretAgentAWS

/// `credential_process` and `credential_source` against moto with IAM authorization on, where
/// the seeded identities differ in what they may read (scripts/seed-moto.py): the default
/// identity of each test cannot read the parameter, the one the profile leads to can.
@Suite(.enabled(if: Moto.enabled)) struct CredentialProcessTests {
    static let parameter = "ssm:/docker/registry/url"
    static let value = "registry.example.com:5000"

    /// A shell script that appends a line to `count` on each run, says something on stderr and
    /// prints the JSON in `creds.json` (or what `body` says), then exits with `status`. Returns
    /// the command line for `credential_process`.
    func script(_ dir: TempDir, body: String = #"cat "$DIR/creds.json""#, status: Int = 0) throws -> String {
        let path = try dir.write("helper.sh", """
            #!/bin/sh
            DIR=\(dir.path)
            echo run >> "$DIR/count"
            echo "helper: fetching credentials for $1 ($2)" >&2
            \(body)
            exit \(status)
            """)
        // Run through /bin/sh rather than exec'd: a parallel test's fork can inherit the
        // descriptor the file was just written with, and exec would then fail with ETXTBSY.
        return "/bin/sh \(path)"
    }

    func processCredentials(expiration: String? = nil) throws -> String {
        let key = try Moto.value("SECRET_AGENT_TEST_AWS_PROCESS_ACCESS_KEY_ID")
        let secret = try Moto.value("SECRET_AGENT_TEST_AWS_PROCESS_SECRET_ACCESS_KEY")
        return #"{"Version": 1, "AccessKeyId": "\#(key)", "SecretAccessKey": "\#(secret)"\#(expiration.map { #", "Expiration": "\#($0)""# } ?? "")}"#
    }

    func runs(_ dir: TempDir) -> Int {
        (try? String(contentsOfFile: dir.path + "/count", encoding: .utf8))?.split(separator: "\n").count ?? 0
    }

    /// The agent's environment without credentials of its own, using profile `name` in `config`.
    func profileEnvironment(_ moto: Moto, _ config: String, profile name: String, _ extra: [String: String] = [:]) -> [String: String] {
        moto.environment(["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": name, "AWS_CONFIG_FILE": config].merging(extra) { $1 })
    }

    @Test func processIdentityReadsWhatTheDefaultIdentityCannot() async throws {
        let moto = try Moto.require()
        // The default identity here (the seeded "denied" user) may not read parameters.
        let denied = makeBackend(moto.environment(["AWS_ACCESS_KEY_ID": try Moto.value("SECRET_AGENT_TEST_AWS_DENIED_ACCESS_KEY_ID"),
                                                   "AWS_SECRET_ACCESS_KEY": try Moto.value("SECRET_AGENT_TEST_AWS_DENIED_SECRET_ACCESS_KEY")]))
        await #expect { try await fetch(denied, [Self.parameter]) } throws: { ($0 as? AWSError)?.exitCode == .noPermission }

        let dir = try TempDir()
        _ = try dir.write("creds.json", try processCredentials())
        let helper = try script(dir)
        let config = try dir.write("config", "[profile tool]\ncredential_process = \(helper) tool \"two words\"\nregion = us-east-1\n")
        let capture = LogCapture()
        let backend = makeBackend(profileEnvironment(moto, config, profile: "tool"), logger: capture.logger())
        let out = try await fetch(backend, [Self.parameter])
        #expect(out[Self.parameter].string == Self.value)
        let credentials = try await backend.context.chain.credentials()
        #expect(credentials.source == "credential_process of profile tool" && credentials.expiration == nil)
        // No Expiration: never refreshed.
        _ = try await fetch(backend, [Self.parameter])
        #expect(runs(dir) == 1)
        // Its stderr is logged at debug (the arguments arrived split as a shell would), its stdout never.
        #expect(capture.lines.contains { $0.hasPrefix("debug credential_process stderr") && $0.contains("helper: fetching credentials for tool (two words)") })
        let secret = try Moto.value("SECRET_AGENT_TEST_AWS_PROCESS_SECRET_ACCESS_KEY")
        #expect(!capture.lines.contains { $0.contains(secret) || $0.contains("SecretAccessKey") })
    }

    @Test func processProfileAsTheSourceProfileOfARole() async throws {
        let moto = try Moto.require()
        let dir = try TempDir()
        // The helper hands out the seeded user that may assume secret-agent-test-role.
        _ = try dir.write("creds.json", #"{"Version": 1, "AccessKeyId": "\#(moto.accessKeyID)", "SecretAccessKey": "\#(moto.secretAccessKey)"}"#)
        let helper = try script(dir)
        let role = try Moto.value("SECRET_AGENT_TEST_AWS_ROLE_ARN")
        let config = try dir.write("config", """
            [profile tool]
            credential_process = \(helper)
            [profile deploy]
            role_arn = \(role)
            source_profile = tool
            """)
        let backend = makeBackend(profileEnvironment(moto, config, profile: "deploy"))
        #expect(try await fetch(backend, [Self.parameter])[Self.parameter].string == Self.value)
        let assumed = try await backend.context.chain.credentials()
        #expect(assumed.accessKeyID.hasPrefix("ASIA") && assumed.source == "profile deploy role \(role)")
        #expect(runs(dir) == 1 && backend.callCount(service: "sts", operation: "AssumeRole") == 1)
    }

    @Test func expiringProcessCredentialsAreRefreshedBeforeExpiration() async throws {
        let moto = try Moto.require()
        let dir = try TempDir()
        // A minute left: inside the refresh window, so every use runs the command again.
        let soon = try script(dir, body: #"""
            printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "Expiration": "%s"}' "$K" "$S" "$(date -u -d '+60 seconds' +%Y-%m-%dT%H:%M:%SZ)"
            """#)
        let config = try dir.write("config", "[profile soon]\ncredential_process = \(soon)\n")
        let env = profileEnvironment(moto, config, profile: "soon", [
            "K": try Moto.value("SECRET_AGENT_TEST_AWS_PROCESS_ACCESS_KEY_ID"), "S": try Moto.value("SECRET_AGENT_TEST_AWS_PROCESS_SECRET_ACCESS_KEY")])
        let backend = makeBackend(env)
        for _ in 0..<3 {
            #expect(try await fetch(backend, [Self.parameter])[Self.parameter].string == Self.value)
        }
        #expect(runs(dir) == 3)
        let credentials = try await backend.context.chain.credentials()
        #expect(credentials.expiration != nil && credentials.needsRefresh())

        // An hour left: cached.
        let hourDir = try TempDir()
        _ = try hourDir.write("creds.json", try processCredentials(expiration: ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))))
        let hour = try script(hourDir)
        let hourConfig = try hourDir.write("config", "[profile hour]\ncredential_process = \(hour)\n")
        let cached = makeBackend(profileEnvironment(moto, hourConfig, profile: "hour"))
        for _ in 0..<3 { _ = try await fetch(cached, [Self.parameter]) }
        #expect(runs(hourDir) == 1)
    }

    @Test func failingProcessIsExit77NamingProfileAndStatusNeverTheOutput() async throws {
        let moto = try Moto.require()
        let dir = try TempDir()
        let leaked = "printed-by-the-helper-9d2f"
        _ = try dir.write("creds.json", #"{"Version": 1, "AccessKeyId": "\#(leaked)", "SecretAccessKey": "\#(leaked)"}"#)
        let cases: [(String, Int, String)] = [
            (#"cat "$DIR/creds.json"; echo "\#(leaked)" >&2"#, 3, "exited with code 3"),
            (#"echo '{"Version": 2, "AccessKeyId": "\#(leaked)", "SecretAccessKey": "x"}'"#, 0, "only Version 1"),
            (#"echo "\#(leaked)""#, 0, "did not print a JSON object"),
            (#"kill -9 $$"#, 0, "killed by SIGKILL"),
        ]
        for (body, status, expected) in cases {
            let helper = try script(dir, body: body, status: status)
            let config = try dir.write("config", "[profile broken]\ncredential_process = \(helper)\n")
            let capture = LogCapture()
            let backend = makeBackend(profileEnvironment(moto, config, profile: "broken"), logger: capture.logger())
            await #expect {
                try await backend.context.chain.credentials()
            } throws: {
                let text = "\($0)"
                return ($0 as? AWSError)?.exitCode == .noPermission && text.contains("'broken'") && text.contains(expected) && !text.contains(leaked)
            }
            #expect(!capture.lines.contains { $0.contains("SecretAccessKey") })
        }
        // A command that does not exist or cannot be parsed is a configuration error (78).
        for command in ["/nonexistent/helper --flag", "helper 'unterminated"] {
            let config = try dir.write("config", "[profile broken]\ncredential_process = \(command)\n")
            let backend = makeBackend(profileEnvironment(moto, config, profile: "broken"))
            await #expect { try await backend.context.chain.credentials() } throws: {
                ($0 as? AWSError)?.exitCode == .config && "\($0)".contains("'broken'")
            }
        }
    }

    @Test func processThatHangsIsKilledAtItsTimeLimit() async throws {
        let dir = try TempDir()
        let helper = try script(dir, body: "exec sleep 60")
        let process = CredentialProcess(profile: "slow", commandLine: helper, environment: ["PATH": "/usr/bin:/bin"],
                                        logger: LogCapture().logger(), timeout: .seconds(1))
        let started = ContinuousClock.now
        await #expect { try await process.credentials() } throws: {
            ($0 as? AWSError)?.exitCode == .noPermission && "\($0)".contains("'slow'") && "\($0)".contains("did not finish within 1s")
        }
        #expect(ContinuousClock.now - started < .seconds(30), "killed long before sleep 60 ends")
    }

    @Test func credentialSourceEnvironmentAssumesTheRoleWithExternalID() async throws {
        let moto = try Moto.require()
        let role = try Moto.value("SECRET_AGENT_TEST_AWS_EXTERNAL_ROLE_ARN")
        let externalID = try Moto.value("SECRET_AGENT_TEST_AWS_EXTERNAL_ID")
        let base = ["AWS_ACCESS_KEY_ID": try Moto.value("SECRET_AGENT_TEST_AWS_ASSUMER_ACCESS_KEY_ID"),
                    "AWS_SECRET_ACCESS_KEY": try Moto.value("SECRET_AGENT_TEST_AWS_ASSUMER_SECRET_ACCESS_KEY")]
        // The environment's own identity may only assume the role: it cannot read the parameter.
        let plain = makeBackend(moto.environment(base))
        await #expect { try await fetch(plain, [Self.parameter]) } throws: { ($0 as? AWSError)?.exitCode == .noPermission }

        let dir = try TempDir()
        func profile(_ external: String) throws -> String {
            try dir.write("config", """
                [profile ext]
                role_arn = \(role)
                credential_source = Environment
                external_id = \(external)
                role_session_name = sa-external-test
                duration_seconds = 900
                """)
        }
        let config = try profile(externalID)
        let backend = makeBackend(moto.environment(base.merging(["AWS_PROFILE": "ext", "AWS_CONFIG_FILE": config]) { $1 }))
        let out = try await fetch(backend, [Self.parameter])
        #expect(out[Self.parameter].string == Self.value)
        let assumed = try await backend.context.chain.credentials()
        #expect(assumed.accessKeyID.hasPrefix("ASIA") && assumed.source.contains("role"))
        let left = assumed.expiration.map { $0.timeIntervalSinceNow } ?? 0
        #expect(left > 800 && left <= 900, "duration_seconds = 900 reached STS")
        // What STS recorded for this session (moto's model data): the ExternalId and session name.
        let recorded = try await assumedRole(moto, accessKeyID: assumed.accessKeyID)
        #expect(recorded?["external_id"] as? String == externalID)
        #expect(recorded?["session_name"] as? String == "sa-external-test")

        // The same keys as the default profile, not chosen by name: the environment's keys are used
        // as they are (the SDKs' order).
        let defaultProfile = try dir.write("default-config", "[default]\nrole_arn = \(role)\ncredential_source = Environment\n")
        let unnamed = makeBackend(moto.environment(base.merging(["AWS_CONFIG_FILE": defaultProfile]) { $1 }))
        #expect(try await unnamed.context.chain.credentials().source == "environment")

        // moto enforces the trust policy's ExternalId condition: a wrong one is refused.
        let wrong = makeBackend(moto.environment(base.merging(["AWS_PROFILE": "ext", "AWS_CONFIG_FILE": try profile("not-the-id")]) { $1 }))
        await #expect { try await fetch(wrong, [Self.parameter]) } throws: { ($0 as? AWSError)?.exitCode == .noPermission }
    }

    @Test func credentialSourceEcsContainerAssumesTheRole() async throws {
        let moto = try Moto.require()
        let role = try Moto.value("SECRET_AGENT_TEST_AWS_EXTERNAL_ROLE_ARN")
        // The container endpoint hands out the identity that may only assume the role.
        let server = try Helper(python: moto.python, script: CredentialChainTests.containerServer, environment: [
            "KEY": try Moto.value("SECRET_AGENT_TEST_AWS_ASSUMER_ACCESS_KEY_ID"),
            "SECRET": try Moto.value("SECRET_AGENT_TEST_AWS_ASSUMER_SECRET_ACCESS_KEY"), "ECS_TOKEN": "ecs-token-2"])
        defer { server.stop() }
        let dir = try TempDir()
        let config = try dir.write("config", """
            [profile ecs]
            role_arn = \(role)
            credential_source = EcsContainer
            external_id = \(try Moto.value("SECRET_AGENT_TEST_AWS_EXTERNAL_ID"))
            """)
        let backend = makeBackend(profileEnvironment(moto, config, profile: "ecs", [
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(server.port)/creds/long", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ecs-token-2"]))
        #expect(try await fetch(backend, [Self.parameter])[Self.parameter].string == Self.value)
        let assumed = try await backend.context.chain.credentials()
        #expect(assumed.accessKeyID.hasPrefix("ASIA") && assumed.source == "profile ecs role \(role)")
    }

    /// The AssumedRole moto recorded for `accessKeyID` (`/moto-api/data.json`), its fields by name.
    func assumedRole(_ moto: Moto, accessKeyID: String) async throws -> [String: Any]? {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: moto.endpoint + "/moto-api/data.json"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 << 20)
        let all = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        let roles = (all?["sts"] as? [String: Any])?["AssumedRole"] as? [[String: Any]] ?? []
        return roles.first { $0["access_key_id"] as? String == accessKeyID }
    }
}
