import Foundation
import SecretAgentCore
import Testing
@testable import SecretAgentAWS

/// Versions change when values rotate (names of their own, so tests can run in parallel).
@Suite(.enabled(if: Moto.enabled)) struct RotationTests {
    /// Runs boto3 against moto as the seeded user: `ssm NAME VALUE` or `sm NAME VALUE`.
    func put(_ moto: Moto, _ service: String, _ name: String, _ value: String) throws {
        let script = """
            import os, sys, boto3
            kind, name, value = sys.argv[1:4]
            c = boto3.client("ssm" if kind == "ssm" else "secretsmanager", endpoint_url=os.environ["EP"], region_name="us-east-1",
                             aws_access_key_id=os.environ["K"], aws_secret_access_key=os.environ["S"])
            if kind == "ssm":
                c.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
            else:
                try:
                    c.put_secret_value(SecretId=name, SecretString=value)
                except c.exceptions.ResourceNotFoundException:
                    c.create_secret(Name=name, SecretString=value)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: moto.python)
        process.arguments = ["-c", script, service, name, value]
        process.environment = ["EP": moto.endpoint, "K": moto.accessKeyID, "S": moto.secretAccessKey,
                               "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "boto3 could not write \(name)")
    }

    @Test func ssmVersionFollowsPutParameter() async throws {
        let moto = try Moto.require()
        let name = "/sa-test/rotation/\(UUID().uuidString)"
        let backend = makeBackend(moto.environment())
        try put(moto, "ssm", name, "first")
        let first = try await fetch(backend, ["ssm:\(name)", "ssm-path:/sa-test/rotation/"])
        try put(moto, "ssm", name, "second")
        let second = try await fetch(backend, ["ssm:\(name)", "ssm:\(name):1", "ssm-path:/sa-test/rotation/"])
        #expect(first["ssm:\(name)"].string == "first" && first["ssm:\(name)"]?.secret?.version == "1")
        #expect(second["ssm:\(name)"].string == "second" && second["ssm:\(name)"]?.secret?.version == "2")
        #expect(second["ssm:\(name):1"].string == "first")
        #expect(first["ssm-path:/sa-test/rotation/"]?.secret?.version != second["ssm-path:/sa-test/rotation/"]?.secret?.version)
    }

    @Test func secretsManagerVersionIdFollowsPutSecretValue() async throws {
        let moto = try Moto.require()
        let name = "sa-test/rotation/\(UUID().uuidString)"
        let backend = makeBackend(moto.environment())
        try put(moto, "sm", name, "first")
        let first = try await fetch(backend, ["sm:\(name)"])
        try put(moto, "sm", name, "second")
        let second = try await fetch(backend, ["sm:\(name)", "sm:\(name)?stage=AWSPREVIOUS"])
        let v1 = try #require(first["sm:\(name)"]?.secret?.version)
        #expect(first["sm:\(name)"].string == "first")
        #expect(second["sm:\(name)"].string == "second" && second["sm:\(name)"]?.secret?.version != v1)
        #expect(second["sm:\(name)?stage=AWSPREVIOUS"].string == "first" && second["sm:\(name)?stage=AWSPREVIOUS"]?.secret?.version == v1)
    }
}
