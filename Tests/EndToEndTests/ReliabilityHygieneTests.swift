import Foundation
import SecretAgentCore
import Testing

/// Secrets stay secret: no value (nor its base64) in anything the agent prints at any log level,
/// on any path (success, rotation, reload, errors, health and metrics); never on a command line;
/// the agent is not dumpable and has no core limit; the child's environment is exactly the
/// configured one.
@Suite("Reliability: secret hygiene", .serialized)
struct ReliabilityHygieneTests {
    /// Runs the agent to the end and scans everything it printed.
    func scanned(_ scan: inout SecretScan, _ label: String, _ arguments: [String], environment: [String: String], cwd: String? = nil,
                 stdoutIsValue: Bool = false, expect status: Int32? = nil) throws -> Agent.Result {
        let r = try Agent.run(arguments, environment: environment, cwd: cwd)
        if let status { #expect(r.status == status, "\(label): \(r.stderr.suffix(600))") }
        scan.scan(r.stderr, from: "\(label) stderr")
        if !stdoutIsValue { scan.scan(r.stdout, from: "\(label) stdout") }
        return r
    }

    /// A `run` that lives through rotations, a reload and a write-back; everything it printed is scanned.
    func runScenario(_ scan: inout SecretScan, _ label: String, config: String, scratch s: Scratch, environment: [String: String],
                     listen: Bool = false, during: (Scratch) throws -> Void) throws {
        s.write("agent.yaml", config)
        let port = listen ? Int.random(in: 20000...60000) : 0
        let (p, out, err) = try Agent.start(["run", "--log-level", "trace", "--config", s.file("agent.yaml")]
                                            + (listen ? ["--listen", "127.0.0.1:\(port)"] : []), environment: environment)
        let stdout = Collector(out), stderr = Collector(err)
        #expect(eventually(timeout: 20) { s.exists("out/app.conf") }, "\(label): \(stderr.text(wait: false).suffix(600))")
        try during(s)
        if listen {
            for path in ["healthz", "metrics"] {
                let body = httpGet("http://127.0.0.1:\(port)/\(path)")
                #expect(!body.isEmpty, "\(label): /\(path) answered")
                scan.scan(body, from: "\(label) /\(path)")
            }
        }
        // A reload with the same file, and a rendered file tampered with (written back).
        kill(p.processIdentifier, SIGHUP)
        Thread.sleep(forTimeInterval: 0.5)
        s.write("out/app.conf", "tampered")
        _ = eventually(timeout: 5) { s.read("out/app.conf") != "tampered" }
        finish(p)
        scan.scan(stderr.text(), from: "\(label) stderr")
        scan.scan(stdout.text(), from: "\(label) stdout")
    }

    @Test("every scenario at --log-level trace (text and JSON): no value and no base64 of a value in any output")
    func traceScan() throws {
        var scan = SecretScan()
        let s = Scratch()
        defer { s.remove() }
        let (pw1, pw2, token1, token2) = (distinctiveSecret("file-pw1"), distinctiveSecret("file-pw2"), distinctiveSecret("file-tok1"), distinctiveSecret("file-tok2"))
        for (name, value) in [("pw1", pw1), ("pw2", pw2), ("token1", token1), ("token2", token2)] { scan.add("file: \(name)", value) }
        let binary = Array("bin\0".utf8) + Array(distinctiveSecret("file-bin").utf8) + [0xFF]
        scan.add("file: binary", binary)
        _ = FileManager.default.createFile(atPath: s.file("binary.bin"), contents: Data(binary))
        s.write("secrets.json", #"{"password": "\#(pw1)", "token": "\#(token1)", "db": {"password": "\#(pw1)"}}"#)
        s.write("plain.txt", pw2)
        let env = Agent.cleanEnvironment(["INHERITED": "{{ file:\(s.file("secrets.json"))#token }}"])
        let file = s.file("secrets.json")

        // One-shot commands, every format.
        for format in ["text", "json"] {
            let log = ["--log-level", "trace", "--log-format", format]
            _ = try scanned(&scan, "get (\(format))", ["get"] + log + ["file:\(file)#password"], environment: env, stdoutIsValue: true, expect: 0)
            _ = try scanned(&scan, "get map (\(format))", ["get"] + log + ["file:\(file)#db"], environment: env, stdoutIsValue: true, expect: 0)
            s.write("t.mustache", "pw={{ file:secrets.json#password }} auth={{#base64}}u:{{ file:secrets.json#password }}{{/base64}} bin={{ file:binary.bin | base64 }}\n")
            _ = try scanned(&scan, "render -o (\(format))", ["render"] + log + ["t.mustache", "-o", "out/t.conf"], environment: env, cwd: s.path, expect: 0)
            _ = try scanned(&scan, "render stdout (\(format))", ["render"] + log + ["t.mustache"], environment: env, cwd: s.path, stdoutIsValue: true, expect: 0)
            _ = try scanned(&scan, "exec (\(format))", ["exec"] + log + ["--env", "PW={{ file:\(file)#password }}", "--env", "B={{ file:\(s.file("binary.bin")) | base64 }}",
                                                                       "--env-from", "file:\(file)", "--", Agent.testChild, "--log", s.file("child.log"), "--dump-env", "--stop-after", "0"],
                            environment: env, expect: 0)
            s.write("check.yaml", "templates:\n  - contents: \"{{ file:secrets.json#password }} {{ file:plain.txt }}\"\n    destination: \(s.path)/out/c\n")
            _ = try scanned(&scan, "check --online (\(format))", ["check", "--online"] + log + ["--config", s.file("check.yaml")], environment: env, expect: 0)
            // Error paths: the values were fetched before the failure.
            s.write("bad.mustache", "{{ file:secrets.json#password }}{{ file:plain.txt#field }}")
            _ = try scanned(&scan, "not JSON (\(format))", ["render"] + log + ["bad.mustache", "-o", "out/bad"], environment: env, cwd: s.path, expect: 65)
            s.write("missing.mustache", "{{ file:secrets.json#password }}{{ file:secrets.json#nope }}")
            _ = try scanned(&scan, "missing (\(format))", ["render"] + log + ["missing.mustache", "-o", "out/bad"], environment: env, cwd: s.path, expect: 65)
            _ = try scanned(&scan, "NUL into env (\(format))", ["exec"] + log + ["--env", "B={{ file:\(s.file("binary.bin")) }}", "--", "true"], environment: env, expect: 65)
        }

        // The long-running agent: rotation of a file value and of an environment value, reload, write-back, health and metrics.
        try runScenario(&scan, "run (file:)", config: """
            poll: 200ms
            output_dir: \(s.path)/out
            templates:
              - contents: "pw={{ file:secrets.json#password }} plain={{ file:plain.txt }}"
                destination: app.conf
            exec:
              command: [\(Agent.testChild), --log, \(s.file("run-child.log")), --dump-env]
              env:
                TOKEN: "{{ file:secrets.json#token }}"
            """, scratch: s, environment: env, listen: true) { s in
            s.write("secrets.json", #"{"password": "\#(pw2)", "token": "\#(token2)", "db": {"password": "\#(pw2)"}}"#)
            #expect(eventually(timeout: 10) { s.read("out/app.conf")?.contains(pw2) == true })
            #expect(eventually(timeout: 10) { (s.read("run-child.log") ?? "").contains("TOKEN=\(token2)") })
        }

        if Servers.motoEnabled { try aws(&scan) }
        if Servers.vaultEnabled { try vault(&scan) }

        #expect(scan.hits.isEmpty, "secret values in the agent's output: \(scan.hits)")
        print("secret-hygiene: scanned \(scan.captures) outputs, \(scan.bytesScanned) bytes, for \(scan.secrets.count) patterns; hits: \(scan.hits.count)")
    }

    func aws(_ scan: inout SecretScan) throws {
        let s = Scratch()
        defer { s.remove() }
        let id = UUID().uuidString.prefix(8)
        let (v1, v2, p1, p2) = (distinctiveSecret("sm-v1"), distinctiveSecret("sm-v2"), distinctiveSecret("ssm-p1"), distinctiveSecret("ssm-p2"))
        for (n, v) in [("sm v1", v1), ("sm v2", v2), ("ssm p1", p1), ("ssm p2", p2), ("seeded secure", "secure-plaintext-7f3a"),
                       ("seeded docker password", "Dr0ck3r-Regi5try-Pa55!"), ("seeded app-db", "app-db-pa55"), ("seeded json", "json-pa55"),
                       ("AWS secret key", try Servers.value("SECRET_AGENT_TEST_AWS_SECRET_ACCESS_KEY")),
                       ("AWS denied secret key", try Servers.value("SECRET_AGENT_TEST_AWS_DENIED_SECRET_ACCESS_KEY"))] {
            scan.add(n, v)
        }
        try Servers.boto("""
            c("secretsmanager").create_secret(Name="rel-hyg/\(id)/db", SecretString='{"password": "\(v1)"}')
            c("ssm").put_parameter(Name="/rel-hyg/\(id)/p", Value="\(p1)", Type="SecureString")
            """)
        let env = try Servers.awsEnvironment()
        _ = try scanned(&scan, "aws get", ["get", "--log-level", "trace", "sm:rel-hyg/\(id)/db#password"], environment: env, stdoutIsValue: true, expect: 0)
        s.write("check.yaml", """
            templates:
              - contents: "{{ sm:rel-hyg/\(id)/db#password }} {{ ssm:/sa-test/secure }} {{ ssm-path:/sa-test/app/ }} {{ sm:sa-test/json }} {{ sm:sa-test/binary | base64 }}"
                destination: \(s.path)/out/c
            """)
        _ = try scanned(&scan, "aws check --online", ["check", "--online", "--log-level", "trace", "--config", s.file("check.yaml")], environment: env, expect: 0)
        _ = try scanned(&scan, "aws render", ["render", "--log-level", "trace", "--config", s.file("check.yaml")], environment: env, expect: 0)
        var denied = env
        denied["AWS_ACCESS_KEY_ID"] = try Servers.value("SECRET_AGENT_TEST_AWS_DENIED_ACCESS_KEY_ID")
        denied["AWS_SECRET_ACCESS_KEY"] = try Servers.value("SECRET_AGENT_TEST_AWS_DENIED_SECRET_ACCESS_KEY")
        _ = try scanned(&scan, "aws denied", ["render", "--log-level", "trace", "--config", s.file("check.yaml")], environment: denied, expect: 77)
        // The local API serves the same secrets while the agent runs: its log must stay clean too.
        let servePort = Net.freePort(), serveToken = "rel-hyg-serve-" + UUID().uuidString.lowercased()
        scan.add("local API token", serveToken)
        var served = env
        served["AWS_TOKEN"] = serveToken
        try runScenario(&scan, "run (aws)", config: """
            poll: 300ms
            output_dir: \(s.path)/out
            serve:
              address: 127.0.0.1:\(servePort)
            templates:
              - contents: "pw={{ sm:rel-hyg/\(id)/db#password }} p={{ ssm:/rel-hyg/\(id)/p }} all={{ ssm-path:/sa-test/app/ }}"
                destination: app.conf
            exec:
              command: [\(Agent.testChild), --log, \(s.file("child.log"))]
              env:
                P: "{{ ssm:/rel-hyg/\(id)/p }}"
            """, scratch: s, environment: served, listen: true) { s in
            let api = "http://127.0.0.1:\(servePort)"
            for path in ["/secretsmanager/get?secretId=rel-hyg/\(id)/db", "/systemsmanager/parameters/get?name=/rel-hyg/\(id)/p&withDecryption=true",
                         "/v1/ref?ref=ssm-path:/sa-test/app/", "/secretsmanager/get?secretId=rel-hyg/\(id)/db&refreshNow=true",
                         "/secretsmanager/get?secretId=sa-test/json"] {
                _ = localAPIGet(api + path, token: serveToken)
            }
            _ = localAPIGet(api + "/secretsmanager/get?secretId=rel-hyg/\(id)/db", token: serveToken + "-wrong")
            try Servers.boto("""
                c("secretsmanager").put_secret_value(SecretId="rel-hyg/\(id)/db", SecretString='{"password": "\(v2)"}')
                c("ssm").put_parameter(Name="/rel-hyg/\(id)/p", Value="\(p2)", Type="SecureString", Overwrite=True)
                """)
            #expect(eventually(timeout: 15) { s.read("out/app.conf")?.contains("p=\(p2)") == true && s.read("out/app.conf")?.contains(v2) == true })
            #expect(eventually(timeout: 15) { localAPIGet(api + "/secretsmanager/get?secretId=rel-hyg/\(id)/db", token: serveToken).contains(v2) })
        }
    }

    func vault(_ scan: inout SecretScan) throws {
        let s = Scratch()
        defer { s.remove() }
        let id = UUID().uuidString.prefix(8)
        let token = "rel-hyg-token-" + UUID().uuidString.lowercased()
        let (v1, v2) = (distinctiveSecret("kv-v1"), distinctiveSecret("kv-v2"))
        for (n, v) in [("vault token", token), ("kv v1", v1), ("kv v2", v2)] { scan.add(n, v) }
        try Servers.vault("POST", "auth/token/create", #"{"id": "\#(token)", "policies": ["root"], "ttl": "1h"}"#)
        Servers.vaultSeed("secret/data/rel-hyg/\(id)", #"{"data": {"password": "\#(v1)"}}"#)
        let env = Agent.cleanEnvironment(["VAULT_ADDR": try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR"), "VAULT_TOKEN": token])
        _ = try scanned(&scan, "vault get", ["get", "--log-level", "trace", "vault:secret/rel-hyg/\(id)#password"], environment: env, stdoutIsValue: true, expect: 0)
        var wrong = env
        wrong["VAULT_TOKEN"] = token + "-wrong"
        scan.add("wrong vault token", token + "-wrong")
        _ = try scanned(&scan, "vault bad token", ["get", "--log-level", "trace", "vault:secret/rel-hyg/\(id)#password"], environment: wrong, stdoutIsValue: true, expect: 77)
        let servePort = Net.freePort(), serveToken = "rel-hyg-serve-" + UUID().uuidString.lowercased()
        scan.add("local API token (vault)", serveToken)
        var served = env
        served["AWS_TOKEN"] = serveToken
        try runScenario(&scan, "run (vault)", config: """
            poll: 300ms
            output_dir: \(s.path)/out
            serve:
              address: 127.0.0.1:\(servePort)
            templates:
              - contents: "pw={{ vault:secret/rel-hyg/\(id)#password }}"
                destination: app.conf
            """, scratch: s, environment: served, listen: true) { s in
            let api = "http://127.0.0.1:\(servePort)/v1/ref?ref="
            _ = localAPIGet(api + "vault:secret/rel-hyg/\(id)%23password", token: serveToken)
            _ = localAPIGet(api + "vault:secret/rel-hyg/\(id)", token: serveToken)
            _ = localAPIGet(api + "vault:secret/rel-hyg/\(id)%23password&refreshNow=true", token: serveToken)
            Servers.vaultSeed("secret/data/rel-hyg/\(id)", #"{"data": {"password": "\#(v2)"}}"#)
            #expect(eventually(timeout: 15) { s.read("out/app.conf") == "pw=\(v2)" })
            #expect(eventually(timeout: 15) { localAPIGet(api + "vault:secret/rel-hyg/\(id)%23password", token: serveToken) == v2 })
        }
    }

    @Test("the scanner itself finds a value, its base64 and the base64 of a text around it")
    func scannerFindsLeaks() {
        var scan = SecretScan()
        let secret = "scanner-self-test-Zq9x"
        scan.add("self", secret)
        scan.scan("nothing here", from: "clean")
        #expect(scan.hits.isEmpty)
        scan.scan("value=\(secret)", from: "plain")
        scan.scan(Data(secret.utf8).base64EncodedString(), from: "base64")
        for prefix in ["u:", "us:", "use:"] {
            scan.scan("auth=" + Data((prefix + secret).utf8).base64EncodedString(), from: "base64 of \(prefix)")
        }
        #expect(scan.hits.count == 5, "\(scan.hits)")
    }

    @Test("secrets never appear in the argv of the agent, its child or an on_change command; nor in the agent's own environment")
    func commandLines() throws {
        let s = Scratch()
        defer { s.remove() }
        let (pw1, pw2) = (distinctiveSecret("argv-pw1"), distinctiveSecret("argv-pw2"))
        s.write("secrets.json", #"{"password": "\#(pw1)"}"#)
        s.write("agent.yaml", """
            poll: 200ms
            output_dir: \(s.path)/out
            templates:
              - contents: "pw={{ file:secrets.json#password }}"
                destination: app.conf
                on_change:
                  command: [sh, -c, "tr '\\\\0' ' ' < /proc/$$/cmdline >> \(s.file("oncmd.txt")); sleep 1"]
            exec:
              command: [\(Agent.testChild), --log, \(s.file("child.log")), --dump-env]
              env:
                PW: "{{ file:secrets.json#password }}"
            """)
        let (p, _, err) = try Agent.start(["run", "--env", "EXTRA={{ file:\(s.file("secrets.json"))#password }}", "--config", s.file("agent.yaml")],
                                          environment: Agent.cleanEnvironment())
        let stderr = Collector(err)
        #expect(eventually(timeout: 15) { (s.read("child.log") ?? "").contains("env PW=\(pw1)") }, "\(stderr.text(wait: false))")
        var sampled = Set<pid_t>()
        var argvs: [pid_t: Data] = [:]
        func sample() {
            for pid in [p.processIdentifier] + Proc.descendants(of: p.processIdentifier) {
                sampled.insert(pid)
                argvs[pid] = Proc.cmdline(pid)
            }
        }
        sample()
        s.write("secrets.json", #"{"password": "\#(pw2)"}"#)
        let deadline = Date().addingTimeInterval(6)
        while Date() < deadline && !(s.read("oncmd.txt") ?? "").contains("sh") {
            sample()
            usleep(20_000)
        }
        sample()
        #expect(sampled.count >= 3, "the agent, its child and the on_change command were sampled: \(sampled.count)")
        for (pid, argv) in argvs {
            for secret in [pw1, pw2] {
                #expect(!SecretScan.contains([UInt8](argv), Array(secret.utf8)), "a value in /proc/\(pid)/cmdline: \(String(decoding: argv, as: UTF8.self))")
            }
        }
        #expect(!(s.read("oncmd.txt") ?? "").contains(pw1) && !(s.read("oncmd.txt") ?? "").contains(pw2))
        // The agent's own environment (readable here as root or as the same user) never gets the values.
        if let environ = FileManager.default.contents(atPath: "/proc/\(p.processIdentifier)/environ") {
            for secret in [pw1, pw2] { #expect(!SecretScan.contains([UInt8](environ), Array(secret.utf8))) }
        }
        finish(p)
    }

    @Test("core dumps are off: RLIMIT_CORE is 0 for the agent (and the child it starts)")
    func coreLimit() throws {
        let s = Scratch()
        defer { s.remove() }
        let (p, _, _) = try Agent.start(["exec", "--", Agent.testChild, "--log", s.file("child.log"), "--pid-file", s.file("child.pid")],
                                        environment: Agent.cleanEnvironment())
        #expect(eventually { s.exists("child.pid") && (s.read("child.log") ?? "").contains("start") })
        #expect(Proc.softLimit(p.processIdentifier, "Max core file size") == "0")
        if let child = pid_t((s.read("child.pid") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) {
            #expect(Proc.softLimit(child, "Max core file size") == "0", "inherited by the child")
        }
        finish(p)
    }

    @Test("the agent is not dumpable (PR_SET_DUMPABLE 0): its /proc files belong to root and other processes of its user cannot read them")
    func notDumpable() throws {
        let s = Scratch()
        defer { s.remove() }
        let secret = distinctiveSecret("dumpable")
        s.write("secrets.json", #"{"password": "\#(secret)"}"#)
        let asRoot = geteuid() == 0
        if asRoot { chown(s.path, 65534, 65534) }
        let arguments = ["exec", "--env", "PW={{ file:\(s.file("secrets.json"))#password }}", "--", "sleep", "30"]
        let p = Process()
        if asRoot {
            // As root every /proc file is readable anyway: run the agent as nobody and look at the owner.
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", Agent.binary] + arguments
        } else {
            p.executableURL = URL(fileURLWithPath: Agent.binary)
            p.arguments = arguments
        }
        p.environment = Agent.cleanEnvironment(["HOME": s.path])
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { finish(p) }
        #expect(eventually { !Proc.descendants(of: p.processIdentifier).isEmpty }, "the agent started its child")
        let pid = p.processIdentifier
        let uid = Proc.status(pid)["Uid"]?.split(separator: "\t").first.map(String.init)
        #expect(uid == (asRoot ? "65534" : "\(geteuid())"))
        var st = stat()
        #expect(stat("/proc/\(pid)/environ", &st) == 0)
        #expect(st.st_uid == 0, "/proc/\(pid)/environ belongs to root: the process is not dumpable")
        if !asRoot {
            #expect(FileManager.default.contents(atPath: "/proc/\(pid)/environ") == nil, "unreadable to the agent's own user")
        }
        #expect(Proc.softLimit(pid, "Max core file size") == "0")
    }

    @Test("the child's environment is the agent's plus what is injected, nothing else; --pristine passes only PATH, HOME, LANG, TZ")
    func childEnvironment() throws {
        let s = Scratch()
        defer { s.remove() }
        s.write("secrets.json", #"{"user": "u-1", "password": "p-1"}"#)
        var agentEnv = Agent.cleanEnvironment([
            "REL_MARKER": "keep-me", "REL_INHERITED": "{{ file:\(s.file("secrets.json"))#user }}", "LANG": "C.UTF-8", "TZ": "UTC",
            "NOTIFY_SOCKET": "/nonexistent/notify.sock",
        ])
        agentEnv["PATH"] = agentEnv["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        s.write("agent.yaml", """
            output_dir: \(s.path)/out
            exec:
              command: [\(Agent.testChild), --log, \(s.file("child.log")), --dump-env]
              env:
                INJECTED: "{{ file:secrets.json#password }}"
            """)
        func childEnv(_ extra: [String]) throws -> [String: String] {
            try? FileManager.default.removeItem(atPath: s.file("child.log"))
            let (p, _, err) = try Agent.start(["run", "--config", s.file("agent.yaml")] + extra, environment: agentEnv)
            let stderr = Collector(err)
            #expect(eventually(timeout: 15) { (s.read("child.log") ?? "").contains("env ") }, "\(stderr.text(wait: false))")
            Thread.sleep(forTimeInterval: 0.3)
            finish(p)
            var env: [String: String] = [:]
            for line in (s.read("child.log") ?? "").split(separator: "\n") where line.hasPrefix("env ") {
                let pair = line.dropFirst(4)
                guard let eq = pair.firstIndex(of: "=") else { continue }
                env[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
            }
            return env
        }
        var expected = agentEnv
        expected["REL_INHERITED"] = "u-1"
        expected["INJECTED"] = "p-1"
        expected["NOTIFY_SOCKET"] = nil
        let inherited = try childEnv([])
        #expect(Set(inherited.keys) == Set(expected.keys), "extra: \(Set(inherited.keys).subtracting(expected.keys)), missing: \(Set(expected.keys).subtracting(inherited.keys))")
        for (name, value) in expected where !value.contains("\n") { #expect(inherited[name] == value, "\(name)") }

        let pristine = try childEnv(["--pristine"])
        let allowed: Set<String> = ["PATH", "HOME", "LANG", "TZ", "INJECTED"]
        #expect(Set(pristine.keys).isSubset(of: allowed), "\(Set(pristine.keys).subtracting(allowed))")
        #expect(pristine["INJECTED"] == "p-1")
        for name in ["PATH", "LANG", "TZ"] { #expect(pristine[name] == agentEnv[name], "\(name) passes through") }
        #expect(pristine["REL_MARKER"] == nil && pristine["REL_INHERITED"] == nil)
    }

    @Test("secret memory is locked where allowed (VmLck > 0 as root)", .enabled(if: geteuid() == 0),
)
    func memoryLocked() throws {
        let s = Scratch()
        defer { s.remove() }
        let (p, _, _) = try Agent.start(["exec", "--", Agent.testChild, "--log", s.file("child.log")], environment: Agent.cleanEnvironment())
        defer { finish(p) }
        #expect(eventually { (s.read("child.log") ?? "").contains("start") })
        #expect((Proc.kilobytes(p.processIdentifier, "VmLck") ?? 0) > 0, "\(Proc.status(p.processIdentifier)["VmLck"] ?? "?")")
    }

    @Test("SecretMemory: wipe zeroes and empties; SecretBytes keeps, compares and locks its bytes")
    func secretMemory() {
        var bytes = Array("a secret value".utf8)
        let copy = bytes
        SecretMemory.wipe(&bytes)
        #expect(bytes.isEmpty)
        #expect(copy == Array("a secret value".utf8), "a shared copy is left to its other owner")
        var raw = [UInt8](repeating: 0xAA, count: 64)
        raw.withUnsafeMutableBytes { SecretMemory.zero($0) }
        #expect(raw.allSatisfy { $0 == 0 })
        let secret = SecretBytes(Array("hunter2-but-longer".utf8))
        #expect(secret.count == 18)
        #expect(secret.array == Array("hunter2-but-longer".utf8))
        #expect(secret.equals(Array("hunter2-but-longer".utf8)))
        #expect(!secret.equals(Array("hunter3-but-longer".utf8)))
        let big = SecretBytes([UInt8](repeating: 7, count: 10_000))
        #expect(big.array.count == 10_000)
        if geteuid() == 0 { #expect(secret.isLocked, "root may lock a page") }
    }
}

/// A GET of the local API with its token (the answer holds values: never scanned as log output).
func localAPIGet(_ url: String, token: String) -> String {
    httpGet(url, headers: ["X-Aws-Parameters-Secrets-Token: \(token)"])
}
