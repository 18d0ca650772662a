import Foundation
import Testing

/// The security audit's findings on the agent's own behaviour (issue 11): one-shot modes never
/// revoke what they hand over, restarts do not race, `on_change` commands get the child's
/// scrub, rendered files do not outlive `exec`, the listener cannot be exhausted, and a
/// malformed flag does not echo its value.
@Suite("Hardening: revocation, restarts, scrubbed commands, file lifetime, listener limits")
struct HardeningTests {
    // MARK: revoke_on_shutdown and one-shot modes

    /// A PKI mount whose role issues leased certificates, and a configuration that renders one
    /// certificate's serial with `revoke_on_shutdown: true`.
    struct LeasedCertificate {
        let scratch = Scratch()
        let mount = "pki-\(UUID().uuidString.prefix(8).lowercased())"
        var config: String { scratch.file("agent.yaml") }
        var environment: [String: String]

        init() throws {
            environment = Agent.cleanEnvironment(["VAULT_ADDR": try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR"),
                                                  "VAULT_TOKEN": try Servers.value("SECRET_AGENT_TEST_VAULT_TOKEN")])
            try Servers.vault("POST", "sys/mounts/\(mount)", #"{"type": "pki", "config": {"max_lease_ttl": "24h"}}"#)
            try Servers.vault("POST", "\(mount)/root/generate/internal", #"{"common_name": "e2e root", "ttl": "24h"}"#)
            try Servers.vault("POST", "\(mount)/roles/web",
                              #"{"allowed_domains": ["example.test"], "allow_subdomains": true, "generate_lease": true, "ttl": "1h"}"#)
            scratch.write("agent.yaml", """
                vault:
                  revoke_on_shutdown: true
                output_dir: \(scratch.path)/out
                templates:
                  - contents: "{{ vault:\(mount)/issue/web?common_name=a.example.test#serial_number }}"
                    destination: serial
                """)
        }

        /// Whether the certificate with this serial is revoked.
        func revoked(_ serial: String) throws -> Bool {
            let answer = try Servers.vault("GET", "\(mount)/cert/\(serial.trimmingCharacters(in: .whitespacesAndNewlines))")
            let json = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]
            let data = try #require(json?["data"] as? [String: Any], "no certificate \(serial): \(answer.prefix(200))")
            return (data["revocation_time"] as? Int ?? 0) != 0
        }

        func remove() {
            _ = try? Servers.vault("DELETE", "sys/mounts/\(mount)")
            scratch.remove()
        }
    }

    @Test("render, exec --once and exec --no-watch keep the leases they hand over; a supervised run revokes on exit",
          .enabled(if: Servers.vaultEnabled))
    func oneShotModesKeepLeases() throws {
        let c = try LeasedCertificate()
        defer { c.remove() }
        let out = c.scratch.file("out/serial")

        var r = try Agent.run(["render", "--config", c.config], environment: c.environment)
        #expect(r.status == 0, "\(r.stderr)")
        let rendered = try #require(c.scratch.read("out/serial"))
        #expect(try !c.revoked(rendered), "render revoked the certificate it wrote")

        let copy = c.scratch.file("copy")
        r = try Agent.run(["exec", "--once", "--config", c.config, "--", "cp", out, copy], environment: c.environment)
        #expect(r.status == 0, "\(r.stderr)")
        let once = try #require(c.scratch.read("copy"))
        #expect(once != rendered)
        #expect(try !c.revoked(once), "exec --once revoked the certificate its command uses")

        r = try Agent.run(["exec", "--no-watch", "--config", c.config, "--", "cp", out, copy], environment: c.environment)
        #expect(r.status == 0, "\(r.stderr)")
        let noWatch = try #require(c.scratch.read("copy"))
        #expect(noWatch != once)
        #expect(try !c.revoked(noWatch), "exec --no-watch revoked the certificate its child uses")

        // The agent itself ends a supervised run: revoke_on_shutdown applies.
        let (p, _, err) = try Agent.start(["exec", "--config", c.config, "--", Agent.testChild], environment: c.environment)
        let stderr = Collector(err)
        #expect(eventually(timeout: 20) { (c.scratch.read("out/serial") ?? rendered) != noWatch && c.scratch.exists("out/serial") })
        let supervised = try #require(c.scratch.read("out/serial"))
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(try c.revoked(supervised), "a supervised run with revoke_on_shutdown revokes on exit: \(stderr.text())")
    }

    // MARK: restarts

    @Test("two backends changing within stop_timeout: the child that stays runs on both new values",
          .enabled(if: Servers.motoEnabled))
    func restartsDoNotRace() throws {
        let s = Scratch()
        defer { s.remove() }
        let id = UUID().uuidString
        try Servers.boto(#"c("secretsmanager").create_secret(Name="e2e/\#(id)/token", SecretString="sm-1")"#)
        s.write("local", "file-1\n")
        s.write("agent.yaml", """
            poll: 300ms
            output_dir: \(s.path)/out
            exec:
              command: [\(Agent.testChild), --log, \(s.file("child.log")), --dump-env, --ignore-term]
              stop_timeout: 2s
              env:
                FROM_FILE: "{{ file:\(s.file("local")) }}"
                FROM_SM: "{{ sm:e2e/\(id)/token }}"
            """)
        let (p, _, err) = try Agent.start(["run", "--config", s.file("agent.yaml")], environment: try Servers.awsEnvironment())
        let stderr = Collector(err)
        defer {
            kill(p.processIdentifier, SIGTERM)
            p.waitUntilExit()
        }
        func lastStart() -> [String] {
            let lines = (s.read("child.log") ?? "").split(separator: "\n").map(String.init)
            guard let start = lines.lastIndex(where: { $0.hasPrefix("start") }) else { return [] }
            return Array(lines[start...])
        }
        #expect(eventually(timeout: 20) { lastStart().contains("env FROM_SM=sm-1") }, "\(stderr.text(wait: false))")
        // The first change starts a restart that waits 2 s for SIGKILL; the second comes meanwhile.
        s.write("local", "file-2\n")
        Thread.sleep(forTimeInterval: 0.5)
        try Servers.boto(#"c("secretsmanager").put_secret_value(SecretId="e2e/\#(id)/token", SecretString="sm-2")"#)
        #expect(eventually(timeout: 20) {
            let env = lastStart()
            return env.contains("env FROM_FILE=file-2") && env.contains("env FROM_SM=sm-2")
        }, "\(s.read("child.log") ?? "")")
        Thread.sleep(forTimeInterval: 1)
        let env = lastStart()
        #expect(env.contains("env FROM_FILE=file-2") && env.contains("env FROM_SM=sm-2"), "a later restart did not bring back old values")
        #expect(!stderr.text(wait: false).contains("cannot restart the child"))
    }

    // MARK: on_change commands

    @Test("with --pristine an on_change command does not get the agent's credentials")
    func onChangeCommandIsScrubbed() throws {
        let s = Scratch()
        defer { s.remove() }
        s.write("local", "v1\n")
        s.write("agent.yaml", """
            poll: 300ms
            output_dir: \(s.path)/out
            templates:
              - contents: "{{ file:\(s.file("local")) }}"
                destination: app.conf
                on_change: [sh, -c, "env > \(s.file("command-env"))"]
            """)
        let credential = "e2e-agent-credential-Kx81"
        let (p, _, err) = try Agent.start(["run", "--pristine", "--config", s.file("agent.yaml")],
                                          environment: Agent.cleanEnvironment(["VAULT_TOKEN": credential, "AWS_SECRET_ACCESS_KEY": credential]))
        let stderr = Collector(err)
        #expect(eventually(timeout: 20) { s.read("out/app.conf") == "v1" }, "\(stderr.text(wait: false))")
        s.write("local", "v2\n")
        #expect(eventually(timeout: 10) { (s.read("command-env") ?? "").contains("PATH=") })
        let env = s.read("command-env") ?? ""
        #expect(!env.contains(credential), "the on_change command got the agent's credentials")
        #expect(!env.contains("VAULT_TOKEN") && !env.contains("AWS_SECRET_ACCESS_KEY"))
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    // MARK: the lifetime of rendered files

    func renderingConfig(_ s: Scratch, extra: String = "") -> String {
        s.write("secrets.json", Fixture.json)
        return s.write("agent.yaml", """
            output_dir: \(s.path)/out
            \(extra)
            templates:
              - contents: "{{ file:\(s.file("secrets.json"))#password }}"
                destination: docker/config.json
            """)
    }

    @Test("exec removes the files it rendered when its child exits; --keep-files keeps them; render keeps them")
    func execRemovesRenderedFiles() throws {
        let s = Scratch()
        defer { s.remove() }
        let config = renderingConfig(s)
        let check = "test -s \(s.file("out/docker/config.json"))"
        var r = try Agent.run(["exec", "--config", config, "--", "sh", "-c", check], environment: Agent.cleanEnvironment())
        #expect(r.status == 0, "the child sees the file: \(r.stderr)")
        #expect(!s.exists("out/docker/config.json"), "exec left the rendered secret behind")

        r = try Agent.run(["exec", "--no-watch", "--config", config, "--", "sh", "-c", "\(check); exit 3"], environment: Agent.cleanEnvironment())
        #expect(r.status == 3)
        #expect(!s.exists("out/docker/config.json"))

        r = try Agent.run(["exec", "--keep-files", "--config", config, "--", "true"], environment: Agent.cleanEnvironment())
        #expect(r.status == 0)
        #expect(s.read("out/docker/config.json") == Fixture.password)

        try FileManager.default.removeItem(atPath: s.file("out/docker/config.json"))
        r = try Agent.run(["render", "--config", config], environment: Agent.cleanEnvironment())
        #expect(r.status == 0)
        #expect(s.read("out/docker/config.json") == Fixture.password)
    }

    @Test("exec stopped by SIGTERM removes its files; run keeps them unless cleanup_on_exit: true")
    func stoppedRunsAndCleanupOnExit() throws {
        for (command, extra, kept) in [("exec", "", false), ("run", "", true), ("run", "cleanup_on_exit: true", false)] {
            let s = Scratch()
            defer { s.remove() }
            let config = renderingConfig(s, extra: extra)
            var arguments = [command, "--config", config]
            if command == "exec" { arguments += ["--", Agent.testChild] }
            let (p, _, err) = try Agent.start(arguments, environment: Agent.cleanEnvironment())
            let stderr = Collector(err)
            #expect(eventually(timeout: 20) { s.exists("out/docker/config.json") }, "\(stderr.text(wait: false))")
            kill(p.processIdentifier, SIGTERM)
            p.waitUntilExit()
            #expect(s.exists("out/docker/config.json") == kept, "\(command) \(extra)")
            Fixture.expectNoSecrets(stderr.text())
        }
    }

    // MARK: flags

    @Test("a malformed --env does not echo its value")
    func malformedEnvFlag() throws {
        let r = try Agent.run(["exec", "--env", Fixture.password, "--", "true"], environment: Agent.cleanEnvironment())
        #expect(r.status == 64)
        #expect(r.stderr.contains("--env takes NAME=TEMPLATE"))
        Fixture.expectNoSecrets(r.output)
        #expect(!r.output.contains(String(Fixture.password.prefix(8))))
    }

    // MARK: the --listen server

    @Test("more idle connections than the listener's cap do not stop a rotation (descriptors limited to 64)")
    func idleConnectionsDoNotStopRotation() throws {
        let s = Scratch()
        defer { s.remove() }
        s.write("local", "v1\n")
        s.write("agent.yaml", """
            poll: 300ms
            output_dir: \(s.path)/out
            templates:
              - contents: "{{ file:\(s.file("local")) }}"
                destination: app.conf
            """)
        let script = "ulimit -n 64 && exec \(Agent.binary) run --config \(s.file("agent.yaml")) --listen 127.0.0.1:0 --log-level debug"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        p.environment = Agent.cleanEnvironment()
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let stderr = Collector(err)
        defer {
            kill(p.processIdentifier, SIGTERM)
            p.waitUntilExit()
        }
        #expect(eventually(timeout: 20) { s.read("out/app.conf") == "v1" }, "\(stderr.text(wait: false))")
        let port = try #require(eventually(timeout: 5) { Self.listenPort(stderr.text(wait: false)) != nil }
                                ? Self.listenPort(stderr.text(wait: false)) : nil)
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        for _ in 0..<100 {
            if let fd = Net.connect(port: port) { sockets.append(fd) }
        }
        Thread.sleep(forTimeInterval: 0.5)
        // Well inside the 10 s idle timeout: only the cap keeps descriptors free.
        s.write("local", "v2\n")
        #expect(eventually(timeout: 5) { s.read("out/app.conf") == "v2" }, "\(stderr.text(wait: false).suffix(2000))")
    }

    static func listenPort(_ log: String) -> Int? {
        guard let range = log.range(of: "listen=127.0.0.1:") else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }
}
