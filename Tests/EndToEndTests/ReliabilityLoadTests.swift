import Foundation
import Testing

/// Load: 1,000 references polled every second against a moto of the test's own, for
/// `SECRET_AGENT_LOAD_MINUTES` minutes (the test is skipped without it; `scripts/load-test.sh`
/// sets it, default 10). A writer rotates one value every few seconds; every value it writes must
/// reach the file (each change runs the template's on_change command once, which records the
/// file). Memory and file descriptors are sampled; neither may grow beyond noise.
@Suite("Reliability: load", .serialized)
struct ReliabilityLoadTests {
    static let minutes = Double(ProcessInfo.processInfo.environment["SECRET_AGENT_LOAD_MINUTES"] ?? "")
    static let ssmCount = 700
    static let smCount = 299
    static let rotateEvery = 3.0

    struct Sample {
        var t: Double
        var rssKiB: Int
        var fds: Int
        var threads: Int
    }

    static func median(_ xs: [Int]) -> Int {
        guard !xs.isEmpty else { return 0 }
        return xs.sorted()[xs.count / 2]
    }

    static let writer = #"""
        import os, sys, time, boto3
        c = boto3.client("ssm", endpoint_url=os.environ["EP"], region_name="us-east-1",
                         aws_access_key_id=os.environ["K"], aws_secret_access_key=os.environ["S"])
        log, every = sys.argv[1], float(sys.argv[2])
        n = 0
        while True:
            time.sleep(every)
            n += 1
            c.put_parameter(Name="/load/rot", Value=f"r-{n}", Type="String", Overwrite=True)
            with open(log, "a") as f:
                f.write(f"r-{n} {time.time()}\n")
        """#

    @Test("1,000 references, poll 1s: memory flat, no descriptor leak, no missed rotation",
          .enabled(if: minutes != nil && Servers.motoEnabled), .timeLimit(.minutes(90)))
    func load() throws {
        let duration = (Self.minutes ?? 1) * 60
        let moto = try PrivateMoto()
        defer { moto.stop() }
        let s = Scratch()
        defer { s.remove() }
        try Servers.boto("""
            ssm, sm = c("ssm"), c("secretsmanager")
            for i in range(\(Self.ssmCount)):
                ssm.put_parameter(Name=f"/load/p{i:04d}", Value=f"load-param-{i:04d}", Type="String")
            for i in range(\(Self.smCount)):
                sm.create_secret(Name=f"load/s{i:04d}", SecretString=f"load-secret-{i:04d}")
            ssm.put_parameter(Name="/load/rot", Value="r-0", Type="String")
            """, endpoint: moto.endpoint)

        var yaml = """
            poll: 1s
            output_dir: \(s.path)/out
            aws:
              request_timeout: 5s
            templates:
              - contents: "{{ ssm:/load/rot }}"
                destination: rot.txt
                on_change:
                  command: [sh, -c, "cat \(s.path)/out/rot.txt >> \(s.file("seen.log")); echo >> \(s.file("seen.log"))"]

