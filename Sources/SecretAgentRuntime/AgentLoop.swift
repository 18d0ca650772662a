import Logging
import SecretAgentCore
import SecretAgentProcess
import SecretTemplate

/// The long-running part of the agent: polls every backend for changed versions, re-renders
/// what a change touches, writes every changed file, then acts once (reload signal, restart,
/// or the template's command). A failing backend never stops it: the child keeps running with
/// the last good values, and the change is applied once the backend answers again.
public actor AgentLoop {
    /// How the loop behaves; from the configuration.
    public struct Settings: Sendable {
        public var poll: Duration
        public var defaultAllowDisk: Bool
        public var reloadSignal: Int32

        public init(poll: Duration, defaultAllowDisk: Bool, reloadSignal: Int32) {
            self.poll = poll
            self.defaultAllowDisk = defaultAllowDisk
            self.reloadSignal = reloadSignal
        }
    }

    var job: Job
    var providers: ProviderSet
    var outcomes: [Locator: FetchOutcome]
    var written: [String: [UInt8]]
    /// The child's injected variables; nil when there is no child.
    var injected: [String: String]?
    var command: [String]?
    var settings: Settings
    var health: [String: BackendHealth] = [:]
    var pollTasks: [Task<Void, Never>] = []
    let child: (any ChildControl)?
    /// The child's full environment from its injected variables (inheritance, --pristine);
    /// `on_change` commands get it without injected variables.
    let composeEnvironment: @Sendable ([String: String]) -> [String: String]
    /// A restart is under way (the actor is reentrant while it waits for the old child).
    var restarting = false
    /// Another restart was asked for while one was under way.
    var restartPending = false
    /// Files changed while a restart was under way: signal the new child when it is done.
    var reloadPending = false
    let logger: Logger
    let observer: (any LoopObserver)?
    /// What the poll loops sleep on: the continuous clock, or a test's manual one.
    let clock: any Clock<Duration>

    /// Counts for tests and metrics.
    public internal(set) var polls = 0
    public internal(set) var changesApplied = 0

    public init(job: Job, providers: ProviderSet, outcomes: [Locator: FetchOutcome], written: [FileWrite],
                injected: [String: String]?, command: [String]?, settings: Settings, child: (any ChildControl)?,
                composeEnvironment: @escaping @Sendable ([String: String]) -> [String: String],
                clock: any Clock<Duration> = ContinuousClock(), logger: Logger, observer: (any LoopObserver)? = nil) {
        self.job = job
        self.providers = providers
        self.outcomes = outcomes
        self.written = Dictionary(written.map { ($0.destination, $0.bytes) }, uniquingKeysWith: { _, b in b })
        self.injected = injected
        self.command = command
        self.settings = settings
        self.child = child
        self.composeEnvironment = composeEnvironment
        self.clock = clock
        self.logger = logger
        self.observer = observer
    }

    /// Starts one poll task per backend that has something to watch.
    public func start() {
        for task in pollTasks { task.cancel() }
        pollTasks = []
        let now = ContinuousClock.now
        for provider in providers.providers {
            health[provider.name] = health[provider.name] ?? BackendHealth(name: provider.name, lastSuccess: now)
            guard !watched(by: provider).isEmpty else { continue }
            pollTasks.append(Task { [weak self] in await self?.pollLoop(provider) })
        }
    }

    /// Stops polling.
    public func stop() {
        for task in pollTasks { task.cancel() }
        pollTasks = []
    }

    /// The health of every backend.
    public func backendHealth() -> [BackendHealth] {
        health.values.sorted { $0.name < $1.name }
    }

    /// The health of the backends that are polled (that have something to watch).
    public func polledBackendHealth() -> [BackendHealth] {
        providers.providers.filter { !watched(by: $0).isEmpty }.compactMap { health[$0.name] }.sorted { $0.name < $1.name }
    }

    /// Every file the loop has written (or found already right) since it started, for removal
    /// when the agent ends (`cleanup_on_exit`, `exec` without `--keep-files`).
    public func renderedFiles() -> [String] {
        written.keys.sorted()
    }

    /// The configured poll interval.
    public var pollInterval: Duration { settings.poll }

    /// What a provider is asked about: its locators, except pinned versions (never polled).
    func watched(by provider: any SecretProvider) -> [Locator: FetchOutcome] {
        outcomes.filter { provider.schemes.contains($0.key.scheme) && !$0.key.isPinned }
    }

    private func pollLoop(_ provider: any SecretProvider) async {
        var failures = 0
        var first = true
        while !Task.isCancelled {
            let delay = first ? Self.splayed(settings.poll)
                : failures == 0 ? Self.jittered(settings.poll)
                : Backoff.delay(attempt: failures, base: .seconds(1), cap: settings.poll)
            first = false
            do { try await clock.sleep(for: delay) } catch { return }
            let known = watched(by: provider)
            if known.isEmpty { continue }
            let started = ContinuousClock.now
            do {
                let changes = try await provider.changes(since: known)
                observer?.polled(backend: provider.name, duration: .now - started, error: nil)
                failures = 0
                recordSuccess(provider.name)
                if !changes.isEmpty { await apply(changes, from: provider.name) }
            } catch {
                if Task.isCancelled { return }
                observer?.polled(backend: provider.name, duration: .now - started, error: error)
                failures += 1
                recordFailure(provider.name, error)
            }
        }
    }

    /// The first poll: at a random point of the interval, so the agents of one rollout (started
    /// in the same seconds) do not poll on the same beat; then every `jittered` interval.
    public static func splayed(_ poll: Duration) -> Duration {
        poll * Double.random(in: 0.05...1.0)
    }

    /// The poll interval ±10 %.
    static func jittered(_ poll: Duration) -> Duration {
        poll * Double.random(in: 0.9...1.1)
    }

    func recordSuccess(_ name: String) {
        polls += 1
        var h = health[name] ?? BackendHealth(name: name)
        if let since = h.failingSince {
            logger.notice("backend recovered", metadata: ["backend": "\(name)", "outage": "\(ContinuousClock.now - since)"])
        }
        h.lastSuccess = .now
        h.failingSince = nil
        h.lastError = nil
        h.consecutiveFailures = 0
        health[name] = h
    }

    func recordFailure(_ name: String, _ error: any Error) {
        var h = health[name] ?? BackendHealth(name: name)
        let message = (error as? any AgentFailure)?.description ?? "\(error)"
        let since = h.failingSince ?? .now
        h.failingSince = since
        h.lastError = message
        h.consecutiveFailures += 1
        health[name] = h
        logger.warning("backend failing; the child keeps the last good values", metadata: [
            "backend": "\(name)", "failing_for": "\(ContinuousClock.now - since)",
            "attempts": "\(h.consecutiveFailures)", "error": "\(message)",
        ])
    }
}
