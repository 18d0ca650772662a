import Logging
import SecretAgentCore
import SecretTemplate

extension AgentLoop {
    /// Takes over a new configuration (SIGHUP): everything is rendered again, changed files are
    /// written, and the child is restarted when its command or environment changed (else
    /// signalled when a file changed). Polling restarts with the new backends.
    public func replace(job: Job, providers: ProviderSet, outcomes: [Locator: FetchOutcome], settings: Settings,
                        command: [String]?) async {
        let commandChanged = command != self.command
        self.job = job
        self.providers = providers
        self.outcomes = outcomes
        self.settings = settings
        self.command = command
        var plan = ChangePlan.make(job: job, values: StartupFetch.resolutions(outcomes), changed: Set(outcomes.keys),
                                   written: written, environment: child == nil ? nil : injected,
                                   defaultAllowDisk: settings.defaultAllowDisk,
                                   force: Set(job.files.map(\.spec.destination)), forceEnvironment: true)
        if commandChanged && child != nil {
            plan.restart = true
            plan.reload = false
        }
        await carryOut(plan)
        start()
    }

    /// Fetches some locators again now (a replaced Vault lease, a `file:` that changed on disk)
    /// and applies what changed.
    public func refresh(_ locators: Set<Locator>, reason: String) async {
        let wanted = locators.filter { outcomes[$0] != nil }
        guard !wanted.isEmpty else { return }
        do {
            let fresh = try await providers.fetch(wanted)
            await apply(fresh, from: reason)
        } catch {
            logger.warning("cannot refresh", metadata: ["reason": "\(reason)", "error": "\(error)"])
        }
    }

    /// Every `file:` path the job reads, for the file watcher.
    public func filePaths() -> Set<String> {
        Set(outcomes.keys.compactMap { if case .file(let p) = $0 { return p } else { return nil } })
    }
}
