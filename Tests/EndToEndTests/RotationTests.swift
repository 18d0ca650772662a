import Foundation
import Testing

/// `run` and `exec` watching `file:` secrets: the backend that needs no server. The AWS and Vault
/// rotations are in the backends' own end-to-end suites.
@Suite("Rotation through the agent loop (file: backend)")
struct RotationTests {
    /// A running agent with a test-child that logs signals and what the rendered file held then.
    struct Running {
        let scratch: Scratch
        let process: Process
        let stderr: Collector
        var log: String { scratch.read("child.log") ?? "" }
        var lines: [String] { log.split(separator: "\n").map(String.init) }
        func count(_ line: String) -> Int { lines.filter { $0 == line }.count }
    }

    func startAgent(poll: String = "200ms", extraEnv: String = "") throws -> Running {
        let s = Scratch()
        s.write("secrets.json", #"{"password": "one", "token": "t1"}"#)
        s.write("agent.yaml", config(s, poll: poll, extraEnv: extraEnv))
        let (p, _, err) = try Agent.start(["run", "--log-level", "debug", "--config", s.file("agent.yaml")],
                                          environment: Agent.cleanEnvironment())
        let r = Running(scratch: s, process: p, stderr: Collector(err))
        #expect(eventually { r.log.contains("start") }, "the child started")
        return r
    }

    func config(_ s: Scratch, poll: String, extraEnv: String = "", template: String = "password={{ file:secrets.json#password }}") -> String {
        """
        poll: \(poll)
        output_dir: \(s.path)/out
        templates:
          - contents: "\(template)"
            destination: app.conf
          - contents: "again={{ file:secrets.json#password }}"
            destination: second.conf
        exec:
          command: [\(Agent.testChild), --log, \(s.file("child.log")), --dump-env, --watch-file, \(s.path)/out/app.conf, --watch-file, \(s.path)/out/second.conf, --exit-code, "4"]
          stop_timeout: 5s
          env:
            TOKEN: "{{ file:secrets.json#token }}"\(extraEnv)
        """
    }

    func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }

    func stop(_ r: Running) -> Int32 {
        kill(r.process.processIdentifier, SIGTERM)
        _ = eventually { !r.process.isRunning }
        r.process.waitUntilExit()
        r.scratch.remove()
        return r.process.terminationStatus
    }

    @Test("a rotated password rewrites both files, then the child gets one SIGHUP and sees both new files")
    func fileRotation() throws {
        let r = try startAgent()
        #expect(r.scratch.read("out/app.conf") == "password=one")
        r.scratch.write("secrets.json", #"{"password": "two", "token": "t1"}"#)
        #expect(eventually { r.log.contains("signal HUP") }, "\(r.stderr.text(wait: false))")
        Thread.sleep(forTimeInterval: 1)
        #expect(r.count("signal HUP") == 1)
        #expect(r.lines.contains("file \(r.scratch.path)/out/app.conf \(b64("password=two"))"), "\(r.log)")
        #expect(r.lines.contains("file \(r.scratch.path)/out/second.conf \(b64("again=two"))"))
        #expect(r.count("start pid") <= 1 && r.lines.filter { $0.hasPrefix("start") }.count == 1, "not restarted")
        #expect(stop(r) == 4, "SIGTERM returns the child's status")
    }

    @Test("an environment value rotated restarts the child with the new value")
    func envRotation() throws {
        let r = try startAgent()
        #expect(eventually { r.lines.contains("env TOKEN=t1") }, "\(r.log)")
        r.scratch.write("secrets.json", #"{"password": "one", "token": "t2"}"#)
        #expect(eventually { r.lines.contains("env TOKEN=t2") }, "\(r.log)")
        #expect(r.lines.filter { $0.hasPrefix("start") }.count == 2)
        #expect(r.count("signal HUP") == 0, "a restart, not a reload")
        #expect(stop(r) == 4)
    }

    @Test("nothing changed: no signal and no rewrite across many polls")
    func quiet() throws {
        let r = try startAgent(poll: "100ms")
        let before = try FileManager.default.attributesOfItem(atPath: r.scratch.file("out/app.conf"))[.modificationDate] as? Date
        Thread.sleep(forTimeInterval: 1.5)
        let after = try FileManager.default.attributesOfItem(atPath: r.scratch.file("out/app.conf"))[.modificationDate] as? Date
        #expect(before == after)
        #expect(!r.log.contains("signal"))
        #expect(stop(r) == 4)
    }

    @Test("SIGHUP with a broken configuration keeps the old one; a good one is applied")
    func reload() throws {
        let r = try startAgent(poll: "10m")
        r.scratch.write("agent.yaml", "poll: 1s\nunknown_key: 1\n")
        kill(r.process.processIdentifier, SIGHUP)
        #expect(eventually { r.stderr.text(wait: false).contains("configuration refused") }, "\(r.stderr.text(wait: false))")
        #expect(r.process.isRunning)
        #expect(!r.log.contains("signal HUP"), "SIGHUP reloads the configuration; it is not forwarded")
        r.scratch.write("agent.yaml", config(r.scratch, poll: "10m", template: "pw={{ file:secrets.json#password }}"))
        kill(r.process.processIdentifier, SIGHUP)
        #expect(eventually { r.scratch.read("out/app.conf") == "pw=one" })
        #expect(eventually { r.log.contains("signal HUP") }, "the changed file reloads the child")
        #expect(stop(r) == 4)
    }

    @Test("with poll = 1s a rotation reaches the child's signal handler in under 2 s")
    func latency() throws {
        let r = try startAgent(poll: "1s")
        Thread.sleep(forTimeInterval: 0.3)
        let t0 = Date()
        r.scratch.write("secrets.json", #"{"password": "fast", "token": "t1"}"#)
        #expect(eventually(timeout: 5) { r.log.contains("signal HUP") })
        let latency = Date().timeIntervalSince(t0)
        #expect(latency < 2.0, "rotation latency \(latency)s")
        #expect(stop(r) == 4)
    }

    @Test("exec --no-watch supervises without re-fetching")
    func noWatch() throws {
        let s = Scratch()
        defer { s.remove() }
        s.write("secrets.json", #"{"password": "one"}"#)
        s.write("t", "{{ file:\(s.file("secrets.json"))#password }}")
        let (p, _, _) = try Agent.start(["exec", "--no-watch", "--poll", "100ms", "--template", "\(s.file("t")):\(s.path)/out.conf",
                                         "--", Agent.testChild, "--log", s.file("child.log")], environment: Agent.cleanEnvironment())
        #expect(eventually { (s.read("child.log") ?? "").contains("start") })
        #expect(s.read("out.conf") == "one")
        s.write("secrets.json", #"{"password": "two"}"#)
        Thread.sleep(forTimeInterval: 1)
        #expect(!(s.read("child.log") ?? "").contains("signal"))
        #expect(s.read("out.conf") == "one")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
    }
}
