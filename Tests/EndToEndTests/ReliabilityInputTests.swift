import Foundation
import Testing

/// Bad input: each is refused with a message that says what is wrong, the documented exit
/// status, nothing written and no value printed. And the other way round: large, binary and
/// CRLF inputs go through byte for byte.
@Suite("Reliability: bad and unusual input", .serialized)
struct ReliabilityInputTests {
    static let password = distinctiveSecret("input-pw")

    struct BadCase: CustomTestStringConvertible, Sendable {
        var name: String
        /// The configuration after a first, valid template (so "nothing written" means something).
        var yaml: String
        var status: Int32
        var fragments: [String]
        var testDescription: String { name }
    }

    /// Every configuration starts with a good template writing `ok.txt`; `$S` is the scratch directory.
    static let badConfigs: [BadCase] = [
        BadCase(name: "malformed YAML", yaml: "  - contents: \"x\"\n    destination: [x\n", status: 78, fragments: ["agent.yaml:", "not valid YAML"]),
        BadCase(name: "tab indentation", yaml: "\t- contents: x\n", status: 78, fragments: ["not valid YAML"]),
        BadCase(name: "unknown top-level key", yaml: "output_dirr: /tmp\n", status: 78, fragments: ["unknown key 'output_dirr'"]),
        BadCase(name: "unknown template key", yaml: "  - contents: x\n    destinaton: y\n", status: 78,
                fragments: ["unknown key 'templates[1].destinaton'", "known keys here"]),
        BadCase(name: "unknown exec key", yaml: "exec:\n  commmand: [true]\n", status: 78, fragments: ["unknown key 'exec.commmand'"]),
        BadCase(name: "unknown aws key", yaml: "aws:\n  regoin: us-east-1\n", status: 78, fragments: ["regoin"]),
        BadCase(name: "unknown vault key", yaml: "vault:\n  adress: http://x\n", status: 78, fragments: ["adress"]),
        BadCase(name: "poll is a list", yaml: "poll: [1]\n", status: 78, fragments: ["'poll' must be"]),
        BadCase(name: "poll without unit", yaml: "poll: 5 minutes\n", status: 78, fragments: ["'poll' must be a duration"]),
        BadCase(name: "poll too short", yaml: "poll: 10ms\n", status: 78, fragments: ["poll must be at least"]),
        BadCase(name: "exec.env is a list", yaml: "exec:\n  env: [a, b]\n", status: 78, fragments: ["exec.env"]),
        BadCase(name: "mode is not octal", yaml: "  - contents: x\n    destination: m\n    mode: rw-r--r--\n", status: 78,
                fragments: ["mode must be octal"]),
        BadCase(name: "allow_disk is not a boolean", yaml: "allow_disk: maybe\n", status: 78, fragments: ["'allow_disk' must be true or false"]),
        BadCase(name: "exec.command is a mapping", yaml: "exec:\n  command: {a: 1}\n", status: 78, fragments: ["'exec.command' must be a list"]),
        BadCase(name: "unquoted {{", yaml: "exec:\n  env:\n    A: {{ file:secrets.json#password }}\n", status: 78, fragments: ["must be quoted"]),
        BadCase(name: "bad variable name", yaml: "exec:\n  env:\n    \"A=B\": x\n", status: 78, fragments: ["not a valid variable name"]),
        BadCase(name: "unknown signal", yaml: "exec:\n  reload_signal: SIGFOO\n", status: 78, fragments: ["SIGFOO"]),
        BadCase(name: "unknown on_change", yaml: "  - contents: x\n    destination: m\n    on_change: reboot\n", status: 78, fragments: ["reboot"]),
        BadCase(name: "unknown auth method", yaml: "vault:\n  auth:\n    method: magic\n", status: 78, fragments: ["magic"]),
        BadCase(name: "two templates, one destination", yaml: "  - contents: x\n    destination: ok.txt\n", status: 78, fragments: ["two templates write"]),
        BadCase(name: "missing template source", yaml: "  - source: nope.mustache\n    destination: m\n", status: 78, fragments: ["nope.mustache"]),
        BadCase(name: "unknown scheme", yaml: "  - contents: \"{{ gcp:projects/x }}\"\n    destination: m\n", status: 65,
                fragments: ["unknown scheme 'gcp:'", ":1:"]),
        BadCase(name: "malformed reference", yaml: "  - contents: \"{{ ssm: }}\"\n    destination: m\n", status: 65, fragments: ["ssm:"]),
        BadCase(name: "unclosed section", yaml: "  - contents: \"a\\n{{#file:secrets.json}}{{password}}\"\n    destination: m\n", status: 65,
                fragments: ["unclosed section", ":2:1"]),
        BadCase(name: "mismatched close", yaml: "  - contents: \"{{#file:secrets.json}}{{/file:other.json}}\"\n    destination: m\n", status: 65,
                fragments: ["does not match"]),
        BadCase(name: "bad delimiter tag", yaml: "  - contents: \"{{=<% %>}} x\"\n    destination: m\n", status: 65, fragments: ["=}}"]),
        BadCase(name: "bad delimiter pair", yaml: "  - contents: \"{{= | =}}\"\n    destination: m\n", status: 65, fragments: ["set-delimiter"]),
        BadCase(name: "unknown filter", yaml: "  - contents: \"{{ file:secrets.json#password | rot13 }}\"\n    destination: m\n", status: 65,
                fragments: ["unknown filter 'rot13'"]),
        BadCase(name: "filter without its argument", yaml: "  - contents: \"{{ file:secrets.json#password | default }}\"\n    destination: m\n",
                status: 65, fragments: ["default"]),
        BadCase(name: "missing partial", yaml: "  - contents: \"{{> nope }}\"\n    destination: m\n", status: 65, fragments: ["partial 'nope'"]),
        BadCase(name: "missing field", yaml: "  - contents: \"{{ file:secrets.json#nope }}\"\n    destination: m\n", status: 65, fragments: ["#nope"]),
        BadCase(name: "#field of a value that is not JSON", yaml: "  - contents: \"{{ file:plain.txt#field }}\"\n    destination: m\n",
                status: 65, fragments: ["not a JSON object"]),
        BadCase(name: "JSON pointer into a string", yaml: "  - contents: \"{{ file:secrets.json#/password/x }}\"\n    destination: m\n",
                status: 65, fragments: ["#/password/x"]),
        BadCase(name: "NUL byte into the environment", yaml: "exec:\n  command: [true]\n  env:\n    B: \"{{ file:nul.bin }}\"\n", status: 65,
                fragments: ["NUL", "| base64"]),
        BadCase(name: "invalid UTF-8 into the environment", yaml: "exec:\n  command: [true]\n  env:\n    B: \"{{ file:latin1.bin }}\"\n",
                status: 65, fragments: ["not valid UTF-8", "| base64"]),
        BadCase(name: "destination is a directory", yaml: "  - contents: x\n    destination: adir\n", status: 73, fragments: ["is a directory"]),
        BadCase(name: "destination on disk", yaml: "  - contents: x\n    destination: /tmp/secret-agent-rel-refused.txt\n", status: 73,
                fragments: ["not on tmpfs"]),
    ]

