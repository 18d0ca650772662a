#if canImport(Glibc)
import Glibc
#endif
import Logging
import SecretAgent
import SecretAgentCore
import SecretAgentRuntime
import SecretTemplate
import ServiceLifecycle
import Testing

/// The whole agent — configuration, first fetch, render, write, child, polls, reload, shutdown —
/// on in-memory providers, a recorded child and a manual clock: no server, no process, no sleep.
@Suite("The agent as a library, end to end on in-memory providers")
struct AgentTests {
    let ssm = InMemoryProvider(schemes: [.ssm], name: "ssm")
    let sm = InMemoryProvider(schemes: [.sm], name: "sm")
    let user = Locator.ssm(name: "/app/user", selector: nil)
    let password = Locator.secretsManager(id: "app/db", stage: nil, versionID: nil)
    let token = Locator.secretsManager(id: "app/token", stage: nil, versionID: nil)

    /// One agent under test.
    struct Harness {
        let agent: Agent
        let dir: TempDir
        let clock: ManualClock
        let launcher: RecordingLauncher
        let logs: LogLines
        let configText: Box<String>
        let signals: AsyncStream<Int32>.Continuation
        let running: Task<Void, any Error>

        var child: RecordedChild? { launcher.last }

        /// One poll of every backend: time moves past the longest jittered interval.
        func poll() async {
            // Every poll task (one per backend: ssm and sm) must be asleep on the clock before
            // time moves: one that goes to sleep after the advance would wait a whole interval.
            _ = await until { clock.sleeping >= 2 }
            clock.advance(by: .seconds(2))
        }

        /// Stops the agent the graceful way (its child, if one runs, is stopped), waits for it to
        /// end, and removes its directory.
        func finish() async {
            await agent.stop()
            _ = try? await running.value
            dir.remove()
        }
    }

    func config(_ dir: TempDir, exec: Bool = true, extra: String = "") -> String {
        """
        poll: 1s
        output_dir: \(dir.path)
        \(extra)
        templates:
          - contents: "user={{ ssm:/app/user }} password={{ sm:app/db#password }}"
            destination: app.conf
        \(exec ? """
        exec:
          command: [app, --serve]
          env:
            TOKEN: "{{ sm:app/token }}"
        """ : "")
        """
    }

