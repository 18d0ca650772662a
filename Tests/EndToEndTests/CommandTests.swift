import Foundation
import Testing

/// The secret values every end-to-end test uses; none may appear in the agent's own output.
enum Fixture {
    static let user = "e2e-user-Qx7"
    static let password = "e2e-pa55-Zr9-secret"
    static let json = """
        {"username": "\(user)", "password": "\(password)", "db": {"host": "db.e2e", "port": 5432}}
        """

    static func secretsFile(in scratch: Scratch) -> String {
        scratch.write("secrets.json", json + "\n")
    }

    /// The agent's stderr must never show a value, whatever the log level.
    static func expectNoSecrets(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for v in [password, Data(password.utf8).base64EncodedString()] {
            #expect(!text.contains(v), "a secret value reached the agent's output", sourceLocation: sourceLocation)
        }
    }
}

@Suite("secret-agent get, render, check")
struct CommandTests {
    @Test("get prints one value with a newline, -n without; maps print as JSON")
    func get() throws {
        let s = Scratch()
        defer { s.remove() }
        let file = Fixture.secretsFile(in: s)
        var r = try Agent.run(["get", "--log-level", "trace", "file:\(file)#username"], environment: Agent.cleanEnvironment())
        #expect(r.status == 0)
        #expect(r.stdout == Fixture.user + "\n")
        Fixture.expectNoSecrets(r.stderr)
        r = try Agent.run(["get", "-n", "file:\(file)#/db/host"], environment: Agent.cleanEnvironment())
        #expect(r.stdout == "db.e2e")
        r = try Agent.run(["get", "file:\(file)#db"], environment: Agent.cleanEnvironment())
        #expect(r.stdout == "{\"host\":\"db.e2e\",\"port\":5432}\n")
    }

    @Test("get of a missing field or unknown scheme exits 65 without printing a value")
    func getErrors() throws {
        let s = Scratch()
        defer { s.remove() }
        let file = Fixture.secretsFile(in: s)
        var r = try Agent.run(["get", "file:\(file)#nope"], environment: Agent.cleanEnvironment())
        #expect(r.status == 65)
        #expect(r.stderr.contains("#nope"))
        Fixture.expectNoSecrets(r.output)
        r = try Agent.run(["get", "gcp:projects/x"], environment: Agent.cleanEnvironment())
        #expect(r.status == 65)
        #expect(r.stderr.contains("unknown scheme 'gcp:'"))
        r = try Agent.run(["get", "file:\(s.file("absent.json"))"], environment: Agent.cleanEnvironment())
        #expect(r.status == 65)
    }

