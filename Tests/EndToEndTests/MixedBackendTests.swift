import Foundation
import Testing

/// `vault:` beside `ssm:` and `sm:` in one render and one exec, against moto and OpenBao.
@Suite("Mixed backends", .enabled(if: Servers.motoEnabled && Servers.vaultEnabled))
struct MixedBackendTests {
    func environment() throws -> [String: String] {
        var env = try Servers.awsEnvironment()
        env["VAULT_ADDR"] = try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR")
        env["VAULT_TOKEN"] = try Servers.value("SECRET_AGENT_TEST_VAULT_TOKEN")
        return env
    }

    @Test("render and exec resolve ssm:, sm: and vault: together")
    func mixed() throws {
        let id = UUID().uuidString
        try Servers.boto("""
            c("ssm").put_parameter(Name="/mixed/\(id)/user", Value="mixed-user", Type="String")
            c("secretsmanager").create_secret(Name="mixed/\(id)/db", SecretString='{"password": "mixed-sm-pw"}')
            """)
        Servers.vaultSeed("secret/data/mixed/\(id)", #"{"data": {"token": "mixed-vault-token"}}"#)
        let s = Scratch()
        defer { s.remove() }
        s.write("t.mustache", "user={{ ssm:/mixed/\(id)/user }}\npw={{ sm:mixed/\(id)/db#password }}\ntoken={{ vault:secret/mixed/\(id)#token }}\n")
        let r = try Agent.run(["render", "--log-level", "trace", "t.mustache"], environment: try environment(), cwd: s.path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "user=mixed-user\npw=mixed-sm-pw\ntoken=mixed-vault-token\n")
        for v in ["mixed-sm-pw", "mixed-vault-token"] { #expect(!r.stderr.contains(v)) }

        let e = try Agent.run(["exec", "--env", "T={{ vault:secret/mixed/\(id)#token }}", "--env", "P={{ sm:mixed/\(id)/db#password }}",
                               "--", "sh", "-c", "echo $T $P"], environment: try environment())
        #expect(e.status == 0, "\(e.stderr)")
        #expect(e.stdout == "mixed-vault-token mixed-sm-pw\n")

        let g = try Agent.run(["get", "vault:secret/mixed/\(id)#token"], environment: try environment())
        #expect(g.stdout == "mixed-vault-token\n")
    }

    @Test("check --online reports each reference OK with its version, and a missing one, without values")
    func checkOnline() throws {
        let id = UUID().uuidString
        try Servers.boto(#"c("secretsmanager").create_secret(Name="check/\#(id)", SecretString="check-value-secret")"#)
        Servers.vaultSeed("secret/data/check/\(id)", #"{"data": {"k": "check-vault-secret"}}"#)
        let s = Scratch()
        defer { s.remove() }
        s.write("agent.yaml", """
            templates:
              - contents: "{{ sm:check/\(id) }} {{ vault:secret/check/\(id)#k }} {{ vault:secret/check/\(id)#absent }}"
                destination: \(s.path)/x
            """)
        let r = try Agent.run(["check", "--online", "--config", s.file("agent.yaml")], environment: try environment())
        #expect(r.status == 65)
        #expect(r.stdout.contains("sm:check/\(id)  OK version"))
        #expect(r.stdout.contains("vault:secret/check/\(id)#k  OK version 1"))
        #expect(r.stdout.contains("#absent  MISSING"))
        for v in ["check-value-secret", "check-vault-secret"] { #expect(!r.output.contains(v)) }
    }
}
