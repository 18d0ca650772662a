import SecretAgentCore
import SecretAgentOps
import SecretAgentServe
import SecretTemplate

extension Agent {
    /// The local API's settings: `serve:`, with `--serve` as its address (and turning it on).
    func serveSettings(_ config: AgentConfig) -> ServeSettings? {
        guard var settings = config.serve ?? (options.serve != nil ? ServeSettings() : nil) else { return nil }
        if let address = options.serve { settings.address = address.description }
        return settings
    }

    /// `serve:` / `--serve`: reads the token and binds before the first fetch, so a missing token
    /// (exit 78) or a port in use (exit 69) fails the agent before anything is written. Until the
    /// first fetch is done, requests get 503.
    func bindLocalAPI(_ config: AgentConfig) async throws -> LocalAPI? {
        guard let settings = serveSettings(config) else { return nil }
        guard options.watch && !options.once else {
            // The agent does not stay (--once) or its backends are gone (--no-watch).
            if options.serve != nil {
                throw AgentError.usage("--serve needs an agent that keeps running: not with exec --once or --no-watch")
            }
            logger.notice("serve: is not started by exec --once or --no-watch (the agent does not keep its backends)")
            return nil
        }
        let address: ListenAddress
        do {
            address = try ListenAddress.parse(settings.address)
        } catch {
            throw AgentError.config("serve.address: \(error.description)")
        }
        let token = try AccessToken.load(settings: settings, environment: context.environment)
        return try await LocalAPI.bind(address, settings: settings, token: token,
                                       sources: nil,
                                       poll: config.poll, logger: logger)
    }

    /// What the local API reads: the agent's backends, the allow-list from `serve.allow` or the
    /// templates' references, and the references the agent's own loop polls (the API hears of
    /// their changes from the loop instead of asking again).
    func localAPISources(_ prepared: Preparation) -> LocalAPI.Sources {
        LocalAPI.Sources(aws: prepared.backends.aws, providers: prepared.backends.providers,
                         allow: AllowList(settings: serveSettings(prepared.config)?.allow, referenced: prepared.job.locators),
                         agentPolled: options.watch ? prepared.job.locators.filter { !$0.isPinned } : [])
    }

    /// The loop's changes, handed to the local API when it runs.
    func localAPIChangeHandler() -> (@Sendable (Set<Locator>) -> Void)? {
        guard let api = localAPI else { return nil }
        return { locators in api.agentChanged(locators) }
    }
}