    func scratch() -> Scratch {
        let s = Scratch()
        s.write("secrets.json", #"{"password": "\#(Self.password)", "user": "u"}"#)
        s.write("plain.txt", Self.password + "-not-json")
        _ = FileManager.default.createFile(atPath: s.file("nul.bin"), contents: Data(Array("pw\0".utf8) + Array(Self.password.utf8)))
        _ = FileManager.default.createFile(atPath: s.file("latin1.bin"), contents: Data([0x70, 0xE9, 0xFF]) + Data(Self.password.utf8))
        try? FileManager.default.createDirectory(atPath: s.file("out/adir"), withIntermediateDirectories: true)
        return s
    }

    /// Regular files under out/ (the directory `adir` is there on purpose).
    func written(_ s: Scratch) -> [String] {
        (FileManager.default.enumerator(atPath: s.file("out"))?.compactMap { $0 as? String } ?? []).filter {
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: s.file("out/\($0)"), isDirectory: &isDir) && !isDir.boolValue
        }
    }

    @Test("a bad configuration or template: a clear message, the documented status, nothing written, no value printed",
          arguments: badConfigs)
    func refused(_ c: BadCase) throws {
        let s = scratch()
        defer { s.remove() }
        let tail = c.yaml.hasPrefix("  - ") ? c.yaml : ""
        let rest = c.yaml.hasPrefix("  - ") ? "" : c.yaml
        s.write("agent.yaml", """
            output_dir: \(s.path)/out
            templates:
              - contents: "{{ file:secrets.json#password }}"
                destination: ok.txt
            \(tail)\(rest)
            """)
        let command = c.yaml.contains("exec:") ? ["exec", "--config", s.file("agent.yaml")] : ["render", "--config", s.file("agent.yaml")]
        let r = try Agent.run(command + ["--log-level", "trace"], environment: Agent.cleanEnvironment())
        #expect(r.status == c.status, "\(c.name): \(r.stderr)")
        for fragment in c.fragments { #expect(r.stderr.contains(fragment), "\(c.name): '\(fragment)' in \(r.stderr)") }
        #expect(r.stderr.contains("secret-agent: "), "\(c.name): one error line")
        #expect(written(s).isEmpty, "\(c.name): nothing written, found \(written(s))")
        #expect(!r.output.contains(Self.password), "\(c.name): no value printed")
        #expect(r.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/secret-agent-rel-refused.txt"))
    }

    @Test("--env and the command line: bad references and values are refused the same way")
    func commandLine() throws {
        let s = scratch()
        defer { s.remove() }
        let cases: [([String], Int32, String)] = [
            (["exec", "--env", "B={{ file:\(s.file("nul.bin")) }}", "--", "true"], 65, "NUL"),
            (["exec", "--env", "B={{ file:\(s.file("latin1.bin")) }}", "--", "true"], 65, "not valid UTF-8"),
            (["exec", "--env", "B={{ gcp:x }}", "--", "true"], 65, "unknown scheme"),
            (["exec", "--env", "B={{ file:\(s.file("plain.txt"))#f }}", "--", "true"], 65, "not a JSON object"),
            (["exec", "--env", "=x", "--", "true"], 64, "NAME=TEMPLATE"),
            (["exec", "--poll", "soon", "--", "true"], 64, "--poll"),
            (["exec", "--template", "nocolon", "--", "true"], 64, "SRC:DEST"),
            (["get", "file:\(s.file("secrets.json"))#/password/0"], 65, "#/password/0"),
            (["render", "--config", s.file("absent.yaml")], 78, "absent.yaml"),
        ]
        for (arguments, status, fragment) in cases {
            let r = try Agent.run(arguments, environment: Agent.cleanEnvironment(), cwd: s.path)
            #expect(r.status == status, "\(arguments): \(r.stderr)")
            #expect(r.stderr.contains(fragment), "\(arguments): \(r.stderr)")
            #expect(!r.output.contains(Self.password))
        }
    }

    // Found by fuzzing the configuration loader (Tests/Fuzz/config.swift): ConfigNode.describe
    // splits the text on "\n" only, so with CRLF (or CR) line ends a YAML error past line 3 makes
    // `lines[max(0, line - 3)..<min(lines.count, line)]` an inverted range: the agent traps
    // (SIGILL, exit 132) instead of exiting 78 — and a SIGHUP reload of such a file kills a
    // running agent instead of refusing the file.
    @Test("--poll 10ms is refused with the same message and status as poll: 10ms in the file, for every command that polls")
    func pollFlagLikeFile() throws {
        let s = scratch()
        defer { s.remove() }
        s.write("fast.yaml", "poll: 10ms\noutput_dir: \(s.path)/out\ntemplates:\n  - contents: x\n    destination: a\n")
        s.write("slow.yaml", "output_dir: \(s.path)/out\ntemplates:\n  - contents: x\n    destination: a\n")
        let file = try Agent.run(["run", "--config", s.file("fast.yaml")], environment: Agent.cleanEnvironment())
        #expect(file.status == 78, "\(file.stderr)")
        #expect(file.stderr.contains("poll must be at least 100ms (got 10ms)"), "\(file.stderr)")
        for arguments in [["run", "--config", s.file("slow.yaml"), "--poll", "10ms"],
                          ["exec", "--config", s.file("slow.yaml"), "--poll", "10ms", "--", "true"]] {
            let flag = try Agent.run(arguments, environment: Agent.cleanEnvironment())
            #expect(flag.status == file.status, "\(arguments): \(flag.stderr)")
            #expect(flag.stderr == file.stderr, "\(arguments): the same one-line message")
        }
        #expect(written(s).isEmpty)
    }

    @Test("a CRLF configuration with a YAML error exits 78 naming the line; on SIGHUP it is refused and the agent keeps running",
          )
    func crlfYAMLError() throws {
        let s = scratch()
        defer { s.remove() }
        let broken = "poll: 5m\r\noutput_dir: \(s.path)/out\r\ntemplates:\r\n  - contents: x\r\n    destination: a\r\n  - contents: [y\r\n"
        s.write("agent.yaml", broken)
        let r = try Agent.run(["check", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment())
        #expect(r.status == 78, "\(r.stderr.prefix(300))")
        #expect(r.stderr.contains("not valid YAML"))
        let cr = try Agent.run(["check", "--config", s.write("cr.yaml", broken.replacingOccurrences(of: "\r\n", with: "\r"))],
                               environment: Agent.cleanEnvironment())
        #expect(cr.status == 78, "\(cr.stderr.prefix(300))")
        // A running agent refuses the broken file on SIGHUP and keeps going.
        s.write("agent.yaml", "poll: 5m\r\noutput_dir: \(s.path)/out\r\ntemplates:\r\n  - contents: \"{{ file:secrets.json#user }}\"\r\n    destination: a\r\n")
        let (p, _, err) = try Agent.start(["run", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment())
        let stderr = Collector(err)
        #expect(eventually { s.read("out/a") == "u" }, "a CRLF configuration without errors works: \(stderr.text(wait: false))")
        s.write("agent.yaml", broken)
        kill(p.processIdentifier, SIGHUP)
        #expect(eventually { stderr.text(wait: false).contains("configuration refused") })
        #expect(p.isRunning)
        #expect(finish(p) == 0)
    }

    @Test("a CRLF configuration without errors works like an LF one")
    func crlfConfig() throws {
        let s = scratch()
        defer { s.remove() }
        s.write("agent.yaml", "poll: 5m\r\noutput_dir: \(s.path)/out\r\ntemplates:\r\n  - contents: \"{{ file:secrets.json#user }}\"\r\n    destination: a\r\n    mode: \"0640\"\r\n")
        let r = try Agent.run(["render", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment())
        #expect(r.status == 0, "\(r.stderr)")
        #expect(s.read("out/a") == "u")
        #expect((try FileManager.default.attributesOfItem(atPath: s.file("out/a"))[.posixPermissions] as? Int) == 0o640)
    }

    // MARK: Destinations

    func render(_ s: Scratch, destination: String, outputDir: String? = nil) throws -> Agent.Result {
        s.write("agent.yaml", """
            output_dir: \(outputDir ?? s.path + "/out")
            templates:
              - contents: "{{ file:secrets.json#password }}"
                destination: \(destination)
            """)
        return try Agent.run(["render", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment())
    }

    @Test("a relative destination stays under output_dir: '..' that stays inside is fine")
    func dotDotInside() throws {
        let s = scratch()
        defer { s.remove() }
        let r = try render(s, destination: "sub/../inside.txt")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(s.read("out/inside.txt") == Self.password)
    }

    @Test("a relative destination that escapes output_dir with '..' is refused (78), nothing written",
)
    func dotDotEscape() throws {
        let s = scratch()
        defer { s.remove() }
        for destination in ["../escaped.txt", "sub/../../escaped.txt", "./../out/../escaped.txt"] {
            let r = try render(s, destination: destination)
            #expect(r.status == 78, "\(destination): \(r.stderr)")
            #expect(r.stderr.contains("output_dir"), "\(r.stderr)")
            #expect(!s.exists("escaped.txt"))
        }
    }

    @Test("a destination that is a symlink is replaced by the file; the symlink's target is never written")
    func symlinkedFile() throws {
        let s = scratch()
        defer { s.remove() }
        s.write("victim.txt", "victim")
        try FileManager.default.createDirectory(atPath: s.file("out"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: s.file("out/link.txt"), withDestinationPath: s.file("victim.txt"))
        let r = try render(s, destination: "link.txt")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(s.read("victim.txt") == "victim", "the target of the symlink is untouched")
        let type = try FileManager.default.attributesOfItem(atPath: s.file("out/link.txt"))[.type] as? FileAttributeType
        #expect(type == .typeRegular)
        #expect(s.read("out/link.txt") == Self.password)
    }

    @Test("a relative destination through a symlinked directory that leads out of output_dir is refused (73)",
)
    func symlinkedDirectory() throws {
        let s = scratch()
        defer { s.remove() }
        try FileManager.default.createDirectory(atPath: s.file("elsewhere"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: s.file("out"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: s.file("out/sub"), withDestinationPath: s.file("elsewhere"))
        let r = try render(s, destination: "sub/app.conf")
        #expect(r.status == 73, "\(r.stderr)")
        #expect(r.stderr.contains("symlink") || r.stderr.contains("output_dir"), "\(r.stderr)")
        #expect(!s.exists("elsewhere/app.conf"))
    }

    @Test("an output directory writable by other users (no sticky bit) is refused (73), nothing written",
)
    func worldWritable() throws {
        let s = scratch()
        defer { s.remove() }
        try FileManager.default.createDirectory(atPath: s.file("out"), withIntermediateDirectories: true)
        chmod(s.file("out"), 0o777)
        let r = try render(s, destination: "app.conf")
        #expect(r.status == 73, "\(r.stderr)")
        #expect(r.stderr.contains("writable"), "\(r.stderr)")
        #expect(!s.exists("out/app.conf"))
        // A world-writable subdirectory on the way is refused the same way.
        chmod(s.file("out"), 0o700)
        try FileManager.default.createDirectory(atPath: s.file("out/shared"), withIntermediateDirectories: true)
        chmod(s.file("out/shared"), 0o777)
        let sub = try render(s, destination: "shared/app.conf")
        #expect(sub.status == 73, "\(sub.stderr)")
        #expect(!s.exists("out/shared/app.conf"))
    }

    @Test("a sticky world-writable output_dir is refused (73); an absolute destination in a root-owned sticky directory (like /dev/shm) is accepted")
    func stickyDirectory() throws {
        let s = scratch()
        defer { s.remove() }
        try FileManager.default.createDirectory(atPath: s.file("out"), withIntermediateDirectories: true)
        chmod(s.file("out"), 0o1777)
        let r = try render(s, destination: "app.conf")
        #expect(r.status == 73, "output_dir must be the agent's own: \(r.stderr)")
        #expect(r.stderr.contains("mode 01777"), "\(r.stderr)")
        #expect(!s.exists("out/app.conf"))
        let absolute = try render(s, destination: s.file("out/app.conf"))
        #expect(absolute.status == 0, "other users cannot replace the file there: \(absolute.stderr)")
        let mode = try FileManager.default.attributesOfItem(atPath: s.file("out/app.conf"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    // MARK: The other way round

    /// Random bytes of every value (NUL, 0xFF, invalid UTF-8), not ending in a newline.
    static func binary(_ count: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &g) }
        bytes[count - 1] = 0x21
        bytes[0] = 0
        bytes[1] = 0xFF
        return bytes
    }

    @Test("a 1 MiB binary secret reaches a file byte for byte, and through base64 and back")
    func oneMebibyteFile() throws {
        let s = scratch()
        defer { s.remove() }
        let big = Self.binary(1 << 20)
        _ = FileManager.default.createFile(atPath: s.file("big.bin"), contents: Data(big))
        s.write("agent.yaml", """
            output_dir: \(s.path)/out
            templates:
              - contents: "{{ file:big.bin }}"
                destination: raw.bin
              - contents: "{{ file:big.bin | base64 }}"
                destination: b64.txt
              - contents: "{{ file:big.bin | base64 | base64decode }}"
                destination: roundtrip.bin
            """)
        let r = try Agent.run(["render", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment())
        #expect(r.status == 0, "\(r.stderr)")
        let raw = FileManager.default.contents(atPath: s.file("out/raw.bin")).map { [UInt8]($0) } == big
        let b64 = s.read("out/b64.txt") == Data(big).base64EncodedString()
        let roundtrip = FileManager.default.contents(atPath: s.file("out/roundtrip.bin")).map { [UInt8]($0) } == big
        #expect(raw && b64 && roundtrip, "raw \(raw), base64 \(b64), round trip \(roundtrip)")
    }

    @Test("a 1 MiB secret from Vault KV reaches a file intact", .enabled(if: Servers.vaultEnabled))
    func oneMebibyteVault() throws {
        let s = scratch()
        defer { s.remove() }
        let id = UUID().uuidString.prefix(8)
        let text = String((0..<(1 << 20)).map { i in Character(Unicode.Scalar(UInt8(33 + (i * 7919) % 90))) }).replacingOccurrences(of: "\\", with: "/")
            .replacingOccurrences(of: "\"", with: "'")
        // Through a file: 1 MiB is more than one command-line argument may hold.
        let body = s.write("body.json", #"{"data": {"big": "\#(text)"}}"#)
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        curl.arguments = ["curl", "-sf", "-o", "/dev/null", "-X", "POST", "-H", "X-Vault-Token: \(try Servers.value("SECRET_AGENT_TEST_VAULT_TOKEN"))",
                          "--data-binary", "@\(body)", try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR") + "/v1/secret/data/rel-big/\(id)"]
        try curl.run()
        curl.waitUntilExit()
        #expect(curl.terminationStatus == 0, "seeding 1 MiB into Vault")
        s.write("agent.yaml", """
            output_dir: \(s.path)/out
            templates:
              - contents: "{{ vault:secret/rel-big/\(id)#big }}"
                destination: big.txt
            """)
        let r = try Agent.run(["render", "--config", s.file("agent.yaml")],
                              environment: Agent.cleanEnvironment(["VAULT_ADDR": try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR"),
                                                                   "VAULT_TOKEN": try Servers.value("SECRET_AGENT_TEST_VAULT_TOKEN")]))
        #expect(r.status == 0, "\(r.stderr)")
        let intact = s.read("out/big.txt") == text
        #expect(intact, "\(s.read("out/big.txt")?.count ?? -1) of \(text.count) bytes")
    }

    @Test("a binary Secrets Manager secret (SecretBinary) lands raw in a file and as base64 in the environment",
          .enabled(if: Servers.motoEnabled))
    func binarySecretsManager() throws {
        let s = scratch()
        defer { s.remove() }
        let binary: [UInt8] = [0, 1, 2, 0xFE, 0xFF] + Array("binary".utf8) + [0x80] + Array("secret".utf8)
        s.write("t.mustache", "{{ sm:sa-test/binary }}")
        let r = try Agent.run(["exec", "--keep-files", "--template", "\(s.file("t.mustache")):\(s.path)/out/binary.bin", "--env", "B64={{ sm:sa-test/binary | base64 }}",
                               "--", Agent.testChild, "--print-env", "B64", "--stop-after", "0"], environment: try Servers.awsEnvironment())
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.contents(atPath: s.file("out/binary.bin")).map { [UInt8]($0) } == binary)
        #expect(r.stdout == "B64=\(Data(binary).base64EncodedString())\n")
        // Raw into the environment is refused: it holds a NUL byte.
        let raw = try Agent.run(["exec", "--env", "B={{ sm:sa-test/binary }}", "--", "true"], environment: try Servers.awsEnvironment())
        #expect(raw.status == 65)
        #expect(raw.stderr.contains("NUL"))
    }

    @Test("a CRLF template keeps its line endings through sections, comments, each and standalone lines")
    func crlfTemplate() throws {
        let s = scratch()
        defer { s.remove() }
        s.write("t.mustache", [
            "[db]", "{{! a comment }}", "{{#file:secrets.json}}", "user = {{user}}", "{{/file:secrets.json}}",
            "{{#each file:secrets.json}}", "{{key}}: {{value | base64}}", "{{/each}}", "{{^file:secrets.json#absent}}", "no absent", "{{/file:secrets.json#absent}}", "end", "",
        ].joined(separator: "\r\n"))
        let r = try Agent.run(["render", "t.mustache", "-o", "out/crlf.conf"], environment: Agent.cleanEnvironment(), cwd: s.path)
        #expect(r.status == 0, "\(r.stderr)")
        let pw64 = Data(Self.password.utf8).base64EncodedString()
        let expected = ["[db]", "user = u", "password: \(pw64)", "user: dQ==", "no absent", "end", ""].joined(separator: "\r\n")
        #expect(s.read("out/crlf.conf") == expected)
        #expect(!(s.read("out/crlf.conf") ?? "").replacingOccurrences(of: "\r\n", with: "").contains("\n"), "no bare LF")
    }

    @Test("environment values: 100 KiB passes intact; beyond Linux's 128 KiB per variable the start is refused clearly")
    func largeEnvironment() throws {
        let s = scratch()
        defer { s.remove() }
        s.write("mid.txt", String(repeating: "m", count: 100 * 1024))
        s.write("big.txt", String(repeating: "b", count: 200 * 1024))
        let ok = try Agent.run(["exec", "--env", "MID={{ file:mid.txt }}", "--", "sh", "-c", "echo ${#MID}"], environment: Agent.cleanEnvironment(), cwd: s.path)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "\(100 * 1024)\n")
        let big = try Agent.run(["exec", "--env", "BIG={{ file:big.txt }}", "--", "sh", "-c", "touch started"], environment: Agent.cleanEnvironment(), cwd: s.path)
        #expect(big.status == 65 || big.status == 126, "\(big.stderr)")
        #expect(big.stderr.contains("too long") || big.stderr.contains("128 KiB"), "\(big.stderr)")
        #expect(!s.exists("started"))
    }
}
