import Foundation
import Testing

/// Rotations in the real backends reaching a running child through `secret-agent run`.
@Suite("Rotation against moto and OpenBao")
struct BackendRotationTests {
    struct Run {
        let scratch: Scratch
        let process: Process
        let stderr: Collector
        var log: String { scratch.read("child.log") ?? "" }
        var hups: Int { log.split(separator: "\n").filter { $0 == "signal HUP" }.count }
        var starts: Int { log.split(separator: "\n").filter { $0.hasPrefix("start") }.count }

        func stop() -> Int32 {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            scratch.remove()
            return process.terminationStatus
        }
    }

    func run(template: String, env: String = "", environment: [String: String], poll: String = "300ms") throws -> Run {
        let s = Scratch()
        s.write("agent.yaml", """
            poll: \(poll)
            output_dir: \(s.path)/out
            templates:
              - contents: "\(template)"
                destination: app.conf
            exec:
              command: [\(Agent.testChild), --log, \(s.file("child.log")), --dump-env, --watch-file, \(s.path)/out/app.conf]
            \(env.isEmpty ? "" : "  env:\n    \(env)")
            """)
        let (p, _, err) = try Agent.start(["run", "--log-level", "trace", "--config", s.file("agent.yaml")], environment: environment)
        let r = Run(scratch: s, process: p, stderr: Collector(err))
        #expect(eventually(timeout: 20) { r.log.contains("start") }, "\(r.stderr.text(wait: false))")
        return r
    }

    @Test("SSM PutParameter and Secrets Manager PutSecretValue each reach the child as one SIGHUP", .enabled(if: Servers.motoEnabled))
    func aws() throws {
        let id = UUID().uuidString
        try Servers.boto("""
            c("ssm").put_parameter(Name="/e2e/\(id)/user", Value="u1", Type="String")
            c("secretsmanager").create_secret(Name="e2e/\(id)/db", SecretString='{"password": "p1"}')
            """)
        let r = try run(template: "user={{ ssm:/e2e/\(id)/user }} pw={{ sm:e2e/\(id)/db#password }}", environment: try Servers.awsEnvironment())
        #expect(r.scratch.read("out/app.conf") == "user=u1 pw=p1")
        try Servers.boto(#"c("ssm").put_parameter(Name="/e2e/\#(id)/user", Value="u2", Type="String", Overwrite=True)"#)
        #expect(eventually(timeout: 10) { r.hups == 1 }, "\(r.stderr.text(wait: false))")
        #expect(r.log.contains("file \(r.scratch.path)/out/app.conf \(Data("user=u2 pw=p1".utf8).base64EncodedString())"))
        try Servers.boto(#"c("secretsmanager").put_secret_value(SecretId="e2e/\#(id)/db", SecretString='{"password": "p2"}')"#)
        #expect(eventually(timeout: 10) { r.hups == 2 })
        #expect(r.scratch.read("out/app.conf") == "user=u2 pw=p2")
        Thread.sleep(forTimeInterval: 1)
        #expect(r.hups == 2, "no further signals while nothing changes")
        let stderr = r.stderr.text(wait: false)
        #expect(stderr.contains("secret changed"))
        for secret in ["p1", "p2"] { #expect(!stderr.contains("\"password\": \"\(secret)\"")) }
        #expect(r.stop() == 0)
    }

    @Test("an environment secret rotated in Secrets Manager restarts the child with the new value", .enabled(if: Servers.motoEnabled))
    func awsEnvironment() throws {
        let id = UUID().uuidString
        try Servers.boto(#"c("secretsmanager").create_secret(Name="e2e/\#(id)/token", SecretString="t1")"#)
        let r = try run(template: "static", env: "TOKEN: \"{{ sm:e2e/\(id)/token }}\"", environment: try Servers.awsEnvironment())
        #expect(r.log.contains("env TOKEN=t1"))
        try Servers.boto(#"c("secretsmanager").put_secret_value(SecretId="e2e/\#(id)/token", SecretString="t2")"#)
        #expect(eventually(timeout: 10) { r.log.contains("env TOKEN=t2") }, "\(r.stderr.text(wait: false))")
        #expect(r.starts == 2)
        #expect(r.stop() == 0)
    }

    @Test("a backend down for many polls: the child keeps running untouched; the change after recovery arrives",
          .enabled(if: Servers.motoEnabled))
    func outage() throws {
        let moto = try PrivateMoto()
        try Servers.boto(#"c("secretsmanager").create_secret(Name="outage/db", SecretString="v1")"#, endpoint: moto.endpoint)
        let r = try run(template: "pw={{ sm:outage/db }}", environment: try Servers.awsEnvironment(endpoint: moto.endpoint), poll: "300ms")
        #expect(r.scratch.read("out/app.conf") == "pw=v1")
        moto.stop()
        #expect(eventually(timeout: 10) { r.stderr.text(wait: false).contains("backend failing") })
        Thread.sleep(forTimeInterval: 2)
        #expect(r.process.isRunning)
        #expect(r.hups == 0 && r.starts == 1, "the child is never signalled or restarted during the outage")
        #expect(r.scratch.read("out/app.conf") == "pw=v1")
        try moto.start()
        try Servers.boto(#"c("secretsmanager").create_secret(Name="outage/db", SecretString="v2")"#, endpoint: moto.endpoint)
        #expect(eventually(timeout: 15) { r.scratch.read("out/app.conf") == "pw=v2" }, "\(r.stderr.text(wait: false))")
        #expect(eventually(timeout: 5) { r.hups == 1 })
        #expect(r.stderr.text(wait: false).contains("backend recovered"))
        #expect(r.stop() == 0)
    }

    @Test("a Vault KV v2 put reaches the child as one SIGHUP", .enabled(if: Servers.vaultEnabled))
    func vault() throws {
        let id = UUID().uuidString
        Servers.vaultSeed("secret/data/e2e/\(id)", #"{"data": {"password": "v1"}}"#)
        let env = Agent.cleanEnvironment(["VAULT_ADDR": try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR"),
                                          "VAULT_TOKEN": try Servers.value("SECRET_AGENT_TEST_VAULT_TOKEN")])
        let r = try run(template: "pw={{ vault:secret/e2e/\(id)#password }}", environment: env)
        #expect(r.scratch.read("out/app.conf") == "pw=v1")
        Servers.vaultSeed("secret/data/e2e/\(id)", #"{"data": {"password": "v2"}}"#)
        #expect(eventually(timeout: 10) { r.hups == 1 }, "\(r.stderr.text(wait: false))")
        #expect(r.scratch.read("out/app.conf") == "pw=v2")
        #expect(r.stop() == 0)
    }
}

extension Servers {
    static func vaultSeed(_ path: String, _ body: String) {
        _ = try? vault("POST", path, body)
    }
}
