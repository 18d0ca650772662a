import SecretAgentAWS
import SecretAgentCore
import SecretTemplate

extension LocalAPI {
    /// Every `poll` (±10 %), asks the backends which cached names moved and fetches those again,
    /// so an answer is never more than one poll interval behind its backend.
    func pollLoop() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: poll * Double.random(in: 0.9...1.1)) } catch { return }
            await pollOnce()
        }
    }

    /// One poll of everything cached: AWS reads by version (`ListSecrets`, `GetParameters`
    /// without decryption), `/v1/ref` references through their provider's own poll. Failures are
    /// logged; the cached answers stay until the backend answers again.
    public func pollOnce() async {
        let entries = cache.snapshot()
        guard !entries.isEmpty else { return }
        guard let sources = self.sources.withLock({ $0 }) else { return }
        var raw: [AWSRawRequest: String?] = [:]
        var references: [Locator: [(Reference, FetchOutcome)]] = [:]
        for (key, entry) in entries {
            switch key {
            case .aws(let request):
                guard !request.isPinned, !sources.agentPolled.contains(request.locator) else { continue }
                raw[request] = entry.version
            case .reference(let reference):
                guard !reference.locator.isPinned, !sources.agentPolled.contains(reference.locator),
                      let outcome = entry.outcome else { continue }
                references[reference.locator, default: []].append((reference, outcome))
            }
        }
        if let aws = sources.aws, !raw.isEmpty {
            do {
                for request in try await aws.changedRaw(raw) {
                    await refetch(.aws(request))
                }
            } catch {
                logPollFailure("aws", error)
            }
        }
        var byProvider: [String: (any SecretProvider, [Locator: FetchOutcome])] = [:]
        for (locator, list) in references {
            guard let provider = sources.providers.provider(for: locator.scheme), let outcome = list.first?.1 else { continue }
            byProvider[provider.name, default: (provider, [:])].1[locator] = outcome
        }
        for (name, (provider, known)) in byProvider {
            do {
                let changes = try await provider.changes(since: known)
                for (locator, outcome) in changes {
                    for (reference, _) in references[locator] ?? [] {
                        let key = CacheKey.reference(reference)
                        metrics.refresh()
                        if let entry = try? Self.entry(reference, outcome) {
                            cache.update(key, entry)
                            logger.info("local API: a served secret changed", metadata: ["reference": "\(reference.text)", "to": "\(entry.version ?? "-")"])
                        } else {
                            cache.remove(key)
                        }
                    }
                }
            } catch {
                logPollFailure(name, error)
            }
        }
    }

    /// The agent's loop found these locators changed (its poll, a lease replaced, a file event):
    /// every cached answer about them is fetched again, so what the API serves follows what the
    /// agent renders. A Secrets Manager change refreshes every stage of that secret.
    public func agentChanged(_ locators: Set<Locator>) {
        let secretIDs = Set(locators.compactMap { if case .secretsManager(let id, _, _) = $0 { id } else { nil } })
        let keys = cache.snapshot().map(\.0).filter { key in
            switch key {
            case .aws(.secret(let id, let versionID, _)): return versionID == nil && secretIDs.contains(id)
            case .aws(let request): return locators.contains(request.locator)
            case .reference(let reference): return locators.contains(reference.locator)
            }
        }
        guard !keys.isEmpty else { return }
        Task {
            for key in keys { await refetch(key) }
        }
    }

    /// Fetches a key again after the poll saw it move; a name that is gone leaves the cache.
    func refetch(_ key: CacheKey) async {
        metrics.refresh()
        do {
            let entry = try await fetcher(for: key)()
            cache.update(key, entry)
            logger.info("local API: a served secret changed", metadata: ["reference": "\(key.text)", "to": "\(entry.version ?? "-")"])
        } catch let error as AWSError where ["ResourceNotFoundException", "ParameterNotFound"].contains(error.code ?? "") {
            cache.remove(key)
            logger.info("local API: a served secret is gone", metadata: ["reference": "\(key.text)"])
        } catch is ReferenceNotFound {
            cache.remove(key)
            logger.info("local API: a served secret is gone", metadata: ["reference": "\(key.text)"])
        } catch {
            logPollFailure(key.text, error)
        }
    }

    private func logPollFailure(_ what: String, _ error: any Error) {
        logger.warning("local API poll failed; cached answers stay", metadata: [
            "backend": "\(what)", "error": "\((error as? any AgentFailure)?.description ?? "\(type(of: error))")",
        ])
    }
}
