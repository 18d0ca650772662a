#if canImport(Glibc)
import Glibc
#endif
import Logging
import SecretAgentCore
import SecretAgentOps
import SecretAgentProcess
import SecretAgentRuntime
import SecretTemplate

/// One running agent (`exec` and `run`): the first render, the child, the watch loop, SIGHUP
/// reloads of the configuration and the shutdown.
actor AgentSession {
    let options: AgentOptions
    let commandOverride: [String]
    let environment: [String: String]
    let cwd: String
    let logger: Logger
    var backends: Backends?
    var loop: AgentLoop?
    var watcher: FileWatcher?
    var rendered = false
    let notifier: SystemdNotifier

    init(options: AgentOptions, command: [String], logger: Logger) {
        self.options = options
        self.commandOverride = command
        self.environment = Environment.current()
        self.cwd = FileBytes.currentDirectory()
        self.logger = logger
        self.notifier = SystemdNotifier(environment: environment)
    }

    /// What `/healthz` and systemd's STATUS= report.
    func healthSnapshot() async -> HealthSnapshot {
        guard let loop else { return HealthSnapshot(renderedAll: false, poll: .seconds(300), backends: []) }
        return HealthSnapshot(renderedAll: rendered, poll: await loop.pollInterval, backends: await loop.polledBackendHealth())
    }

    /// `--listen`: bound before the first fetch, so probes see "starting" until it is done.
    private func startOpsServer() async throws -> Task<Void, Never>? {
        guard let listen = options.listen else { return nil }
        let server = try await OpsServer.bind(try ListenAddress.parse(listen), logger: logger,
                                              onScrape: { [weak self] in await self?.backends?.recordTimeLeft() }) { [weak self] in
            await self?.healthSnapshot() ?? HealthSnapshot(renderedAll: false, poll: .seconds(300), backends: [])
        }
        return Task { await server.run() }
    }

    /// The configuration with flags applied and `-- CMD` replacing `exec.command`.
    func loadConfig() throws -> AgentConfig {
        var config = try options.loadConfig(environment: environment, cwd: cwd)
        if !commandOverride.isEmpty {
            var exec = config.exec ?? ExecSpec()
            exec.command = commandOverride
            config.exec = exec
        }
        return config
    }

    /// Renders, writes, starts the child (or execs in place with `once`), watches until the
    /// child exits or SIGTERM/SIGINT; returns the agent's exit status. With `removeFiles`, the
    /// rendered files are removed when the run ends (`cleanup_on_exit`, `exec` by default).
    func run(once: Bool, watch: Bool, requireCommand: Bool, removeFiles: Bool) async throws -> Int32 {
        logger.debug("\(SecretMemory.lastLockResult)")
        let loaded = try loadConfig()
        // Only a supervised, watching run revokes on exit: one-shot modes hand their leases over.
        let config = once || !watch ? Pipeline.keepingLeases(loaded) : loaded
        let argv = config.exec?.command ?? []
        if argv.isEmpty && requireCommand {
            throw AgentError.usage("exec needs a command: secret-agent exec [options] -- CMD [ARGS…], or exec.command in the configuration")
        }
        let ops = try await startOpsServer()
        defer { ops?.cancel() }
        let prepared = try await Pipeline.prepare(config: config, envFrom: options.envFrom, inherited: inherited,
                                                  environment: environment, cwd: cwd, logger: logger)
        backends = prepared.backends
        do {
            try Pipeline.write(prepared.rendered.files, config: config, logger: logger)
        } catch {
            await prepared.backends.shutdown()
            throw error
        }
        let injected = prepared.rendered.environment
        if once {
            await prepared.backends.shutdown()
            logger.debug("replacing the agent with the command", metadata: ["command": "\(argv.first ?? "")"])
            try ChildProcess.execInPlace(command: argv, environment: childEnvironment(injected))
        }
        if !watch {
            await prepared.backends.shutdown()
            backends = nil
        }
        let hupReloads = options.config != nil
        var supervisor: Supervisor?
        if let exec = config.exec, !argv.isEmpty {
            SignalHub.becomeChildSubreaper()
            let s = Supervisor(stopSignal: exec.stopSignal, stopTimeout: exec.stopTimeout, hupReloads: hupReloads, logger: logger)
            try await s.start(command: argv, environment: childEnvironment(injected))
            supervisor = s
        }
        let loop = AgentLoop(job: prepared.job, providers: prepared.backends.providers, outcomes: prepared.outcomes,
                             written: prepared.rendered.files, injected: supervisor == nil ? nil : injected,
                             command: supervisor == nil ? nil : argv, settings: Self.settings(config),
                             child: supervisor.map { SupervisedChild($0) },
                             composeEnvironment: { [environment, pristine = options.pristine] in
                                 Pipeline.childEnvironment(agent: environment, injected: $0, pristine: pristine)
                             },
                             logger: logger, observer: MetricsObserver())
        self.loop = loop
        if watch {
            await loop.start()
            startLeaseWatch()
            await startFileWatch()
        }
        rendered = true
        AgentMetrics.rendered(count: prepared.rendered.files.count)
        notifier.ready(status: "rendered \(prepared.rendered.files.count) files; watching \(prepared.job.locators.count) references")
        let watchdog = notifier.startWatchdog()
        let statusUpdates = notifier.startStatusUpdates(every: .seconds(15)) { [weak self] in
            await self?.healthSnapshot() ?? HealthSnapshot(renderedAll: false, poll: .seconds(300), backends: [])
        }
        defer {
            watchdog?.cancel()
            statusUpdates?.cancel()
        }
        let status: Int32
        if let supervisor {
            let events = Task { [weak self] in
                for await event in supervisor.events where event == .reloadRequested {
                    await self?.reload()
                }
            }
            status = await supervisor.wait().exitCode
            events.cancel()
        } else {
            status = await waitForTermination(hupReloads: hupReloads)
        }
        notifier.stopping()
        await loop.stop()
        watcher?.stop()
        await backends?.shutdown()
        if removeFiles { Pipeline.remove(await loop.renderedFiles(), logger: logger) }
        return status
    }

    /// inotify: rendered files written back, template sources re-read, `file:` secrets re-read.
    private func startFileWatch() async {
        guard let loop else { return }
        do {
            let w = try FileWatcher()
            w.watch(await loop.watchedPaths())
            watcher = w
            Task {
                for await event in w.events { await loop.fileEvent(event) }
            }
        } catch {
            logger.warning("file watching unavailable; files are checked at each poll only", metadata: ["error": "\(error)"])
        }
    }

    private var inherited: [String: String]? { options.pristine ? nil : environment }

    private func childEnvironment(_ injected: [String: String]) -> [String: String] {
        Pipeline.childEnvironment(agent: environment, injected: injected, pristine: options.pristine)
    }

    static func settings(_ config: AgentConfig) -> AgentLoop.Settings {
        AgentLoop.Settings(poll: config.poll, defaultAllowDisk: config.allowDisk,
                           reloadSignal: config.exec?.reloadSignal ?? SIGHUP)
    }

    /// Vault leases replaced before expiry count as rotations.
    private func startLeaseWatch() {
        guard let stream = backends?.leaseReplacements, let loop else { return }
        Task {
            for await locator in stream {
                await loop.refresh([locator], reason: "lease replaced")
            }
        }
    }

    /// Without a child: SIGTERM/SIGINT end the agent (status 0); SIGHUP reloads with --config.
    private func waitForTermination(hupReloads: Bool) async -> Int32 {
        logger.info("rendered; watching until SIGTERM or SIGINT")
        for await info in SignalHub.shared.signals() {
            switch info.signal {
            case SIGTERM, SIGINT:
                logger.info("stopping", metadata: ["signal": "\(SignalName.name(info.signal))"])
                return 0
            case SIGHUP where hupReloads:
                await reload()
            default:
                continue
            }
        }
        return 0
    }

    /// SIGHUP: read the configuration again. A broken one is refused and the old one keeps running.
    func reload() async {
        logger.notice("reloading the configuration")
        notifier.reloading()
        defer { notifier.ready() }
        do {
            let config = try loadConfig()
            let job = try Job.compile(config: config, envFrom: options.envFrom, flagsBase: cwd, inherited: inherited)
            let fresh = try await Backends.make(for: job.locators, config: config, environment: environment, logger: logger)
            do {
                let outcomes = try await StartupFetch(providers: fresh.providers, timeout: min(config.startTimeout, .seconds(30)),
                                                      logger: logger).run(job.locators)
                let rendered = try job.render(StartupFetch.resolutions(outcomes), defaultAllowDisk: config.allowDisk)
                try AtomicWriter.preflight(rendered.files)
                guard let loop else { return }
                await loop.replace(job: job, providers: fresh.providers, outcomes: outcomes, settings: Self.settings(config),
                                   command: config.exec?.command)
            } catch {
                await fresh.shutdown()
                throw error
            }
            await backends?.shutdown()
            backends = fresh
            startLeaseWatch()
            if let loop { watcher?.watch(await loop.watchedPaths()) }
            logger.notice("configuration reloaded")
        } catch {
            logger.error("configuration refused; the old one keeps running", metadata: [
                "error": "\((error as? any AgentFailure)?.description ?? "\(error)")",
            ])
        }
    }
}
