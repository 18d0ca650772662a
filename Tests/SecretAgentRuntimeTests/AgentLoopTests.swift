#if canImport(Glibc)
import Glibc
#endif
import Logging
import SecretAgentCore
import SecretAgentRuntime
import SecretTemplate
import Testing

/// Records what the loop does to the child, and what the files held at that moment.
actor ChildRecorder: ChildControl {
    enum Event: Equatable {
        case reload(Int32, files: [String])
        case restart([String: String])
    }

    private(set) var events: [Event] = []
    let watchedFiles: [String]

    init(watching files: [String]) {
        watchedFiles = files
    }

    func reload(signal: Int32) async {
        events.append(.reload(signal, files: watchedFiles.map { String(decoding: FileBytes.read($0) ?? [], as: UTF8.self) }))
    }

    func restart(environment: [String: String], command: [String]?) async throws {
        events.append(.restart(environment))
    }
}

@Suite("Agent loop: rotation, one action per change, outages")
final class AgentLoopTests {
    let dir: String
    let logger = Logger(label: "test")
    let a = Locator.ssm(name: "/a", selector: nil)
    let b = Locator.ssm(name: "/b", selector: nil)
    let pinned = Locator.ssm(name: "/a", selector: "1")
    let e = Locator.secretsManager(id: "env", stage: nil, versionID: nil)