            """
        let refs = (0..<Self.ssmCount).map { String(format: "ssm:/load/p%04d", $0) } + (0..<Self.smCount).map { String(format: "sm:load/s%04d", $0) }
        for (part, start) in stride(from: 0, to: refs.count, by: 100).enumerated() {
            let body = refs[start..<min(start + 100, refs.count)].map { "{{ \($0) }}" }.joined(separator: "\\n")
            yaml += "  - contents: \"\(body)\"\n    destination: part-\(part).txt\n"
        }
        s.write("agent.yaml", yaml)
        let port = Int.random(in: 20000...60000)
        let environment = try Servers.awsEnvironment(endpoint: moto.endpoint)
        let (p, _, err) = try Agent.start(["run", "--listen", "127.0.0.1:\(port)", "--config", s.file("agent.yaml")], environment: environment)
        let stderr = Collector(err)
        defer { finish(p) }
        #expect(eventually(timeout: 60) { s.read("out/rot.txt") == "r-0" && s.exists("out/part-9.txt") }, "\(stderr.text(wait: false).suffix(800))")
        #expect(s.read("out/part-0.txt")?.hasPrefix("load-param-0000\nload-param-0001") == true)

        // The rotating writer.
        s.write("writer.py", Self.writer)
        let w = Process()
        w.executableURL = URL(fileURLWithPath: Servers.python)
        w.arguments = [s.file("writer.py"), s.file("written.log"), "\(Self.rotateEvery)"]
        w.environment = ["EP": moto.endpoint, "K": environment["AWS_ACCESS_KEY_ID"] ?? "", "S": environment["AWS_SECRET_ACCESS_KEY"] ?? "",
                         "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        w.standardOutput = FileHandle.nullDevice
        try w.run()

        let pid = p.processIdentifier
        var samples: [Sample] = []
        let started = Date()
        while Date().timeIntervalSince(started) < duration && p.isRunning {
            samples.append(Sample(t: Date().timeIntervalSince(started), rssKiB: Proc.kilobytes(pid, "VmRSS") ?? 0,
                                  fds: Proc.fdCount(pid) ?? 0, threads: Int(Proc.status(pid)["Threads"] ?? "") ?? 0))
            Thread.sleep(forTimeInterval: 5)
        }
        kill(w.processIdentifier, SIGKILL)
        w.waitUntilExit()
        #expect(p.isRunning, "the agent is still running: \(stderr.text(wait: false).suffix(800))")
        let written = (s.read("written.log") ?? "").split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(eventually(timeout: 15) { s.read("out/rot.txt") == written.last ?? "r-0" }, "the last value arrives")
        Thread.sleep(forTimeInterval: 1)
        let seen = Set((s.read("seen.log") ?? "").split(separator: "\n").map(String.init))
        let missed = written.filter { !seen.contains($0) }
        let metrics = httpGet("http://127.0.0.1:\(port)/metrics")
        let calls = metrics.split(separator: "\n").filter { $0.hasPrefix("secret_agent_api_calls_total") }
        let failures = count("backend failing", in: stderr.text(wait: false))

        // Memory and descriptors: the first fifth is warm-up; compare its median with the last fifth's.
        let fifth = max(samples.count / 5, 1)
        let warm = Array(samples.prefix(fifth * 2).suffix(fifth)), end = Array(samples.suffix(fifth))
        let (rssWarm, rssEnd) = (Self.median(warm.map(\.rssKiB)), Self.median(end.map(\.rssKiB)))
        let (fdWarm, fdEnd) = (Self.median(warm.map(\.fds)), end.map(\.fds).max() ?? 0)
        let rssAllowance = max(rssWarm / 10, 6 * 1024)
        #expect(written.count >= Int(duration / Self.rotateEvery) / 2, "the writer rotated \(written.count) times")
        #expect(missed.isEmpty, "rotations that never reached the file: \(missed)")
        #expect(rssEnd <= rssWarm + rssAllowance, "RSS grew from \(rssWarm) KiB to \(rssEnd) KiB")
        #expect(fdEnd <= fdWarm + 4, "descriptors grew from \(fdWarm) to \(fdEnd)")

        let report = """
            | when | duration | references | poll | rotations written / reached the file | RSS warm → end (max) | fds warm → end (max) | threads | poll failures |
            |---|---|---|---|---|---|---|---|---|
            | \(ISO8601DateFormatter().string(from: Date())) | \(Int(duration)) s | \(refs.count + 1) | 1s | \(written.count) / \(written.count - missed.count) | \(rssWarm / 1024) → \(rssEnd / 1024) MiB (\((samples.map(\.rssKiB).max() ?? 0) / 1024)) | \(fdWarm) → \(end.last?.fds ?? 0) (\(samples.map(\.fds).max() ?? 0)) | \(samples.last?.threads ?? 0) | \(failures) |

            API calls by the end: \(calls.map { String($0) }.joined(separator: "; "))
            """
        print("load-test:\n\(report)")
        if let path = ProcessInfo.processInfo.environment["SECRET_AGENT_LOAD_REPORT"] {
            try report.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }
}
