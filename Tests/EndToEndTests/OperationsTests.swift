import Foundation
import Testing

@Suite("Operations: --listen, sd_notify, plan, JSON logs")
struct OperationsTests {
    func curl(_ url: String) -> (code: String, body: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-s", "-w", "\n%{http_code}", url]
        let out = Pipe()
        p.standardOutput = out
        try? p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
    }

    @Test("--listen serves /healthz (200 once rendered) and /metrics without values")
    func listen() throws {
        let s = Scratch()
        defer { s.remove() }
        _ = Fixture.secretsFile(in: s)
        let port = Net.freePort()
        s.write("agent.yaml", """
            poll: 200ms
            output_dir: \(s.path)/out
            templates:
              - contents: "{{ file:secrets.json#password }}"
                destination: pw
            """)
        let (p, _, err) = try Agent.start(["run", "--listen", "127.0.0.1:\(port)", "--config", s.file("agent.yaml")],
                                          environment: Agent.cleanEnvironment())
        let stderr = Collector(err)
        #expect(eventually { curl("http://127.0.0.1:\(port)/healthz").code == "200" }, "\(stderr.text(wait: false))")
        let health = curl("http://127.0.0.1:\(port)/healthz")
        #expect(health.body.contains("\"status\":\"ok\""), "\(health.body)")
        #expect(eventually { curl("http://127.0.0.1:\(port)/metrics").body.contains("secret_agent_fetch_seconds") },
                "the file backend is polled and timed")
        let metrics = curl("http://127.0.0.1:\(port)/metrics")
        #expect(metrics.code == "200")
        #expect(metrics.body.contains("secret_agent_renders_total"))
        Fixture.expectNoSecrets(health.body + metrics.body)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    @Test("READY=1 reaches NOTIFY_SOCKET after the first complete render")
    func notify() throws {
        let s = Scratch()
        defer { s.remove() }
        _ = Fixture.secretsFile(in: s)
        let socketPath = s.file("notify.sock")
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in socketPath.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0)
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        s.write("agent.yaml", "output_dir: \(s.path)/out\ntemplates:\n  - contents: \"{{ file:secrets.json#username }}\"\n    destination: u\n")
        let (p, _, _) = try Agent.start(["run", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment(["NOTIFY_SOCKET": socketPath]))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        let message = String(decoding: buffer.prefix(max(n, 0)), as: UTF8.self)
        #expect(message.contains("READY=1"), "\(message)")
        #expect(s.read("out/u") == Fixture.user, "READY comes after the render")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
    }

    @Test("plan prints calls and cost for a configuration")
    func plan() throws {
        let r = try Agent.run(["plan", "--config", "examples/docker-registry/agent.yaml"], environment: Agent.cleanEnvironment(), cwd: Agent.repositoryRoot)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("GetParameters"))
        #expect(r.stdout.contains("Prices as published"))
    }

    @Test("--log-format json writes one JSON object per line")
    func jsonLogs() throws {
        let s = Scratch()
        defer { s.remove() }
        let file = Fixture.secretsFile(in: s)
        let r = try Agent.run(["exec", "--log-format", "json", "--log-level", "trace", "--env", "P={{ file:\(file)#password }}", "--", "true"],
                              environment: Agent.cleanEnvironment())
        #expect(r.status == 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] != nil && object?["message"] != nil && object?["time"] != nil, "\(line)")
        }
        Fixture.expectNoSecrets(r.stderr)
    }
}

@Suite("Operations against a backend outage")
struct HealthOutageTests {
    @Test("/healthz goes 503 naming the failing backend during an outage and 200 after", .enabled(if: Servers.motoEnabled))
    func healthDuringOutage() throws {
        let moto = try PrivateMoto()
        try Servers.boto(#"c("ssm").put_parameter(Name="/health/x", Value="v", Type="String")"#, endpoint: moto.endpoint)
        let s = Scratch()
        defer { s.remove() }
        s.write("agent.yaml", "poll: 300ms\noutput_dir: \(s.path)/out\ntemplates:\n  - contents: \"{{ ssm:/health/x }}\"\n    destination: x\n")
        let port = Net.freePort()
        let (p, _, err) = try Agent.start(["run", "--listen", "127.0.0.1:\(port)", "--config", s.file("agent.yaml")],
                                          environment: try Servers.awsEnvironment(endpoint: moto.endpoint))
        let stderr = Collector(err)
        let ops = OperationsTests()
        #expect(eventually(timeout: 20) { ops.curl("http://127.0.0.1:\(port)/healthz").code == "200" }, "\(stderr.text(wait: false))")
        moto.stop()
        #expect(eventually(timeout: 15) { ops.curl("http://127.0.0.1:\(port)/healthz").code == "503" })
        let degraded = ops.curl("http://127.0.0.1:\(port)/healthz").body
        #expect(degraded.contains("aws-ssm"), "\(degraded)")
        #expect(s.read("out/x") == "v", "files keep their content")
        try moto.start()
        try Servers.boto(#"c("ssm").put_parameter(Name="/health/x", Value="v", Type="String")"#, endpoint: moto.endpoint)
        #expect(eventually(timeout: 20) { ops.curl("http://127.0.0.1:\(port)/healthz").code == "200" }, "\(stderr.text(wait: false))")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}