    @Test("render TEMPLATE prints to stdout; -o writes relative to the working directory")
    func renderTemplate() throws {
        let s = Scratch()
        defer { s.remove() }
        _ = Fixture.secretsFile(in: s)
        s.write("t.mustache", "user={{ file:secrets.json#username }}\nauth={{#base64}}{{ file:secrets.json#username }}:{{ file:secrets.json#password }}{{/base64}}\n")
        var r = try Agent.run(["render", "t.mustache"], environment: Agent.cleanEnvironment(), cwd: s.path)
        #expect(r.status == 0)
        let auth = Data("\(Fixture.user):\(Fixture.password)".utf8).base64EncodedString()
        #expect(r.stdout == "user=\(Fixture.user)\nauth=\(auth)\n")
        r = try Agent.run(["render", "--log-level", "trace", "t.mustache", "-o", "out/t.conf"], environment: Agent.cleanEnvironment(), cwd: s.path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(s.read("out/t.conf") == "user=\(Fixture.user)\nauth=\(auth)\n")
        Fixture.expectNoSecrets(r.output)
    }

    @Test("a missing key exits 65 naming template, line and column, and writes nothing")
    func missingKey() throws {
        let s = Scratch()
        defer { s.remove() }
        _ = Fixture.secretsFile(in: s)
        s.write("t.mustache", "a={{ file:secrets.json#username }}\nb={{ file:secrets.json#password }}\nc={{ file:secrets.json#missing }}\n")
        let r = try Agent.run(["render", "t.mustache", "-o", "out.conf"], environment: Agent.cleanEnvironment(), cwd: s.path)
        #expect(r.status == 65)
        #expect(r.stderr.contains("t.mustache:3:3"), "\(r.stderr)")
        #expect(r.stderr.contains("#missing"))
        #expect(!s.exists("out.conf"))
        Fixture.expectNoSecrets(r.output)
        #expect(!r.output.contains(Fixture.user))
    }

    @Test("malformed YAML exits 78 naming the line")
    func malformedYAML() throws {
        let s = Scratch()
        defer { s.remove() }
        s.write("agent.yaml", "poll: 5m\ntemplates:\n  - source: t\n    destination: [x\n")
        let r = try Agent.run(["render", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment())
        #expect(r.status == 78)
        #expect(r.stderr.contains("agent.yaml:"), "\(r.stderr)")
        #expect(r.stderr.range(of: #"agent\.yaml:\d+:\d+: not valid YAML"#, options: .regularExpression) != nil, "\(r.stderr)")
    }

    @Test("an unknown configuration key exits 78 naming it")
    func unknownKey() throws {
        let s = Scratch()
        defer { s.remove() }
        s.write("agent.yaml", "poll: 5m\npolll: 1m\n")
        let r = try Agent.run(["check", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment())
        #expect(r.status == 78)
        #expect(r.stderr.contains("unknown key 'polll'"))
    }

    @Test("a destination that is not on tmpfs is refused with 73 and nothing is written")
    func diskRefused() throws {
        let shm = Scratch()
        let disk = Scratch(onTmpfs: false)
        defer { shm.remove(); disk.remove() }
        _ = Fixture.secretsFile(in: shm)
        shm.write("agent.yaml", """
            output_dir: \(shm.path)/out
            templates:
              - contents: "{{ file:secrets.json#username }}"
                destination: ok.txt
              - contents: "{{ file:secrets.json#password }}"
                destination: \(disk.path)/refused.txt
            """)
        let r = try Agent.run(["render", "--config", shm.file("agent.yaml")], environment: Agent.cleanEnvironment())
        #expect(r.status == 73, "\(r.stderr)")
        #expect(r.stderr.contains("not on tmpfs"))
        #expect(!disk.exists("refused.txt"))
        #expect(!shm.exists("out/ok.txt"), "nothing is written when one destination is refused")
        // --allow-disk overrides.
        let ok = try Agent.run(["render", "--allow-disk", "--config", shm.file("agent.yaml")], environment: Agent.cleanEnvironment())
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(disk.read("refused.txt") == Fixture.password)
    }

    @Test("rendered files are mode 0600 by default, the configured mode otherwise")
    func modes() throws {
        let s = Scratch()
        defer { s.remove() }
        _ = Fixture.secretsFile(in: s)
        s.write("agent.yaml", """
            output_dir: \(s.path)/out
            templates:
              - contents: "{{ file:secrets.json#username }}"
                destination: default.txt
              - contents: "{{ file:secrets.json#username }}"
                destination: sub/dir/read-only.txt
                mode: "0400"
            """)
        let r = try Agent.run(["render", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment())
        #expect(r.status == 0, "\(r.stderr)")
        let fm = FileManager.default
        let a = try fm.attributesOfItem(atPath: s.file("out/default.txt"))[.posixPermissions] as? Int
        let b = try fm.attributesOfItem(atPath: s.file("out/sub/dir/read-only.txt"))[.posixPermissions] as? Int
        let d = try fm.attributesOfItem(atPath: s.file("out/sub/dir"))[.posixPermissions] as? Int
        #expect(a == 0o600)
        #expect(b == 0o400)
        #expect(d == 0o700)
        #expect(s.read("out/default.txt") == Fixture.user)
    }

    @Test("check lists references by backend and --online proves them without values")
    func check() throws {
        let s = Scratch()
        defer { s.remove() }
        _ = Fixture.secretsFile(in: s)
        s.write("agent.yaml", """
            templates:
              - contents: "{{ file:secrets.json#password }} {{ env:HOME }}"
                destination: \(s.path)/x
            exec:
              env:
                MISSING: "{{ file:secrets.json#nope }}"
            """)
        let offline = try Agent.run(["check", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment())
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(offline.stdout.contains("file:\n"))
        #expect(offline.stdout.contains("env:\n  env:HOME"))
        let online = try Agent.run(["check", "--online", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment())
        #expect(online.status == 65)
        #expect(online.stdout.contains("file:secrets.json#password  OK"))
        #expect(online.stdout.contains("file:secrets.json#nope  MISSING"))
        Fixture.expectNoSecrets(online.output)
        #expect(!s.exists("x"), "check writes nothing")
    }

    @Test("usage errors exit 64")
    func usage() throws {
        let r = try Agent.run(["render", "-o", "x"], environment: Agent.cleanEnvironment())
        #expect(r.status == 64)
        let r2 = try Agent.run(["exec", "--env", "NOEQUALS", "--", "true"], environment: Agent.cleanEnvironment())
        #expect(r2.status == 64)
        // plan --replicas: a fleet from 1 to 1,000,000 agents; the fleet's flags need it.
        for flags in [["--replicas", "0"], ["--replicas", "5000000"], ["--ssm-quota", "100"], ["--replicas", "10", "--max-quota-share", "0"]] {
            let r3 = try Agent.run(["plan", "--env", "A={{ ssm:/a }}"] + flags, environment: Agent.cleanEnvironment())
            #expect(r3.status == 64, "plan \(flags)")
        }
        let fleet = try Agent.run(["plan", "--env", "A={{ ssm:/a }}", "--replicas", "1000000"], environment: Agent.cleanEnvironment())
        #expect(fleet.status == 0)
        #expect(fleet.stdout.contains("all 1,000,000 agents can have started after 25,000 s at the least"))
    }
}

@Suite("mount_tmpfs")
struct MountTmpfsTests {
    @Test("as root, mount_tmpfs mounts a private tmpfs on a disk output_dir", .enabled(if: getuid() == 0))
    func mountTmpfs() throws {
        let s = Scratch()
        let disk = Scratch(onTmpfs: false)
        defer {
            _ = try? Agent.runTool("/bin/umount", [disk.file("out")])
            s.remove()
            disk.remove()
        }
        _ = Fixture.secretsFile(in: s)
        s.write("agent.yaml", """
            output_dir: \(disk.path)/out
            mount_tmpfs: true
            templates:
              - contents: "{{ file:secrets.json#username }}"
                destination: u
            """)
        let r = try Agent.run(["render", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment())
        #expect(r.status == 0, "\(r.stderr)")
        #expect(disk.read("out/u") == Fixture.user)
        let fsType = try Agent.runTool("/usr/bin/stat", ["-f", "-c", "%T", disk.file("out")])
        #expect(fsType.trimmingCharacters(in: .whitespacesAndNewlines) == "tmpfs")
    }
}

extension Agent {
    /// Runs a system tool and returns its stdout.
    static func runTool(_ path: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
