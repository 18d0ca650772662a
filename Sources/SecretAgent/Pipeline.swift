import Logging
import SecretAgentCore
import SecretAgentRuntime
import SecretTemplate

/// What start-up (and each reload) has ready before anything is written or started: the
/// compiled templates, live backends, every value fetched, everything rendered.
public struct Preparation: Sendable {
    public var config: AgentConfig
    public var job: Job
    public var backends: any Backends
    public var outcomes: [Locator: FetchOutcome]
    public var rendered: RenderedJob
}

/// The stages every command shares: configuration → backends → fetch → render → write.
public enum Pipeline {
    /// Builds the backends for `locators`, fetches them all (retrying transient failures until
    /// `timeout`) and hands both to `body`. The backends are shut down on every path — unless
    /// `keep` is set and everything succeeded, when the caller owns them.
    ///
    /// The one place that owns "fetch with backends, shut them down whatever happens".
    public static func fetching<T: Sendable>(
        _ locators: Set<Locator>, config: AgentConfig, timeout: Duration, in context: AgentContext, keep: Bool = false,
        _ body: (any Backends, [Locator: FetchOutcome]) async throws -> T
    ) async throws -> T {
        let backends = try await context.factory.make(for: locators, config: config, environment: context.environment,
                                                      logger: context.logger)
        let result: T
        do {
            let outcomes = try await StartupFetch(providers: backends.providers, timeout: timeout, logger: context.logger).run(locators)
            result = try await body(backends, outcomes)
        } catch {
            await backends.shutdown()
            throw error
        }
        if !keep { await backends.shutdown() }
        return result
    }

    /// Compiles, fetches (retrying until `timeout`) and renders; on success the caller owns
    /// the backends in the result. Nothing is written.
    public static func prepare(config: AgentConfig, envFrom: [String], inherited: [String: String]?, timeout: Duration,
                               in context: AgentContext) async throws -> Preparation {
        let job = try Job.compile(config: config, envFrom: envFrom, flagsBase: context.cwd, inherited: inherited)
        context.logger.debug("templates compiled", metadata: [
            "templates": "\(job.files.count)", "env": "\(job.env.count)", "references": "\(job.locators.count)",
        ])
        return try await fetching(job.locators, config: config, timeout: timeout, in: context, keep: true) { backends, outcomes in
            let rendered = try job.render(StartupFetch.resolutions(outcomes), defaultAllowDisk: config.allowDisk)
            return Preparation(config: config, job: job, backends: backends, outcomes: outcomes, rendered: rendered)
        }
    }

    /// Writes every rendered file: all destinations are checked first, so a refused one means
    /// nothing at all is written (exit 73).
    public static func write(_ files: [FileWrite], config: AgentConfig, logger: Logger) throws {
        guard !files.isEmpty else { return }
        if config.mountTmpfs { try FileSystem.mountTmpfs(on: config.outputDir) }
        try AtomicWriter.preflight(files)
        var dirs = Set<String>()
        for f in files where dirs.insert(Paths.directory(of: f.destination)).inserted {
            AtomicWriter.removeLeftovers(in: Paths.directory(of: f.destination))
        }
        for f in files {
            let wrote = try AtomicWriter.write(f)
            logger.info(wrote ? "rendered" : "unchanged", metadata: ["destination": "\(f.destination)", "bytes": "\(f.bytes.count)"])
        }
    }

    /// Removes the files a run rendered (best effort: a crash leaves them, which is why they
    /// belong on tmpfs). Only the very files this agent wrote go; never through a symlink.
    public static func remove(_ files: [String], logger: Logger) {
        let left = AtomicWriter.remove(files)
        for failure in left {
            logger.warning("a rendered file was left in place", metadata: ["destination": "\(failure.path)", "reason": "\(failure.reason)"])
        }
        logger.info("removed the rendered files", metadata: ["removed": "\(files.count - left.count)", "left": "\(left.count)"])
    }

    /// One-shot modes (`render`, `get`, `exec --once`, `exec --no-watch`) hand what they fetch
    /// over to files, a child or stdout that outlive the agent: their leases are never revoked
    /// when the agent exits, whatever `revoke_on_shutdown` says.
    public static func keepingLeases(_ config: AgentConfig) -> AgentConfig {
        var config = config
        config.vault?.revokeOnShutdown = false
        return config
    }

    /// The child's environment: the agent's (or, with `--pristine`, only PATH, HOME, LANG and TZ)
    /// with the injected variables on top.
    public static func childEnvironment(agent: [String: String], injected: [String: String], pristine: Bool) -> [String: String] {
        var env = pristine ? agent.filter { ["PATH", "HOME", "LANG", "TZ"].contains($0.key) } : agent
        // systemd's notification socket and watchdog are the agent's, not the child's.
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] { env[name] = nil }
        env.merge(injected) { _, new in new }
        return env
    }
}