    init() {
        var t = Array("/dev/shm/secret-agent-loop-XXXXXX".utf8CString)
        dir = t.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    deinit { FileWatcherTests.removeTree(dir) }

    struct Setup {
        let loop: AgentLoop
        let ssm: InMemoryProvider
        let sm: InMemoryProvider
        let child: ChildRecorder
    }

    func setup(poll: Duration = .milliseconds(100), logger: Logger? = nil, slowChild: SlowChild? = nil) async throws -> Setup {
        let yaml = """
            output_dir: \(dir)
            templates:
              - contents: "a={{ ssm:/a }}"
                destination: one.conf
              - contents: "a={{ ssm:/a }} pinned={{ ssm:/a:1 }}"
                destination: two.conf
              - contents: "b={{ ssm:/b }}"
                destination: quiet.conf
                on_change: none
            exec:
              env:
                E: "{{ sm:env }}"
            """
        let config = try AgentConfig.parse(yaml: yaml, file: "\(dir)/agent.yaml", environment: [:], uid: 0)
        let job = try Job.compile(config: config, flagsBase: dir)
        let ssm = InMemoryProvider(schemes: [.ssm], name: "ssm")
        let sm = InMemoryProvider(schemes: [.sm], name: "sm")
        await ssm.set(a, Secret(value: .string("a1"), version: "1"))
        await ssm.set(pinned, Secret(value: .string("a1"), version: "1"))
        await ssm.set(b, Secret(value: .string("b1"), version: "1"))
        await sm.set(e, Secret(value: .string("e1"), version: "v1"))
        let providers = ProviderSet([ssm, sm])
        let outcomes = try await providers.fetch(job.locators)
        let rendered = try job.render(StartupFetch.resolutions(outcomes), defaultAllowDisk: false)
        for f in rendered.files { try AtomicWriter.write(f) }
        let child = ChildRecorder(watching: ["\(dir)/one.conf", "\(dir)/two.conf"])
        let loop = AgentLoop(job: job, providers: providers, outcomes: outcomes, written: rendered.files,
                             injected: rendered.environment, command: ["app"],
                             settings: .init(poll: poll, defaultAllowDisk: false, reloadSignal: SIGHUP),
                             child: slowChild ?? child, composeEnvironment: { $0 }, logger: logger ?? self.logger)
        return Setup(loop: loop, ssm: ssm, sm: sm, child: child)
    }

    func read(_ name: String) -> String { String(decoding: FileBytes.read("\(dir)/\(name)") ?? [], as: UTF8.self) }

    func waitFor(_ timeout: Duration = .seconds(5), _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await condition()
    }

    @Test("one rotation touching two files: both written, then exactly one reload")
    func oneReloadPerChange() async throws {
        let s = try await setup()
        await s.loop.start()
        await s.ssm.set(a, Secret(value: .string("a2"), version: "2"))
        #expect(await waitFor { await !s.child.events.isEmpty })
        try await Task.sleep(for: .milliseconds(400))
        await s.loop.stop()
        let events = await s.child.events
        #expect(events == [.reload(SIGHUP, files: ["a=a2", "a=a2 pinned=a1"])], "both files new at the one signal")
        #expect(read("quiet.conf") == "b=b1")
    }

    @Test("nothing changed: no write and no signal across many polls")
    func quiet() async throws {
        let s = try await setup()
        var before = stat()
        stat("\(dir)/one.conf", &before)
        await s.loop.start()
        try await Task.sleep(for: .milliseconds(1200))
        await s.loop.stop()
        #expect(await s.child.events.isEmpty)
        #expect(await s.loop.polls >= 3)
        var after = stat()
        stat("\(dir)/one.conf", &after)
        #expect(before.st_ino == after.st_ino && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec)
    }

    @Test("pinned versions are never polled")
    func pinnedNotPolled() async throws {
        let s = try await setup()
        await s.loop.start()
        try await Task.sleep(for: .milliseconds(500))
        await s.ssm.set(pinned, Secret(value: .string("CHANGED"), version: "9"))
        try await Task.sleep(for: .milliseconds(500))
        await s.loop.stop()
        #expect(await s.child.events.isEmpty)
        #expect(read("two.conf") == "a=a1 pinned=a1")
    }

    @Test("an environment change restarts the child with the new value, without a reload")
    func envRestart() async throws {
        let s = try await setup()
        await s.loop.start()
        await s.sm.set(e, Secret(value: .string("e2"), version: "v2"))
        #expect(await waitFor { await !s.child.events.isEmpty })
        try await Task.sleep(for: .milliseconds(300))
        await s.loop.stop()
        #expect(await s.child.events == [.restart(["E": "e2"])])
    }

    @Test("on_change: none writes the file but leaves the child alone")
    func onChangeNone() async throws {
        let s = try await setup()
        await s.loop.apply([b: .found(Secret(value: .string("b2"), version: "2"))], from: "test")
        #expect(read("quiet.conf") == "b=b2")
        #expect(await s.child.events.isEmpty)
    }

    @Test("a backend outage: no signal, files kept, health reports it; the missed change arrives after")
    func outage() async throws {
        let s = try await setup()
        await s.loop.start()
        await s.ssm.failWith(AgentError(.unavailable, "connection refused", transient: true))
        try await Task.sleep(for: .milliseconds(800))
        let during = await s.loop.backendHealth().first { $0.name == "ssm" }
        #expect(during?.failingSince != nil)
        #expect(during?.lastError?.contains("connection refused") == true)
        #expect(await s.child.events.isEmpty)
        #expect(read("one.conf") == "a=a1")
        await s.ssm.set(a, Secret(value: .string("a3"), version: "3"))
        await s.ssm.failWith(nil)
        #expect(await waitFor { await !s.child.events.isEmpty })
        await s.loop.stop()
        #expect(read("one.conf") == "a=a3")
        #expect(await s.loop.backendHealth().first { $0.name == "ssm" }?.failingSince == nil)
    }

    @Test("a value that disappears keeps the last good file and logs; nothing is half-written")
    func disappears() async throws {
        let s = try await setup()
        await s.loop.apply([a: .notFound], from: "test")
        #expect(read("one.conf") == "a=a1")
        #expect(await s.child.events.isEmpty)
    }

    @Test("an on_change command runs once per change")
    func onChangeCommand() async throws {
        let marker = "\(dir)/marker"
        let s = try await setup()
        let yaml = """
            output_dir: \(dir)
            templates:
              - contents: "{{ ssm:/a }}"
                destination: c1.conf
                on_change: [sh, -c, "echo x >> \(marker)"]
              - contents: "{{ ssm:/a }}!"
                destination: c2.conf
                on_change: [sh, -c, "echo x >> \(marker)"]
            """
        let config = try AgentConfig.parse(yaml: yaml, file: "\(dir)/agent.yaml", environment: [:], uid: 0)
        let job = try Job.compile(config: config, flagsBase: dir)
        let providers = ProviderSet([s.ssm])
        let outcomes = try await providers.fetch(job.locators)
        let loop = AgentLoop(job: job, providers: providers, outcomes: outcomes, written: [], injected: nil, command: nil,
                             settings: .init(poll: .seconds(60), defaultAllowDisk: false, reloadSignal: SIGHUP), child: nil,
                             composeEnvironment: { $0.merging(["PATH": "/usr/bin:/bin"]) { new, _ in new } }, logger: logger)
        await loop.apply([a: .found(Secret(value: .string("new"), version: "5"))], from: "test")
        #expect(read("c1.conf") == "new")
        #expect(read("c2.conf") == "new!")
        #expect(read("marker") == "x\n")
    }

    @Test("an on_change command gets the child's scrubbed environment, without the injected values")
    func onChangeCommandEnvironment() async throws {
        let s = try await setup()
        let yaml = """
            output_dir: \(dir)
            templates:
              - contents: "{{ ssm:/a }}"
                destination: c.conf
                on_change: [sh, -c, "env > \(dir)/command-env"]
            exec:
              env:
                E: "{{ sm:env }}"
            """
        let config = try AgentConfig.parse(yaml: yaml, file: "\(dir)/agent.yaml", environment: [:], uid: 0)
        let job = try Job.compile(config: config, flagsBase: dir)
        let providers = ProviderSet([s.ssm, s.sm])
        let outcomes = try await providers.fetch(job.locators)
        let rendered = try job.render(StartupFetch.resolutions(outcomes), defaultAllowDisk: false)
        // What the agent's session passes: the scrub (here: a pristine PATH-only environment)
        // around the injected variables.
        let scrub: @Sendable ([String: String]) -> [String: String] = { $0.merging(["PATH": "/usr/bin:/bin"]) { new, _ in new } }
        let loop = AgentLoop(job: job, providers: providers, outcomes: outcomes, written: rendered.files,
                             injected: rendered.environment, command: ["app"],
                             settings: .init(poll: .seconds(60), defaultAllowDisk: false, reloadSignal: SIGHUP),
                             child: ChildRecorder(watching: []), composeEnvironment: scrub, logger: logger)
        await loop.apply([a: .found(Secret(value: .string("new"), version: "5"))], from: "test")
        let env = read("command-env")
        #expect(env.contains("PATH=/usr/bin:/bin"))
        #expect(!env.contains("E=e1"), "injected values are the child's, not the command's")
    }

    @Test("changes during a slow restart: one restart at a time, and the last one has the newest environment")
    func restartsSerialised() async throws {
        let child = SlowChild()
        let loop = try await setup(slowChild: child).loop
        let e = self.e
        async let first: Void = loop.apply([e: .found(Secret(value: .string("e2"), version: "v2"))], from: "sm")
        try await Task.sleep(for: .milliseconds(20))
        async let second: Void = loop.apply([e: .found(Secret(value: .string("e3"), version: "v3"))], from: "sm")
        try await Task.sleep(for: .milliseconds(20))
        async let third: Void = loop.apply([e: .found(Secret(value: .string("e4"), version: "v4"))], from: "sm")
        _ = await (first, second, third)
        let restarts = await child.restarts
        #expect(await child.mostAtOnce == 1, "restarts never overlap")
        #expect(restarts.last?["E"] == "e4", "the child that stays runs on the newest value")
        #expect(restarts.count == 2, "changes during a restart coalesce into one more restart")
    }

    @Test("write-back: a rendered file deleted or chmod-ed by someone else is restored (the mode in place)")
    func writeBack() async throws {
        let s = try await setup()
        let path = "\(dir)/one.conf"
        #expect(chmod(path, 0o644) == 0)
        var before = stat()
        stat(path, &before)
        await s.loop.fileEvent(FileEvent(path: path, kind: .changed))
        var after = stat()
        stat(path, &after)
        #expect(after.st_mode & 0o7777 == 0o600)
        #expect(after.st_ino == before.st_ino, "a chmod alone is corrected in place")
        #expect(unlink(path) == 0)
        await s.loop.fileEvent(FileEvent(path: path, kind: .deleted))
        #expect(read("one.conf") == "a=a1")
    }

    @Test("write-back refuses a directory whose owner changed under it (nothing written, an error names it)")
    func writeBackForeignDirectory() async throws {
        let lines = Shared<[String]>([])
        let logger = Logger(label: "test") { label in
            AgentLogHandler(label: label, level: .info, format: .text, sink: LogSink { line in lines.withLock { $0.append(line) } })
        }
        let s = try await setup(logger: logger)
        let path = "\(dir)/one.conf"
        #expect(unlink(path) == 0)
        #expect(chown(dir, 65534, 65534) == 0)
        await s.loop.fileEvent(FileEvent(path: path, kind: .deleted))
        #expect(access(path, F_OK) != 0, "not written into a directory that another user owns")
        let log = lines.withLock { $0 }.joined()
        #expect(log.contains("cannot write back") && log.contains(dir) && log.contains("uid 65534"), "\(log)")
    }
}

/// A child whose restart takes a while (a slow stop), recording overlap.
actor SlowChild: ChildControl {
    private(set) var restarts: [[String: String]] = []
    private(set) var mostAtOnce = 0
    private var running = 0

    func reload(signal: Int32) async {}

    func restart(environment: [String: String], command: [String]?) async throws {
        running += 1
        mostAtOnce = max(mostAtOnce, running)
        try await Task.sleep(for: .milliseconds(200))
        restarts.append(environment)
        running -= 1
    }
}
