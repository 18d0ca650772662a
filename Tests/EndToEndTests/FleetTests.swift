import Foundation
import Testing

/// `scripts/throttle-proxy.py` in front of the shared moto: quotas per `X-Amz-Target`, the real
/// `ThrottlingException` answer, counts per API. Stopped by its PID.
final class ThrottleProxy: @unchecked Sendable {
    let port: Int
    private let daemon: Daemon
    private let scratch = Scratch()

    init(quotas: [String], retryAfter: Double? = nil) throws {
        // Port 0: the proxy binds a free port itself and prints it first (a port picked here
        // could be taken by another test's server before the proxy binds it).
        var args = [Agent.repositoryRoot + "/scripts/throttle-proxy.py", "--upstream", try Servers.value("SECRET_AGENT_TEST_MOTO_ENDPOINT"),
                    "--port", "0"]
        for q in quotas { args += ["--quota", q] }
        if let retryAfter { args += ["--retry-after", "\(retryAfter)"] }
        let scratch = self.scratch
        let daemon = try Daemon(Servers.python, ["-u"] + args, logPath: scratch.file("proxy.log"), cwd: scratch.path)
        var bound: Int?
        _ = eventually(timeout: 20) {
            bound = daemon.log.split(separator: "\n").first.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            return bound != nil
        }
        guard let bound, eventually(timeout: 10, { Net.accepts(port: bound) }) else {
            daemon.stop()
            scratch.remove()
            throw Servers.Missing(description: "the throttling proxy did not start: \(daemon.log)")
        }
        self.daemon = daemon
        port = bound
    }

    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// (useful, throttled) calls to `target` so far.
    func counts(_ target: String) throws -> (ok: Int, throttled: Int) {
        let text = try Net.tool("/usr/bin/env", ["curl", "-s", "\(endpoint)/__stats"])
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let entry = json?[target] as? [String: Int]
        return (entry?["ok"] ?? 0, entry?["throttled"] ?? 0)
    }

    func stop() {
        daemon.stop()
        scratch.remove()
    }
}

/// A handful of agent processes against moto behind the throttling proxy (issue 16).
@Suite("fleet", .serialized, .enabled(if: Servers.motoEnabled))
struct FleetTests {
    static let ssmQuota = ["AmazonSSM.GetParameters", "AmazonSSM.GetParameter", "AmazonSSM.GetParametersByPath"].joined(separator: ",")

    /// Twenty parameters (two GetParameters batches) as the child's environment.
    static func envArguments(count: Int = 20) -> [String] {
        (1...count).flatMap { i in ["--env", String(format: "P%02d={{ ssm:/sa-test/batch/p%02d }}", i, i)] }
    }

    @Test("throttled throughout, the agent gives up at its start deadline, not later, and without hammering")
    func startDeadlineHoldsWhenThrottled() throws {
        // A bucket that never fills: every GetParameters call is throttled.
        let proxy = try ThrottleProxy(quotas: ["0.0001/0:\(Self.ssmQuota)"])
        defer { proxy.stop() }
        let env = try Servers.awsEnvironment(endpoint: proxy.endpoint)
        let started = Date()
        let r = try Agent.run(["exec", "--start-timeout", "4s"] + Self.envArguments() + ["--", "true"], environment: env, timeout: 30)
        let elapsed = Date().timeIntervalSince(started)
        #expect(r.status == 69, "\(r.stderr)")
        #expect(r.stderr.contains("gave up after 4s"), "\(r.stderr)")
        #expect(elapsed < 12, "the agent took \(elapsed) s with a 4 s start timeout")
        // Adaptive: after the first throttled pair, about one call every 4 s per agent, not a
        // backoff every few hundred milliseconds (standard mode makes about 20 in 4 s).
        let throttled = try proxy.counts("AmazonSSM.GetParameters").throttled
        #expect(throttled >= 2 && throttled <= 8, "\(throttled) throttled calls")
    }

