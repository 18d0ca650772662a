import Foundation
import Testing

/// `${VAR}` in configuration values and a `token_file` refreshed under a running agent, with the
/// built binary against the test OpenBao.
@Suite("Vault configuration: ${VAR} and token_file", .enabled(if: Servers.vaultEnabled))
struct VaultConfigTests {
    /// The JSON answer of a Vault call, parsed.
    func vaultJSON(_ method: String, _ path: String, _ body: String? = nil) throws -> [String: Any] {
        let text = try Servers.vault(method, path, body)
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    func newToken(policy: String) throws -> String {
        let answer = try vaultJSON("POST", "auth/token/create", #"{"policies": ["\#(policy)"], "ttl": "1h"}"#)
        return try #require((answer["auth"] as? [String: Any])?["client_token"] as? String)
    }

    @Test("vault.address and a destination from ${VAR}; template text keeps ${…}; an unset variable is exit 78")
    func variables() throws {
        let id = UUID().uuidString
        let secret = "e2e-var-\(UUID().uuidString.prefix(8))"
        Servers.vaultSeed("secret/data/e2e/\(id)", #"{"data": {"password": "\#(secret)"}}"#)
        let s = Scratch()
        defer { s.remove() }
        s.write("agent.yaml", """
            vault:
              address: "${TEST_VAULT_ADDR}"
            output_dir: ${OUT_DIR}
            templates:
              - contents: "pw={{ vault:secret/e2e/\(id)#password }} raw=${NOT_SET}"
                destination: ${APP_NAME:-app}.conf
            """)
        let env = Agent.cleanEnvironment(["TEST_VAULT_ADDR": try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR"),
                                          "VAULT_TOKEN": try Servers.value("SECRET_AGENT_TEST_VAULT_TOKEN"),
                                          "OUT_DIR": s.file("out")])
        let r = try Agent.run(["render", "--log-level", "trace", "--config", s.file("agent.yaml")], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(s.read("out/app.conf") == "pw=\(secret) raw=${NOT_SET}")
        #expect(!r.stderr.contains(secret))

        var unset = env
        unset["TEST_VAULT_ADDR"] = nil
        let failed = try Agent.run(["render", "--config", s.file("agent.yaml")], environment: unset)
        #expect(failed.status == 78)
        #expect(failed.stderr.contains("vault.address") && failed.stderr.contains("TEST_VAULT_ADDR"), "\(failed.stderr)")
    }

    @Test("run keeps rendering after the token file gets a new token and the old one is revoked; no token in the trace log")
    func tokenFileRefreshed() throws {
        let id = UUID().uuidString
        let path = "secret/data/e2e/\(id)"
        _ = try Servers.vault("PUT", "sys/policies/acl/e2e-\(id)", #"{"policy": "path \"\#(path)\" { capabilities = [\"read\"] }"}"#)
        let first = try newToken(policy: "e2e-\(id)"), second = try newToken(policy: "e2e-\(id)")
        let values = (1...3).map { "tokfile-\($0)-\(UUID().uuidString.prefix(8))" }
        Servers.vaultSeed(path, #"{"data": {"password": "\#(values[0])"}}"#)
        let s = Scratch()
        defer { s.remove() }
        let tokenFile = s.write("sink/token", first)
        s.write("agent.yaml", """
            vault:
              auth:
                method: token
                token_file: \(tokenFile)
            poll: 300ms
            output_dir: \(s.path)/out
            templates:
              - contents: "pw={{ vault:secret/e2e/\(id)#password }}"
                destination: app.conf
            """)
        let env = Agent.cleanEnvironment(["VAULT_ADDR": try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR"), "HOME": s.path])
        let (p, _, err) = try Agent.start(["run", "--log-level", "trace", "--config", s.file("agent.yaml")], environment: env)
        let stderr = Collector(err)
        defer { if p.isRunning { kill(p.processIdentifier, SIGTERM); p.waitUntilExit() } }
        #expect(eventually(timeout: 20) { s.read("out/app.conf") == "pw=\(values[0])" }, "\(stderr.text(wait: false))")

        // The sink writes a new token (a new file renamed over the old), then the old one is revoked.
        s.write("sink/token.new", second + "\n")
        #expect(rename(s.file("sink/token.new"), tokenFile) == 0)
        _ = try Servers.vault("POST", "auth/token/revoke", #"{"token": "\#(first)"}"#)
        Servers.vaultSeed(path, #"{"data": {"password": "\#(values[1])"}}"#)
        #expect(eventually(timeout: 15) { s.read("out/app.conf") == "pw=\(values[1])" }, "\(stderr.text(wait: false))")

        // Emptied by the sink: the agent keeps the last token and carries on.
        s.write("sink/token.new", "")
        #expect(rename(s.file("sink/token.new"), tokenFile) == 0)
        Servers.vaultSeed(path, #"{"data": {"password": "\#(values[2])"}}"#)
        #expect(eventually(timeout: 15) { s.read("out/app.conf") == "pw=\(values[2])" }, "\(stderr.text(wait: false))")

        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let log = stderr.text()
        #expect(log.contains("token file changed"))
        #expect(log.contains("token file is empty or cannot be read"))
        for (name, secret) in [("first token", first), ("second token", second)] + values.map({ ("value", $0) }) {
            #expect(!log.contains(secret), "\(name) appears in the log")
        }
    }
}
