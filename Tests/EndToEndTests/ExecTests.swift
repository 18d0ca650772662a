import Foundation
import Testing

@Suite("secret-agent exec")
struct ExecTests {
    @Test("the quickstart renders its file and the child prints an injected variable")
    func quickstart() throws {
        try? FileManager.default.removeItem(atPath: "/dev/shm/secret-agent-quickstart")
        let r = try Agent.run(["exec", "--config", "examples/quickstart/agent.yaml"], environment: Agent.cleanEnvironment(), cwd: Agent.repositoryRoot)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("child: APP_USER=quickstart-user"))
        #expect(r.stdout.contains("child: APP_PASSWORD has 22 characters"))
        #expect(r.stdout.contains("  | host = db.internal"))
        #expect(r.stdout.contains("app.conf (mode 600) is:"))
        #expect(!FileManager.default.fileExists(atPath: "/dev/shm/secret-agent-quickstart/app.conf"), "exec removes what it rendered")
        #expect(!r.stderr.contains("s3cr3t-quickstart-pa55"))
        try? FileManager.default.removeItem(atPath: "/dev/shm/secret-agent-quickstart")
    }

    @Test("the child's exit status is the agent's")
    func exitStatus() throws {
        let r = try Agent.run(["exec", "--", "sh", "-c", "exit 7"], environment: Agent.cleanEnvironment())
        #expect(r.status == 7)
    }

    @Test("a child killed by signal N makes the agent exit 128+N")
    func deathBySignal() throws {
        let r = try Agent.run(["exec", "--", "sh", "-c", "kill -USR1 $$"], environment: Agent.cleanEnvironment())
        #expect(r.status == 128 + SIGUSR1)
        let k = try Agent.run(["exec", "--", Agent.testChild, "--die-by-signal", "9"], environment: Agent.cleanEnvironment())
        #expect(k.status == 137)
    }

    @Test("a command that does not exist exits 127")
    func notFound() throws {
        let r = try Agent.run(["exec", "--", "no-such-command-e2e"], environment: Agent.cleanEnvironment())
        #expect(r.status == 127)
        #expect(r.stderr.contains("no-such-command-e2e"))
    }

    @Test("SIGHUP and SIGUSR1 reach the child; SIGTERM stops it and the agent exits with its status")
    func signals() throws {
        let s = Scratch()
        defer { s.remove() }
        let log = s.file("child.log")
        let (p, _, err) = try Agent.start(["exec", "--", Agent.testChild, "--log", log, "--exit-code", "3"], environment: Agent.cleanEnvironment())
        let stderr = Collector(err)
        #expect(eventually { (s.read("child.log") ?? "").contains("start") })
        kill(p.processIdentifier, SIGHUP)
        #expect(eventually { (s.read("child.log") ?? "").contains("signal HUP") })
        kill(p.processIdentifier, SIGUSR1)
        #expect(eventually { (s.read("child.log") ?? "").contains("signal USR1") })
        kill(p.processIdentifier, SIGTERM)
        #expect(eventually { !p.isRunning })
        p.waitUntilExit()
        #expect(p.terminationStatus == 3, "\(stderr.text())")
        let lines = (s.read("child.log") ?? "").split(separator: "\n")
        #expect(lines.filter { $0 == "signal HUP" }.count == 1, "forwarded exactly once")
        #expect(lines.contains("signal TERM"))
    }

    @Test("a child that ignores SIGTERM is killed after stop_timeout")
    func stopTimeout() throws {
        let s = Scratch()
        defer { s.remove() }
        s.write("agent.yaml", "exec:\n  command: [\(Agent.testChild), --ignore-term, --log, \(s.file("child.log"))]\n  stop_timeout: 500ms\n")
        let (p, _, _) = try Agent.start(["exec", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment())
        #expect(eventually { (s.read("child.log") ?? "").contains("start") })
        let t0 = Date()
        kill(p.processIdentifier, SIGTERM)
        #expect(eventually(timeout: 10) { !p.isRunning })
        p.waitUntilExit()
        #expect(p.terminationStatus == 137)
        #expect(Date().timeIntervalSince(t0) >= 0.4)
    }

    @Test("--once replaces the agent with the command (same PID)")
    func once() throws {
        let s = Scratch()
        defer { s.remove() }
        let file = Fixture.secretsFile(in: s)
        let (p, out, _) = try Agent.start(["exec", "--once", "--env", "U={{ file:\(file)#username }}", "--", "sh", "-c", "echo pid=$$ user=$U"],
                                          environment: Agent.cleanEnvironment())
        let stdout = Collector(out)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(stdout.text() == "pid=\(p.processIdentifier) user=\(Fixture.user)\n")
    }

    @Test("--env, --env-from, inherited references and --pristine shape the child's environment")
    func environment() throws {
        let s = Scratch()
        defer { s.remove() }
        let file = Fixture.secretsFile(in: s)
        s.write("flat.json", "{\"db-host\": \"h1\", \"api/key\": \"k1\", \"x.y\": \"z\"}")
        let env = Agent.cleanEnvironment([
            "INHERITED_REF": "{{ file:\(file)#username }}",
            "DOCKER_FORMAT": "{{.ID}}",
            "PLAIN": "plain-value",
        ])
        let r = try Agent.run([
            "exec", "--log-level", "trace", "--env", "PW={{ file:\(file)#password | base64 }}", "--env-from", "file:\(s.file("flat.json"))",
            "--", "sh", "-c", "echo \"$INHERITED_REF|$DOCKER_FORMAT|$PLAIN|$PW|$DB_HOST|$API_KEY|$X_Y\"",
        ], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let pw64 = Data(Fixture.password.utf8).base64EncodedString()
        #expect(r.stdout == "\(Fixture.user)|{{.ID}}|plain-value|\(pw64)|h1|k1|z\n")
        Fixture.expectNoSecrets(r.stderr)

        let pristine = try Agent.run(["exec", "--pristine", "--env", "A=1", "--", "/usr/bin/env"], environment: env)
        let names = Set(pristine.stdout.split(separator: "\n").map { String($0.split(separator: "=")[0]) })
        #expect(names.isSubset(of: ["A", "PATH", "HOME", "LANG", "TZ"]), "\(names)")
        #expect(names.contains("A"))
    }

    @Test("a value with a NUL byte cannot go into the environment (exit 65)")
    func nulByte() throws {
        let s = Scratch()
        defer { s.remove() }
        FileManager.default.createFile(atPath: s.file("bin"), contents: Data([0x61, 0x00, 0x62]))
        let r = try Agent.run(["exec", "--env", "B={{ file:\(s.file("bin")) }}", "--", "true"], environment: Agent.cleanEnvironment())
        #expect(r.status == 65)
        #expect(r.stderr.contains("NUL"))
        let ok = try Agent.run(["exec", "--env", "B={{ file:\(s.file("bin")) | base64 }}", "--", "sh", "-c", "echo $B"], environment: Agent.cleanEnvironment())
        #expect(ok.stdout == "YQBi\n")
    }
}
