#if canImport(Glibc)
import Glibc
#endif
import Logging
import SecretAgentCore
import SecretAgentOps
import SecretAgentProcess
import SecretAgentRuntime
import SecretAgentServe
import ServiceLifecycle

/// One running agent (`exec` and `run`), start to end:
///
/// configuration → backends → first fetch → render → write → child → watch (polls, leases,
/// inotify) → reload on SIGHUP → shut down.
///
/// It is a swift-service-lifecycle `Service`: `run()` returns when the child exits on its own or
/// after a graceful shutdown (SIGTERM/SIGINT, or the service group's). The exit status is then in
/// ``exitStatus``. Backends come from the context's factory and the child from a
/// ``ChildLauncher``, so tests run the whole agent on in-memory providers and a recorded child.
public actor Agent: Service {
    /// How the command line asked the agent to run.
    public struct Options: Sendable {
        /// `--env-from` references.
        public var envFrom: [String] = []
        /// `--pristine`: the child gets only the injected variables plus PATH, HOME, LANG, TZ.
        public var pristine = false
        /// `exec --once`: `execve` the command in place once everything is written.
        public var once = false
        /// False for `exec --no-watch`: supervise, never re-fetch.
        public var watch = true
        /// `exec` needs a command (from `-- CMD` or `exec.command`); `run` does not.
        public var requireCommand = false
        /// `--keep-files`: never remove the rendered files at the end.
        public var keepFiles = false
        /// What happens to the rendered files when `cleanup_on_exit` is not set: `exec` removes
        /// them, `run` keeps them.
        public var removeFilesByDefault = false
        /// SIGHUP re-reads the configuration (the agent was started with `--config`).
        public var reloadable = false
        /// `--listen`: serve `/healthz` and `/metrics`.
        public var listen: ListenAddress?
        /// Once started and watching, hand the code pages used only to start back to the kernel
        /// (`SecretMemory.releaseCodePages`): a process-wide step, for the command line's agent.
        public var releaseCodePages = false
        /// `--serve`: the local secrets API on this address (`serve:` in the configuration otherwise).
        public var serve: ListenAddress?

        public init() {}
    }

    /// The signals the agent handles itself when it has no child (a child's supervisor takes
    /// them over while it runs).
    public typealias SignalSource = @Sendable () -> AsyncStream<Int32>

    /// The process's own signals, through the process layer's signal thread.
    public static let processSignals: SignalSource = {
        let received = SignalHub.shared.signals()
        return AsyncStream { continuation in
            let task = Task {
                for await info in received { continuation.yield(info.signal) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    let options: Options
    let loadConfig: @Sendable () throws -> AgentConfig
    let context: AgentContext
    let launcher: any ChildLauncher
    let signals: SignalSource
    let clock: any Clock<Duration>
    let notifier: SystemdNotifier
    var logger: Logger { context.logger }

    var backends: (any Backends)?
    var loop: AgentLoop?
    var watcher: FileWatcher?
    var child: (any ChildHandle)?
    var rendered = false
    var leaseWatch: Task<Void, Never>?
    /// The local secrets API (`serve:`), when on.
    var localAPI: LocalAPI?
    /// Ends the wait of an agent without a child (a SIGTERM, or the group's graceful shutdown).
    var stopRequested: AsyncStream<Void>.Continuation?
    var stopped = false
    var stoppedBySignal: Int32?

    /// The agent's exit status once ``run()`` has returned: the child's (128+N for signal N),
    /// or 0 for an agent without a child that was stopped.
    public private(set) var exitStatus: Int32?

    /// - Parameters:
    ///   - loadConfig: reads the configuration with the command line applied; called at start
    ///     and again on each reload.
    ///   - clock: what the poll loops sleep on (tests advance a manual clock).
    public init(options: Options, context: AgentContext, launcher: any ChildLauncher = SupervisorLauncher(),
                signals: @escaping SignalSource = Agent.processSignals, clock: any Clock<Duration> = ContinuousClock(),
                loadConfig: @escaping @Sendable () throws -> AgentConfig) {
        self.options = options
        self.context = context
        self.launcher = launcher
        self.signals = signals
        self.clock = clock
        self.loadConfig = loadConfig
        notifier = SystemdNotifier(environment: context.environment)
    }

    /// Runs until the child exits or a graceful shutdown; sets ``exitStatus``.
    public func run() async throws {
        let status = try await withGracefulShutdownHandler {
            try await self.runToEnd()
        } onGracefulShutdown: {
            Task { await self.stop() }
        }
        exitStatus = status
    }

    /// A graceful stop: the child gets its stop signal (SIGKILL after `stop_timeout`); an agent
    /// without a child ends its wait.
    public func stop() async {
        stopped = true
        if let child {
            await child.stop()
        } else {
            stopRequested?.yield()
        }
    }

    /// A stop asked for by SIGTERM/SIGINT before a child took the signals over: if no child
    /// started, the agent ends with 128+N, as the signal would have ended it.
    func stop(bySignal signal: Int32) async {
        if child == nil { stoppedBySignal = signal }
        await stop()
    }

    /// The configuration this run uses (one-shot modes never revoke what they hand over).
    func configuration() throws -> AgentConfig {
        let config = try loadConfig()
        return options.once || !options.watch ? Pipeline.keepingLeases(config) : config
    }

    func runToEnd() async throws -> Int32 {
        logger.debug("\(SecretMemory.lastLockResult)")
        let config = try configuration()
        let argv = config.exec?.command ?? []
        if argv.isEmpty && options.requireCommand {
            throw AgentError.usage("exec needs a command: secret-agent exec [options] -- CMD [ARGS…], or exec.command in the configuration")
        }
        let ops = try await startOpsServer()
        defer { ops?.cancel() }
        localAPI = try await bindLocalAPI(config)
        let serving = localAPI.map { api in Task { await api.run() } }
        defer { serving?.cancel() }
        let prepared = try await Pipeline.prepare(config: config, envFrom: options.envFrom, inherited: inherited,
                                                  timeout: config.startTimeout, in: context)
        backends = prepared.backends
        // The agent takes its own signals from before the first write. Without a child: a SIGHUP
        // sent once the files are visible reloads rather than ending the agent with 129. With
        // one: a SIGTERM/SIGINT before the child's supervisor takes the signals over stops the
        // agent the graceful way (no child started, or the child stopped), so the files it wrote
        // are still removed.
        let ownSignals = signals()
        let earlySignals: Task<Void, Never>? = argv.isEmpty ? nil : Task { [weak self] in
            for await signal in ownSignals where signal == SIGTERM || signal == SIGINT {
                await self?.stop(bySignal: signal)
            }
        }
        defer { earlySignals?.cancel() }
        do {
            try Pipeline.write(prepared.rendered.files, config: config, logger: logger)
        } catch {
            await prepared.backends.shutdown()
            throw error
        }
        let injected = prepared.rendered.environment
        if options.once && !stopped {  // a SIGTERM that came during the write ends the agent instead
            await prepared.backends.shutdown()
            logger.debug("replacing the agent with the command", metadata: ["command": "\(argv.first ?? "")"])
            try launcher.execInPlace(command: argv, environment: childEnvironment(injected))
        }
        if !options.watch {
            await prepared.backends.shutdown()
            backends = nil
        }
        if let exec = config.exec, !argv.isEmpty, !stopped {
            child = try await launcher.start(command: argv, environment: childEnvironment(injected), exec: exec,
                                             hupReloads: options.reloadable, logger: logger)
            // A stop that came while the child was being started.
            if stopped, let child { await child.stop() }
        }
        let loop = AgentLoop(job: prepared.job, providers: prepared.backends.providers, outcomes: prepared.outcomes,
                             written: prepared.rendered.files, injected: child == nil ? nil : injected,
                             command: child == nil ? nil : argv, settings: Self.settings(config), child: child,
                             composeEnvironment: { [environment = context.environment, pristine = options.pristine] in
                                 Pipeline.childEnvironment(agent: environment, injected: $0, pristine: pristine)
                             },
                             clock: clock, logger: logger,
                             observer: MetricsObserver(onChange: localAPIChangeHandler()))
        self.loop = loop
        if options.watch {
            await loop.start()
            startLeaseWatch()
            await startFileWatch()
        }
        localAPI?.replace(localAPISources(prepared))
        rendered = true
        AgentMetrics.rendered(count: prepared.rendered.files.count)
        notifier.ready(status: "rendered \(prepared.rendered.files.count) files; watching \(prepared.job.locators.count) references")
        if options.releaseCodePages && options.watch {
            SecretMemory.releaseCodePages(logger: logger)
        }
        let watchdog = notifier.startWatchdog()
        let statusUpdates = notifier.startStatusUpdates(every: .seconds(15)) { [weak self] in
            await self?.healthSnapshot() ?? HealthSnapshot(renderedAll: false, poll: .seconds(300), backends: [])
        }
        defer {
            watchdog?.cancel()
            statusUpdates?.cancel()
        }
        let status = await waitForEnd(signals: argv.isEmpty ? ownSignals : nil)
        notifier.stopping()
        serving?.cancel()
        await loop.stop()
        leaseWatch?.cancel()
        watcher?.stop()
        await backends?.shutdown()
        backends = nil
        if !options.keepFiles && (config.cleanupOnExit ?? options.removeFilesByDefault) {
            Pipeline.remove(await loop.renderedFiles(), logger: logger)
        }
        return status
    }

    /// With a child: until it exits (SIGTERM/SIGINT reach it through its supervisor), reloading
    /// the configuration when it asks. Without: until SIGTERM/SIGINT or a graceful shutdown.
    func waitForEnd(signals subscribed: AsyncStream<Int32>?) async -> Int32 {
        if let child {
            let reloads = Task { [weak self] in
                for await _ in child.reloadRequests { await self?.reload() }
            }
            defer { reloads.cancel() }
            return await child.wait()
        }
        logger.info("rendered; watching until SIGTERM or SIGINT")
        let (requests, continuation) = AsyncStream.makeStream(of: Void.self)
        stopRequested = continuation
        if stopped { return stoppedBySignal.map { 128 + $0 } ?? 0 }
        let received = subscribed ?? signals()
        let logger = self.logger
        let listener = Task { [weak self] in
            for await signal in received {
                switch signal {
                case SIGTERM, SIGINT:
                    logger.info("stopping", metadata: ["signal": "\(SignalName.name(signal))"])
                    continuation.yield()
                case SIGHUP:
                    await self?.reloadIfAllowed()
                default:
                    continue
                }
            }
        }
        defer { listener.cancel() }
        for await _ in requests { break }
        return 0
    }

    private func reloadIfAllowed() async {
        if options.reloadable { await reload() }
    }

    private var inherited: [String: String]? { options.pristine ? nil : context.environment }

    private func childEnvironment(_ injected: [String: String]) -> [String: String] {
        Pipeline.childEnvironment(agent: context.environment, injected: injected, pristine: options.pristine)
    }

    static func settings(_ config: AgentConfig) -> AgentLoop.Settings {
        AgentLoop.Settings(poll: config.poll, defaultAllowDisk: config.allowDisk,
                           reloadSignal: config.exec?.reloadSignal ?? SIGHUP)
    }
}
