import Logging
import SecretAgentCore
import SecretAgentRuntime
import SecretTemplate

/// The start of every rendering command: configuration, templates, fetch, render — in that
/// order, and nothing written or started until all of it succeeded.
struct Prepared {
    var config: AgentConfig
    var job: Job
    var backends: Backends
    var outcomes: [Locator: FetchOutcome]
    var rendered: RenderedJob
}

enum Pipeline {
    /// Loads, compiles, fetches (retrying until the start deadline) and renders.
    static func prepare(config: AgentConfig, envFrom: [String], inherited: [String: String]?,
                        environment: [String: String], cwd: String, logger: Logger) async throws -> Prepared {
        let job = try Job.compile(config: config, envFrom: envFrom, flagsBase: cwd, inherited: inherited)
        let locators = job.locators
        logger.debug("templates compiled", metadata: ["templates": "\(job.files.count)", "env": "\(job.env.count)",
                                                      "references": "\(locators.count)"])
        let backends = try await Backends.make(for: locators, config: config, environment: environment, logger: logger)
        do {
            let outcomes = try await StartupFetch(providers: backends.providers, timeout: config.startTimeout, logger: logger).run(locators)
            let rendered = try job.render(StartupFetch.resolutions(outcomes), defaultAllowDisk: config.allowDisk)
            return Prepared(config: config, job: job, backends: backends, outcomes: outcomes, rendered: rendered)
        } catch {
            await backends.shutdown()
            throw error
        }
    }

    /// Writes every rendered file: all destinations are checked first, so a refused one means
    /// nothing at all is written (exit 73).
    static func write(_ files: [FileWrite], config: AgentConfig, logger: Logger) throws {
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
    static func remove(_ files: [String], logger: Logger) {
        let left = AtomicWriter.remove(files)
        for failure in left {
            logger.warning("a rendered file was left in place", metadata: ["destination": "\(failure.path)", "reason": "\(failure.reason)"])
        }
        logger.info("removed the rendered files", metadata: ["removed": "\(files.count - left.count)", "left": "\(left.count)"])
    }

    /// One-shot modes (`render`, `get`, `exec --once`, `exec --no-watch`) hand what they fetch
    /// over to files, a child or stdout that outlive the agent: their leases are never revoked
    /// when the agent exits, whatever `revoke_on_shutdown` says.
    static func keepingLeases(_ config: AgentConfig) -> AgentConfig {
        var config = config
        config.vault?.revokeOnShutdown = false
        return config
    }

    /// The child's environment: the agent's (or, with `--pristine`, only PATH, HOME, LANG and TZ)
    /// with the injected variables on top.
    static func childEnvironment(agent: [String: String], injected: [String: String], pristine: Bool) -> [String: String] {
        var env = pristine ? agent.filter { ["PATH", "HOME", "LANG", "TZ"].contains($0.key) } : agent
        // systemd's notification socket and watchdog are the agent's, not the child's.
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] { env[name] = nil }
        env.merge(injected) { _, new in new }
        return env
    }
}