    @Test("aws.retry_mode: standard keeps the per-call backoff: many more throttled calls in the same time")
    func standardModeHammers() throws {
        let proxy = try ThrottleProxy(quotas: ["0.0001/0:\(Self.ssmQuota)"])
        defer { proxy.stop() }
        let scratch = Scratch()
        defer { scratch.remove() }
        let config = scratch.write("agent.yaml", "aws:\n  retry_mode: standard\n")
        let env = try Servers.awsEnvironment(endpoint: proxy.endpoint)
        let r = try Agent.run(["exec", "--config", config, "--start-timeout", "4s"] + Self.envArguments() + ["--", "true"], environment: env, timeout: 30)
        #expect(r.status == 69, "\(r.stderr)")
        let throttled = try proxy.counts("AmazonSSM.GetParameters").throttled
        #expect(throttled > 8, "\(throttled) throttled calls")
    }

    @Test("the first polls of agents started together are spread over the interval, not on one beat")
    func firstPollSplayAcrossAgents() throws {
        let proxy = try ThrottleProxy(quotas: [])
        defer { proxy.stop() }
        let env = try Servers.awsEnvironment(endpoint: proxy.endpoint)
        let scratch = Scratch()
        defer { scratch.remove() }
        var agents: [Daemon] = []
        defer { for a in agents { a.stop() } }
        for i in 0..<6 {
            agents.append(try Daemon(Agent.binary, ["exec", "--poll", "6s", "--log-level", "debug", "--log-format", "json",
                                                    "--env", "P={{ ssm:/sa-test/batch/p01 }}", "--", "sleep", "60"],
                                     logPath: scratch.file("agent\(i).log"), environment: env, cwd: scratch.path))
        }
        // Each agent's second GetParameters call is its first poll.
        func firstPoll(_ log: String) -> Date? {
            let calls = log.split(separator: "\n").filter { $0.contains("AWS call ssm:GetParameters") }
            guard calls.count >= 2, let data = calls[1].data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let time = object["time"] as? String else { return nil }
            return ISO8601DateFormatter.withFractions.date(from: time)
        }
        #expect(eventually(timeout: 20) { agents.allSatisfy { firstPoll($0.log) != nil } }, "\(agents.map(\.log))")
        let polls = agents.compactMap { firstPoll($0.log) }
        let spread = (polls.max() ?? .distantPast).timeIntervalSince(polls.min() ?? .distantPast)
        // Uniform over [0.3 s, 6 s]: six draws all within 1 s of each other is far below one in a thousand.
        #expect(spread > 1.0, "first polls within \(spread) s of each other")
    }

    @Test("an agent that only fills the child's environment takes no inotify instance (a node's agents share the per-user limit); one with a template does")
    func noInotifyWithoutFiles() throws {
        let proxy = try ThrottleProxy(quotas: [])
        defer { proxy.stop() }
        let env = try Servers.awsEnvironment(endpoint: proxy.endpoint)
        let scratch = Scratch()
        defer { scratch.remove() }
        scratch.write("app.mustache", "P={{ ssm:/sa-test/batch/p01 }}")
        let envOnly = try Daemon(Agent.binary, ["exec", "--env", "P={{ ssm:/sa-test/batch/p01 }}", "--", "sleep", "60"],
                                 logPath: scratch.file("env.log"), environment: env, cwd: scratch.path)
        defer { envOnly.stop() }
        let withFile = try Daemon(Agent.binary, ["exec", "--template", "app.mustache:\(scratch.path)/app.conf", "--", "sleep", "60"],
                                  logPath: scratch.file("file.log"), environment: env, cwd: scratch.path)
        defer { withFile.stop() }
        #expect(eventually(timeout: 20) { envOnly.log.contains("started child") && withFile.log.contains("started child") },
                "\(envOnly.log)\n\(withFile.log)")
        func inotifyInstances(_ p: Daemon) -> Int {
            let dir = "/proc/\(p.process.processIdentifier)/fd"
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            return fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/" + $0)) == "anon_inode:inotify" }.count
        }
        #expect(inotifyInstances(envOnly) == 0)
        #expect(inotifyInstances(withFile) == 1)
        #expect(!envOnly.log.contains("file watching unavailable"))
    }
}

extension ISO8601DateFormatter {
    /// `2026-01-02T03:04:05.678Z`, as the agent's logs write time.
    nonisolated(unsafe) static let withFractions: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
}
