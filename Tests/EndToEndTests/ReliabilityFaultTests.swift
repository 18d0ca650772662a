import Foundation
import Testing

/// Fault injection: a proxy between the agent and moto / OpenBao drops connections, hangs,
/// answers 500/503, throttles, truncates or sends what is not JSON. At start the agent retries
/// with backoff until `--start-timeout`, then exits 69 (77 at once for a refusal); after start
/// the child keeps running with its files untouched, and the change it missed arrives once the
/// backend answers again.
@Suite("Reliability: fault injection", .serialized)
struct ReliabilityFaultTests {
    /// A fault and what the agent must do about it at start.
    struct StartCase: CustomTestStringConvertible, Sendable {
        var fault: String
        /// Faults to let through first (Vault: the token lookup), so the fault hits the reads.
        var passFirst = 0
        var extraConfig = ""
        var minimumRequests = 3
        var testDescription: String { passFirst > 0 ? "\(fault) after \(passFirst) good answers" : fault }
    }

    static let startTimeout = 2.0

    /// What every start under a transient fault must show: exit 69 after retrying with backoff
    /// until the start deadline (not before, and not long after), the retry log line, nothing
    /// written, no child, no value in the output.
    func expectGaveUp(_ r: Agent.Result, elapsed: Double, proxy: FaultProxy, scratch: Scratch, c: StartCase,
                      secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let requests = proxy.requests.filter { $0.fault == c.fault }
        #expect(r.status == 69, "exit status under \(c.fault): \(r.stderr.suffix(600))", sourceLocation: sourceLocation)
        #expect(r.stderr.contains("gave up after 2s (--start-timeout)"), "\(r.stderr.suffix(600))", sourceLocation: sourceLocation)
        #expect(r.stderr.contains("backend not ready, retrying"), "the retry is logged", sourceLocation: sourceLocation)
        #expect(requests.count >= c.minimumRequests, "retried: \(requests.count) requests", sourceLocation: sourceLocation)
        #expect(requests.count <= 80, "bounded: \(requests.count) requests in \(elapsed)s", sourceLocation: sourceLocation)
        if let first = requests.first, let last = requests.last, c.minimumRequests > 2 {
            #expect(last.t - first.t >= 0.8, "spread over the start timeout with backoff, not a burst", sourceLocation: sourceLocation)
        }
        #expect(elapsed >= Self.startTimeout * 0.5, "kept trying until the deadline: \(elapsed)s", sourceLocation: sourceLocation)
        #expect(elapsed <= Self.startTimeout + 4, "gave up soon after the deadline: \(elapsed)s", sourceLocation: sourceLocation)
        #expect(!scratch.exists("out/app.conf"), "nothing written", sourceLocation: sourceLocation)
        #expect(!scratch.exists("child-started"), "no child", sourceLocation: sourceLocation)
        for s in secrets { #expect(!r.output.contains(s), sourceLocation: sourceLocation) }
    }

    func agentConfig(_ s: Scratch, template: String, extra: String) -> String {
        """
        output_dir: \(s.path)/out
        \(extra)
        templates:
          - contents: "\(template)"
            destination: app.conf
        exec:
          command: [touch, \(s.file("child-started"))]
        """
    }

    func runStart(_ c: StartCase, proxy: FaultProxy, template: String, environment: [String: String]) throws -> (Agent.Result, Double, Scratch) {
        let s = Scratch()
        s.write("agent.yaml", agentConfig(s, template: template, extra: c.extraConfig))
        proxy.clearLog()
        if c.passFirst > 0 { proxy.set("pass x\(c.passFirst)", c.fault) } else { proxy.set(c.fault) }
        let t0 = Date()
        let r = try Agent.run(["exec", "--start-timeout", "2s", "--config", s.file("agent.yaml")], environment: environment, timeout: 120)
        return (r, Date().timeIntervalSince(t0), s)
    }

    static let awsTransient: [StartCase] = [
        StartCase(fault: "drop"), StartCase(fault: "reset"), StartCase(fault: "status:500"), StartCase(fault: "status:503"),
        // Standard retries: adaptive ones (the default) slow down after a throttling answer, fewer
        // than three requests in 2 s (FleetTests covers them).
        StartCase(fault: "throttle", extraConfig: "aws:\n  retry_mode: standard"), StartCase(fault: "truncate"), StartCase(fault: "garbage"),
        // A hung backend: each attempt ends at aws.request_timeout.
        StartCase(fault: "delay:5", extraConfig: "aws:\n  request_timeout: 500ms", minimumRequests: 2),
    ]

    @Test("AWS at start: a transient fault is retried with backoff, then exit 69 after --start-timeout",
          .enabled(if: Servers.motoEnabled), arguments: awsTransient)
    func awsStart(_ c: StartCase) throws {
        let proxy = try FaultProxy(upstream: try Servers.value("SECRET_AGENT_TEST_MOTO_ENDPOINT"))
        defer { proxy.stop() }
        let (r, elapsed, s) = try runStart(c, proxy: proxy, template: "pw={{ sm:docker/registry/password }} user={{ ssm:/docker/registry/username }}",
                                           environment: try Servers.awsEnvironment(endpoint: proxy.endpoint))
        defer { s.remove() }
        expectGaveUp(r, elapsed: elapsed, proxy: proxy, scratch: s, c: c, secrets: ["Dr0ck3r-Regi5try-Pa55!"])
        #expect(r.stderr.contains("AWS"), "the message names the backend")
    }

    @Test("AWS at start: AccessDenied is not retried: exit 77 at once, naming the action", .enabled(if: Servers.motoEnabled))
    func awsDenied() throws {
        let proxy = try FaultProxy(upstream: try Servers.value("SECRET_AGENT_TEST_MOTO_ENDPOINT"))
        defer { proxy.stop() }
        let c = StartCase(fault: "deny")
        let (r, elapsed, s) = try runStart(c, proxy: proxy, template: "pw={{ sm:docker/registry/password }}",
                                           environment: try Servers.awsEnvironment(endpoint: proxy.endpoint))
        defer { s.remove() }
        #expect(r.status == 77, "\(r.stderr)")
        #expect(r.stderr.contains("AccessDeniedException"))
        #expect(r.stderr.contains("secretsmanager:"), "names the action")
        #expect(elapsed < Self.startTimeout, "not retried until the deadline: \(elapsed)s")
        #expect(proxy.requests.count <= 3)
        #expect(!s.exists("out/app.conf") && !s.exists("child-started"))
    }

    @Test("AWS at start: a 200 that is not JSON is retried like any transient fault, then exit 69",
          .enabled(if: Servers.motoEnabled),
)
    func awsNotJSON() throws {
        let proxy = try FaultProxy(upstream: try Servers.value("SECRET_AGENT_TEST_MOTO_ENDPOINT"))
        defer { proxy.stop() }
        let c = StartCase(fault: "nonjson")
        let (r, elapsed, s) = try runStart(c, proxy: proxy, template: "pw={{ sm:docker/registry/password }}",
                                           environment: try Servers.awsEnvironment(endpoint: proxy.endpoint))
        defer { s.remove() }
        expectGaveUp(r, elapsed: elapsed, proxy: proxy, scratch: s, c: c, secrets: ["Dr0ck3r-Regi5try-Pa55!"])
    }

    @Test("AWS at start: a hung backend with the default 10s request timeout still ends at --start-timeout",
          .enabled(if: Servers.motoEnabled),
)
    func awsHungDefaultTimeout() throws {
        let proxy = try FaultProxy(upstream: try Servers.value("SECRET_AGENT_TEST_MOTO_ENDPOINT"))
        defer { proxy.stop() }
        let c = StartCase(fault: "delay:60", minimumRequests: 1)
        let (r, elapsed, s) = try runStart(c, proxy: proxy, template: "pw={{ sm:docker/registry/password }}",
                                           environment: try Servers.awsEnvironment(endpoint: proxy.endpoint))
        defer { s.remove() }
        #expect(r.status == 69)
        #expect(r.stderr.contains("--start-timeout"))
        #expect(elapsed <= Self.startTimeout + 4, "\(elapsed)s")
    }

    // MARK: Vault

    func vaultSecret() throws -> (reference: String, value: String) {
        let id = UUID().uuidString.prefix(8)
        let value = distinctiveSecret("vault-fault")
        Servers.vaultSeed("secret/data/rel-fault/\(id)", #"{"data": {"password": "\#(value)"}}"#)
        return ("vault:secret/rel-fault/\(id)#password", value)
    }

    func vaultEnvironment(_ proxy: FaultProxy) throws -> [String: String] {
        Agent.cleanEnvironment(["VAULT_ADDR": proxy.endpoint, "VAULT_TOKEN": try Servers.value("SECRET_AGENT_TEST_VAULT_TOKEN")])
    }

    static let vaultReadTransient: [StartCase] = [
        StartCase(fault: "drop", passFirst: 1), StartCase(fault: "reset", passFirst: 1), StartCase(fault: "status:500", passFirst: 1),
        StartCase(fault: "status:503", passFirst: 1), StartCase(fault: "truncate", passFirst: 1), StartCase(fault: "garbage", passFirst: 1),
        StartCase(fault: "delay:5", passFirst: 1, extraConfig: "vault:\n  timeout: 500ms", minimumRequests: 2),
    ]

    @Test("Vault at start: a transient fault on the reads is retried with backoff, then exit 69 after --start-timeout",
          .enabled(if: Servers.vaultEnabled), arguments: vaultReadTransient)
    func vaultStart(_ c: StartCase) throws {
        let proxy = try FaultProxy(upstream: try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR"))
        defer { proxy.stop() }
        let secret = try vaultSecret()
        let (r, elapsed, s) = try runStart(c, proxy: proxy, template: "pw={{ \(secret.reference) }}", environment: try vaultEnvironment(proxy))
        defer { s.remove() }
        expectGaveUp(r, elapsed: elapsed, proxy: proxy, scratch: s, c: c, secrets: [secret.value, "root-token"])
        #expect(r.stderr.contains("Vault"), "the message names the backend")
    }

    @Test("Vault at start: permission denied on the read is not retried: exit 77 at once", .enabled(if: Servers.vaultEnabled))
    func vaultDenied() throws {
        let proxy = try FaultProxy(upstream: try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR"))
        defer { proxy.stop() }
        let secret = try vaultSecret()
        for c in [StartCase(fault: "deny"), StartCase(fault: "deny", passFirst: 1)] {
            let (r, elapsed, s) = try runStart(c, proxy: proxy, template: "pw={{ \(secret.reference) }}", environment: try vaultEnvironment(proxy))
            defer { s.remove() }
            #expect(r.status == 77, "\(c.testDescription): \(r.stderr)")
            #expect(elapsed < Self.startTimeout, "\(c.testDescription): not retried until the deadline: \(elapsed)s")
            #expect(!s.exists("out/app.conf") && !s.exists("child-started"))
            #expect(!r.output.contains(secret.value))
        }
    }

    static let vaultLoginTransient: [StartCase] = [
        StartCase(fault: "drop"), StartCase(fault: "status:503"), StartCase(fault: "truncate"),
        StartCase(fault: "delay:5", extraConfig: "vault:\n  timeout: 500ms", minimumRequests: 2),
    ]

    @Test("Vault at start: a transient fault on the login (token lookup) is retried until --start-timeout",
          .enabled(if: Servers.vaultEnabled),
         
          arguments: vaultLoginTransient)
    func vaultLogin(_ c: StartCase) throws {
        let proxy = try FaultProxy(upstream: try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR"))
        defer { proxy.stop() }
        let secret = try vaultSecret()
        let (r, elapsed, s) = try runStart(c, proxy: proxy, template: "pw={{ \(secret.reference) }}", environment: try vaultEnvironment(proxy))
        defer { s.remove() }
        expectGaveUp(r, elapsed: elapsed, proxy: proxy, scratch: s, c: c, secrets: [secret.value])
    }

    @Test("Vault at start: a 200 that is not JSON is transient (exit 69 after retries), not 'no data' (65) or a bad token (77)",
          .enabled(if: Servers.vaultEnabled),
         
          arguments: [StartCase(fault: "nonjson", passFirst: 1), StartCase(fault: "nonjson")])
    func vaultNotJSON(_ c: StartCase) throws {
        let proxy = try FaultProxy(upstream: try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR"))
        defer { proxy.stop() }
        let secret = try vaultSecret()
        let (r, elapsed, s) = try runStart(c, proxy: proxy, template: "pw={{ \(secret.reference) }}", environment: try vaultEnvironment(proxy))
        defer { s.remove() }
        expectGaveUp(r, elapsed: elapsed, proxy: proxy, scratch: s, c: c, secrets: [secret.value])
    }

    // MARK: After start

    /// A running agent behind a proxy, with a child that logs signals and starts.
    struct Running {
        let scratch: Scratch
        let process: Process
        let stderr: Collector
        var log: String { scratch.read("child.log") ?? "" }
        var hups: Int { log.split(separator: "\n").filter { $0 == "signal HUP" }.count }
        var starts: Int { log.split(separator: "\n").filter { $0.hasPrefix("start") }.count }
        var errors: String { stderr.text(wait: false) }
        func modified() -> Date? {
            try? FileManager.default.attributesOfItem(atPath: scratch.file("out/app.conf"))[.modificationDate] as? Date
        }
    }

    func startRunning(template: String, env: String, extra: String, environment: [String: String]) throws -> Running {
        let s = Scratch()
        s.write("agent.yaml", """
            poll: 300ms
            output_dir: \(s.path)/out
            \(extra)
            templates:
              - contents: "\(template)"
                destination: app.conf
            exec:
              command: [\(Agent.testChild), --log, \(s.file("child.log")), --watch-file, \(s.path)/out/app.conf]
              env:
                \(env)
            """)
        let (p, _, err) = try Agent.start(["run", "--log-level", "debug", "--config", s.file("agent.yaml")], environment: environment)
        let r = Running(scratch: s, process: p, stderr: Collector(err))
        #expect(eventually(timeout: 20) { r.log.contains("start") }, "\(r.errors)")
        return r
    }

    /// Cycles through every fault while the agent runs: each must be seen by a poll, logged as a
    /// failing backend, then recovered from, with the child untouched throughout.
    /// Returns how many faults were survived.
    func survive(_ faults: [String], _ r: Running, proxy: FaultProxy, expected content: String, backend: String) -> Int {
        let before = r.modified()
        var survived = 0
        for fault in faults {
            let failing = count("backend failing", in: r.errors), recovered = count("backend recovered", in: r.errors)
            proxy.clearLog()
            proxy.set(fault)
            let seen = eventually(timeout: 20) { proxy.requests.filter { $0.fault == fault }.count >= 2 }
            let logged = eventually(timeout: 20) { count("backend failing", in: r.errors) > failing }
            #expect(seen && logged, "\(fault): polls reached the fault and the failure was logged: \(r.errors.suffix(800))")
            #expect(r.errors.contains("backend=\(backend)"), "the log names the backend")
            #expect(r.process.isRunning, "\(fault): the agent keeps running")
            #expect(r.starts == 1 && r.hups == 0, "\(fault): the child is neither restarted nor signalled")
            #expect(r.scratch.read("out/app.conf") == content, "\(fault): the file keeps the last good values")
            #expect(r.modified() == before, "\(fault): the file is not rewritten")
            proxy.set("pass")
            #expect(eventually(timeout: 20) { count("backend recovered", in: r.errors) > recovered }, "\(fault): recovered")
            if seen && logged && r.process.isRunning && r.starts == 1 && r.hups == 0 { survived += 1 }
        }
        return survived
    }

    static let runningFaults = ["drop", "reset", "status:500", "status:503", "throttle", "deny", "truncate", "nonjson", "garbage", "delay:3"]

    @Test("AWS after start: every fault is survived; the change made during an outage arrives after it",
          .enabled(if: Servers.motoEnabled))
    func awsRunning() throws {
        let proxy = try FaultProxy(upstream: try Servers.value("SECRET_AGENT_TEST_MOTO_ENDPOINT"))
        defer { proxy.stop() }
        let id = UUID().uuidString.prefix(8)
        let (p1, p2) = (distinctiveSecret("aws-running-1"), distinctiveSecret("aws-running-2"))
        try Servers.boto("""
            c("ssm").put_parameter(Name="/rel-fault/\(id)/user", Value="u1", Type="String")
            c("secretsmanager").create_secret(Name="rel-fault/\(id)/db", SecretString="\(p1)")
            """)
        let r = try startRunning(template: "user={{ ssm:/rel-fault/\(id)/user }} pw={{ sm:rel-fault/\(id)/db }}",
                                 env: "TOKEN: \"{{ sm:rel-fault/\(id)/db }}\"",
                                 extra: "aws:\n  request_timeout: 1s\n  max_attempts: 2",
                                 environment: try Servers.awsEnvironment(endpoint: proxy.endpoint))
        defer { r.scratch.remove() }
        #expect(r.scratch.read("out/app.conf") == "user=u1 pw=\(p1)")
        let survived = survive(Self.runningFaults, r, proxy: proxy, expected: "user=u1 pw=\(p1)", backend: "aws-")
        #expect(survived == Self.runningFaults.count)
        print("fault-injection: AWS after start survived \(survived) of \(Self.runningFaults.count) faults: \(Self.runningFaults.joined(separator: ", "))")

        // A change during an outage: nothing moves until the backend answers, then it arrives once.
        proxy.set("status:503")
        #expect(eventually(timeout: 10) { proxy.requests.contains { $0.fault == "status:503" } })
        try Servers.boto(#"c("ssm").put_parameter(Name="/rel-fault/\#(id)/user", Value="u2", Type="String", Overwrite=True)"#)
        Thread.sleep(forTimeInterval: 1.5)
        #expect(r.scratch.read("out/app.conf") == "user=u1 pw=\(p1)")
        #expect(r.hups == 0)
        proxy.set("pass")
        #expect(eventually(timeout: 15) { r.scratch.read("out/app.conf") == "user=u2 pw=\(p1)" }, "\(r.errors.suffix(800))")
        #expect(eventually(timeout: 5) { r.hups == 1 })
        // And an environment change restarts the child once, as usual.
        try Servers.boto(#"c("secretsmanager").put_secret_value(SecretId="rel-fault/\#(id)/db", SecretString="\#(p2)")"#)
        #expect(eventually(timeout: 15) { r.starts == 2 }, "\(r.errors.suffix(800))")
        #expect(finish(r.process) == 0)
        for secret in [p1, p2] { #expect(!r.errors.contains(secret)) }
    }

    @Test("Vault after start: every fault is survived; the change made during an outage arrives after it",
          .enabled(if: Servers.vaultEnabled))
    func vaultRunning() throws {
        let proxy = try FaultProxy(upstream: try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR"))
        defer { proxy.stop() }
        let id = UUID().uuidString.prefix(8)
        let (v1, v2) = (distinctiveSecret("vault-running-1"), distinctiveSecret("vault-running-2"))
        Servers.vaultSeed("secret/data/rel-fault/\(id)", #"{"data": {"password": "\#(v1)"}}"#)
        let r = try startRunning(template: "pw={{ vault:secret/rel-fault/\(id)#password }}", env: "STATIC: x",
                                 extra: "vault:\n  timeout: 1s",
                                 environment: Agent.cleanEnvironment(["VAULT_ADDR": proxy.endpoint, "VAULT_MAX_RETRIES": "1",
                                                                      "VAULT_TOKEN": try Servers.value("SECRET_AGENT_TEST_VAULT_TOKEN")]))
        defer { r.scratch.remove() }
        #expect(r.scratch.read("out/app.conf") == "pw=\(v1)")
        let faults = Self.runningFaults.filter { $0 != "throttle" }
        let survived = survive(faults, r, proxy: proxy, expected: "pw=\(v1)", backend: "vault")
        #expect(survived == faults.count)
        print("fault-injection: Vault after start survived \(survived) of \(faults.count) faults: \(faults.joined(separator: ", "))")

        proxy.set("status:503")
        #expect(eventually(timeout: 10) { proxy.requests.contains { $0.fault == "status:503" } })
        Servers.vaultSeed("secret/data/rel-fault/\(id)", #"{"data": {"password": "\#(v2)"}}"#)
        Thread.sleep(forTimeInterval: 1.5)
        #expect(r.scratch.read("out/app.conf") == "pw=\(v1)")
        proxy.set("pass")
        #expect(eventually(timeout: 15) { r.scratch.read("out/app.conf") == "pw=\(v2)" }, "\(r.errors.suffix(800))")
        #expect(eventually(timeout: 5) { r.hups == 1 })
        #expect(finish(r.process) == 0)
        for secret in [v1, v2] { #expect(!r.errors.contains(secret)) }
    }
}
