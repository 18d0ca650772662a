import SecretAgentCore
import SecretAgentRuntime

extension Agent {
    /// SIGHUP: the same preparation as start-up on the configuration read again, then the loop
    /// takes it over (`replace`). A broken configuration — or one whose values cannot be fetched,
    /// rendered or written — is refused and the old one keeps running.
    ///
    /// - Returns: whether the new configuration was taken.
    @discardableResult
    public func reload() async -> Bool {
        logger.notice("reloading the configuration")
        notifier.reloading()
        defer { notifier.ready() }
        guard let loop else { return false }
        do {
            let config = try configuration()
            let fresh = try await Pipeline.prepare(config: config, envFrom: options.envFrom, inherited: options.pristine ? nil : context.environment,
                                                   timeout: min(config.startTimeout, .seconds(30)), in: context)
            do {
                try AtomicWriter.preflight(fresh.rendered.files)
            } catch {
                await fresh.backends.shutdown()
                throw error
            }
            await loop.replace(job: fresh.job, providers: fresh.backends.providers, outcomes: fresh.outcomes,
                               settings: Self.settings(config), command: config.exec?.command)
            localAPI?.replace(localAPISources(fresh))
            await backends?.shutdown()
            backends = fresh.backends
            if options.watch {
                startLeaseWatch()
                await startFileWatch()
            }
            logger.notice("configuration reloaded")
            return true
        } catch {
            logger.error("configuration refused; the old one keeps running", metadata: [
                "error": "\((error as? any AgentFailure)?.description ?? "\(error)")",
            ])
            return false
        }
    }
}