    /// The first version of every value the configuration names.
    func seed() async {
        await ssm.set(user, Secret(value: .string("alice"), version: "1"))
        await sm.set(password, Secret(value: .string(#"{"password": "p1"}"#), version: "v1"))
        await sm.set(token, Secret(value: .string("t1"), version: "v1"))
    }

    func start(exec: Bool = true, extra: String = "", options: Agent.Options = Agent.Options()) async throws -> Harness {
        await seed()
        let dir = TempDir()
        let clock = ManualClock()
        let launcher = RecordingLauncher()
        let logs = LogLines()
        let text = Box(config(dir, exec: exec, extra: extra))
        let (signals, continuation) = AsyncStream.makeStream(of: Int32.self)
        let context = AgentContext(environment: ["PATH": "/usr/bin:/bin"], cwd: dir.path, logger: logs.logger(),
                                   factory: StaticBackendFactory([ssm, sm]))
        var options = options
        options.reloadable = true
        let agent = Agent(options: options, context: context, launcher: launcher, signals: { signals }, clock: clock) {
            try AgentConfig.parse(yaml: text.get(), file: "\(dir.path)/agent.yaml", environment: [:])
        }
        let running = Task { try await agent.run() }
        let h = Harness(agent: agent, dir: dir, clock: clock, launcher: launcher, logs: logs, configText: text,
                        signals: continuation, running: running)
        #expect(await until { dir.read("app.conf") != nil && (exec ? launcher.last != nil : true) }, "\(logs.text)")
        return h
    }

    @Test("a SIGTERM before the child's supervisor takes the signals over stops the agent gracefully: the files go, the status is 143",
          .timeLimit(.minutes(1)))
    func signalBeforeTheChild() async throws {
        await seed()
        let dir = TempDir()
        defer { dir.remove() }
        let launcher = RecordingLauncher()
        let (signals, continuation) = AsyncStream.makeStream(of: Int32.self)
        continuation.yield(SIGTERM)  // already pending while the agent fetches and writes
        var options = Agent.Options()
        options.removeFilesByDefault = true  // as exec
        let text = config(dir)
        let context = AgentContext(environment: ["PATH": "/usr/bin:/bin"], cwd: dir.path, logger: LogLines().logger(),
                                   factory: StaticBackendFactory([ssm, sm]))
        let agent = Agent(options: options, context: context, launcher: launcher, signals: { signals }, clock: ManualClock()) {
            try AgentConfig.parse(yaml: text, file: "\(dir.path)/agent.yaml", environment: [:])
        }
        try await agent.run()
        #expect(await agent.exitStatus == 143)
        #expect(dir.read("app.conf") == nil, "the rendered file is removed")
        if let child = launcher.last {
            #expect(await child.events.last == .stopped, "a child started meanwhile is stopped")
        }
    }

    /// Runs `body` with a started agent and always ends it and removes its directory afterwards
    /// (a `defer { Task { … } }` would not finish before the test process exits).
    func withHarness(exec: Bool = true, extra: String = "", options: Agent.Options = Agent.Options(),
                     _ body: (Harness) async throws -> Void) async throws {
        let h = try await start(exec: exec, extra: extra, options: options)
        do {
            try await body(h)
        } catch {
            await h.finish()
            throw error
        }
        await h.finish()
    }

    @Test("first render: every file written, then the child starts with the injected environment")
    func firstRender() async throws {
        try await withHarness() { h in
            #expect(h.dir.read("app.conf") == "user=alice password=p1")
            let child = try #require(h.child)
            guard case .started(let env)? = await child.events.first else { Issue.record("no start"); return }
            #expect(env["TOKEN"] == "t1")
            #expect(env["PATH"] == "/usr/bin:/bin", "the agent's environment is inherited")
            #expect(await h.agent.healthSnapshot().renderedAll)
            await child.exit(0)
            _ = try await h.running.value
            #expect(await h.agent.exitStatus == 0)
        }
    }

    @Test("a rotation rewrites the file and reloads the child once; a quiet poll does nothing")
    func rotation() async throws {
        try await withHarness() { h in
            let child = try #require(h.child)
            await ssm.set(user, Secret(value: .string("bob"), version: "2"))
            await h.poll()
            #expect(await until { h.dir.read("app.conf") == "user=bob password=p1" })
            #expect(await until { await child.reloads >= 1 })
            await h.poll()
            await h.poll()
            #expect(await child.reloads == 1, "one change, one reload; quiet polls reload nothing")
            #expect(await child.restarts.isEmpty)
            #expect(!h.logs.text.contains("bob"), "no value in the log")
        }
    }

    @Test("an environment value that changes restarts the child with the new value")
    func environmentChange() async throws {
        try await withHarness() { h in
            let child = try #require(h.child)
            await sm.set(token, Secret(value: .string("t2"), version: "v2"))
            await h.poll()
            #expect(await until { await child.restarts.count == 1 }, "\(h.logs.text)")
            #expect(await child.restarts.first?["TOKEN"] == "t2")
            #expect(await child.reloads == 0, "a restart, not a reload")
        }
    }

    @Test("SIGHUP with a broken configuration is refused and the old one keeps running; a good one is taken")
    func reload() async throws {
        try await withHarness() { h in
            let child = try #require(h.child)
            h.configText.set("templates: [ this is not yaml")
            #expect(await h.agent.reload() == false)
            #expect(h.logs.text.contains("configuration refused; the old one keeps running"))
            #expect(h.dir.read("app.conf") == "user=alice password=p1")
            #expect(await child.events.count == 1, "the child was not touched")

            // The same request through the child's supervisor (SIGHUP with --config).
            h.configText.set(config(h.dir).replacingOccurrences(of: "app.conf", with: "renamed.conf"))
            await child.requestReload()
            #expect(await until { h.dir.read("renamed.conf") == "user=alice password=p1" }, "\(h.logs.text)")
            #expect(await until { await child.reloads == 1 }, "the new file is announced to the child")
        }
    }

    @Test("an outage keeps the last good values; the change missed is applied when the backend answers")
    func outage() async throws {
        try await withHarness() { h in
            let child = try #require(h.child)
            await ssm.failWith(AgentError(.unavailable, "ssm is down", transient: true))
            await ssm.set(user, Secret(value: .string("carol"), version: "3"))
            await h.poll()
            #expect(await until { h.logs.text.contains("backend failing; the child keeps the last good values") })
            #expect(h.dir.read("app.conf") == "user=alice password=p1")
            #expect(await child.reloads == 0)
            let failing = await h.agent.healthSnapshot().backends.first { $0.name == "ssm" }
            #expect(failing?.failingSince != nil)
            await ssm.failWith(nil)
            // Backoff after a failure: at most the poll interval.
            await h.poll()
            #expect(await until { h.dir.read("app.conf") == "user=carol password=p1" }, "\(h.logs.text)")
            #expect(await until { await child.reloads == 1 })
        }
    }

    @Test("a graceful shutdown of the service group stops the child; the agent exits with its status")
    func gracefulShutdown() async throws {
        await seed()
        let dir = TempDir()
        defer { dir.remove() }
        let launcher = RecordingLauncher()
        let logs = LogLines()
        let text = config(dir)
        let context = AgentContext(environment: [:], cwd: dir.path, logger: logs.logger(), factory: StaticBackendFactory([ssm, sm]))
        var options = Agent.Options()
        options.removeFilesByDefault = true
        let agent = Agent(options: options, context: context, launcher: launcher, signals: { AsyncStream { _ in } },
                          clock: ManualClock()) {
            try AgentConfig.parse(yaml: text, file: "\(dir.path)/agent.yaml", environment: [:])
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [.init(service: agent)], logger: logs.logger()))
        let running = Task { try await group.run() }
        #expect(await until { launcher.last != nil })
        #expect(dir.read("app.conf") != nil)
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(await launcher.last?.events.last == .stopped)
        #expect(await agent.exitStatus == 143)
        #expect(dir.read("app.conf") == nil, "exec's default: the rendered files go with the run")
    }

    @Test("without a child: SIGHUP reloads, SIGTERM ends the agent with 0 and the files stay")
    func withoutChild() async throws {
        try await withHarness(exec: false) { h in
            h.configText.set("poll: [")
            h.signals.yield(SIGHUP)
            #expect(await until { h.logs.text.contains("configuration refused") })
            h.signals.yield(SIGTERM)
            _ = try await h.running.value
            #expect(await h.agent.exitStatus == 0)
            #expect(h.dir.read("app.conf") == "user=alice password=p1", "run keeps its files unless cleanup_on_exit")
        }
    }

    @Test("a first fetch that cannot succeed writes nothing and starts nothing")
    func startFailure() async throws {
        await sm.set(password, nil)
        let dir = TempDir()
        defer { dir.remove() }
        let launcher = RecordingLauncher()
        let text = config(dir)
        let context = AgentContext(environment: [:], cwd: dir.path, logger: LogLines().logger(), factory: StaticBackendFactory([ssm, sm]))
        let agent = Agent(options: Agent.Options(), context: context, launcher: launcher, clock: ManualClock()) {
            try AgentConfig.parse(yaml: text, file: "\(dir.path)/agent.yaml", environment: [:])
        }
        await #expect(throws: (any Error).self) { try await agent.run() }
        #expect(dir.read("app.conf") == nil)
        #expect(launcher.last == nil)
    }
}
