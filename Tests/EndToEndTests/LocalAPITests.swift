import Foundation
import Testing

/// The local secrets API of the built binary: `serve:` and `--serve`, the AWS routes against moto,
/// `/v1/ref` against OpenBao, the token, and the allow-list from the templates.
@Suite("Local API", .enabled(if: Servers.motoEnabled && Servers.vaultEnabled))
struct LocalAPITests {
    /// curl with the token (or not): status, then body. The token goes through stdin (`-H @-`),
    /// never the command line `ps` shows.
    func request(_ port: Int, _ path: String, token: String?, extra: [String] = []) -> (Int, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-s", "--max-time", "10", "-w", "\n%{http_code}"]
            + (token == nil ? [] : ["-H", "@-"]) + extra + ["http://127.0.0.1:\(port)\(path)"]
        let out = Pipe()
        let input = Pipe()
        p.standardOutput = out
        p.standardInput = input
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return (0, "") }
        input.fileHandleForWriting.write(Data((token.map { "X-Aws-Parameters-Secrets-Token: \($0)\n" } ?? "").utf8))
        try? input.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard let newline = text.lastIndex(of: "\n") else { return (0, text) }
        return (Int(text[text.index(after: newline)...]) ?? 0, String(text[..<newline]))
    }

    @Test("run --serve: Secrets Manager, SSM and Vault through one port; the token and the templates' allow-list guard it")
    func runServes() throws {
        let s = Scratch()
        defer { s.remove() }
        let id = UUID().uuidString.prefix(8)
        let token = "e2e-serve-token-\(id)"
        try Servers.boto("""
            c("secretsmanager").create_secret(Name="serve-e2e/\(id)/db", SecretString='{"password": "serve-sm-pw"}')
            c("ssm").put_parameter(Name="/serve-e2e/\(id)/p", Value="serve-ssm-value", Type="SecureString")
            """)
        Servers.vaultSeed("secret/data/serve-e2e/\(id)", #"{"data": {"password": "serve-vault-pw", "user": "u1"}}"#)
        s.write("agent.yaml", """
            poll: 500ms
            output_dir: \(s.path)/out
            serve: {}
            templates:
              - contents: "{{ sm:serve-e2e/\(id)/db#password }} {{ ssm:/serve-e2e/\(id)/p }} {{ vault:secret/serve-e2e/\(id)#password }}"
                destination: app.conf
            """)
        var env = try Servers.awsEnvironment()
        env["VAULT_ADDR"] = try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR")
        env["VAULT_TOKEN"] = try Servers.value("SECRET_AGENT_TEST_VAULT_TOKEN")
        env["AWS_TOKEN"] = token
        let port = Net.freePort()
        let (p, _, err) = try Agent.start(["run", "--config", s.file("agent.yaml"), "--serve", "127.0.0.1:\(port)"], environment: env)
        let stderr = Collector(err)
        defer { _ = finish(p) }
        #expect(eventually(timeout: 20) { s.exists("out/app.conf") }, "\(stderr.text(wait: false).suffix(600))")
        #expect(eventually(timeout: 10) { request(port, "/v1/ref?ref=env:HOME", token: token).0 == 403 })

        let (status, body) = request(port, "/secretsmanager/get?secretId=serve-e2e/\(id)/db", token: token)
        #expect(status == 200)
        #expect(body.contains(#""SecretString""#) && body.contains("serve-sm-pw") && body.contains(#""VersionStages""#))
        let (pStatus, pBody) = request(port, "/systemsmanager/parameters/get?name=/serve-e2e/\(id)/p&withDecryption=true", token: token)
        #expect(pStatus == 200 && pBody.contains(#""Parameter""#) && pBody.contains("serve-ssm-value"))
        let vault = request(port, "/v1/ref?ref=vault:secret/serve-e2e/\(id)%23password", token: token)
        #expect(vault.0 == 200 && vault.1 == "serve-vault-pw")
        let map = request(port, "/v1/ref?ref=vault:secret/serve-e2e/\(id)", token: token)
        #expect(map.0 == 200 && map.1 == #"{"password":"serve-vault-pw","user":"u1"}"#)
        let headers = request(port, "/v1/ref?ref=vault:secret/serve-e2e/\(id)%23user", token: token, extra: ["-D", "-"])
        #expect(headers.1.lowercased().contains("x-secret-agent-version: 1"))

        // Guards: token, X-Forwarded-For, the templates' allow-list (the seeded secrets are not in it).
        #expect(request(port, "/secretsmanager/get?secretId=serve-e2e/\(id)/db", token: nil).0 == 403)
        #expect(request(port, "/secretsmanager/get?secretId=serve-e2e/\(id)/db", token: "wrong").0 == 403)
        #expect(request(port, "/secretsmanager/get?secretId=serve-e2e/\(id)/db", token: token, extra: ["-H", "X-Forwarded-For: 10.1.1.1"]).0 == 400)
        #expect(request(port, "/secretsmanager/get?secretId=docker/registry/password", token: token).0 == 403)
        #expect(request(port, "/v1/ref?ref=vault:secret/other%23password", token: token).0 == 403)

        // A Vault rotation is served within a poll.
        Servers.vaultSeed("secret/data/serve-e2e/\(id)", #"{"data": {"password": "serve-vault-pw2", "user": "u1"}}"#)
        #expect(eventually(timeout: 15) { request(port, "/v1/ref?ref=vault:secret/serve-e2e/\(id)%23password", token: token).1 == "serve-vault-pw2" })
        // A Secrets Manager rotation of a secret the templates use: the agent's own poll finds it
        // and the local API follows (its own poll leaves that name to the agent's).
        try Servers.boto("""
            c("secretsmanager").put_secret_value(SecretId="serve-e2e/\(id)/db", SecretString='{"password": "serve-sm-pw2"}')
            """)
        #expect(eventually(timeout: 15) { request(port, "/secretsmanager/get?secretId=serve-e2e/\(id)/db", token: token).1.contains("serve-sm-pw2") })
        #expect(eventually(timeout: 15) { s.read("out/app.conf")?.contains("serve-sm-pw2") == true })
        // A reload with a template that uses another secret: the allow-list follows it.
        let reloaded = try String(contentsOfFile: s.file("agent.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "{{ vault:", with: "{{ sm:docker/registry/password }} {{ vault:")
        s.write("agent.yaml", reloaded)
        kill(p.processIdentifier, SIGHUP)
        #expect(eventually(timeout: 15) { request(port, "/secretsmanager/get?secretId=docker/registry/password", token: token).0 == 200 })
        #expect(finish(p) == 0)
        #expect(!Net.accepts(port: port), "the local API ends with the agent")
        let log = stderr.text()
        for value in ["serve-sm-pw", "serve-ssm-value", "serve-vault-pw", token] { #expect(!log.contains(value)) }
        #expect(log.contains("serve-e2e/\(id)/db"), "the log names what the API refreshed")
    }

    @Test("serve without a token does not start (exit 78), and writes nothing")
    func noToken() throws {
        let s = Scratch()
        defer { s.remove() }
        s.write("agent.yaml", """
            output_dir: \(s.path)/out
            serve:
              address: 127.0.0.1:\(Net.freePort())
            templates:
              - contents: "{{ env:HOME }}"
                destination: app.conf
            """)
        let r = try Agent.run(["run", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment(), timeout: 30)
        #expect(r.status == 78, "\(r.stderr)")
        #expect(r.stderr.contains("AWS_TOKEN"))
        #expect(!s.exists("out/app.conf"))
    }

    @Test("exec --once --serve is a usage error; a serve: block is ignored by exec --once")
    func onceDoesNotServe() throws {
        let s = Scratch()
        defer { s.remove() }
        s.write("agent.yaml", """
            output_dir: \(s.path)/out
            serve:
              address: 127.0.0.1:\(Net.freePort())
            """)
        let env = Agent.cleanEnvironment(["AWS_TOKEN": "once-token"])
        let flag = try Agent.run(["exec", "--once", "--serve", "127.0.0.1:\(Net.freePort())", "--", "true"], environment: env, timeout: 30)
        #expect(flag.status == 64, "\(flag.stderr)")
        let block = try Agent.run(["exec", "--once", "--config", s.file("agent.yaml"), "--", "true"], environment: env, timeout: 30)
        #expect(block.status == 0, "\(block.stderr)")
    }
}
