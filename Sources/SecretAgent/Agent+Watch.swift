import SecretAgentCore
import SecretAgentOps
import SecretAgentRuntime
import SecretTemplate

extension Agent {
    /// What `/healthz` and systemd's STATUS= report.
    public func healthSnapshot() async -> HealthSnapshot {
        guard let loop else { return HealthSnapshot(renderedAll: false, poll: .seconds(300), backends: []) }
        return HealthSnapshot(renderedAll: rendered, poll: await loop.pollInterval, backends: await loop.polledBackendHealth())
    }

    /// `--listen`: bound before the first fetch, so probes see "starting" until it is done.
    func startOpsServer() async throws -> Task<Void, Never>? {
        guard let listen = options.listen else { return nil }
        let server = try await OpsServer.bind(listen, logger: logger,
                                              onScrape: { [weak self] in await self?.backends?.recordTimeLeft() }) { [weak self] in
            await self?.healthSnapshot() ?? HealthSnapshot(renderedAll: false, poll: .seconds(300), backends: [])
        }
        return Task { await server.run() }
    }

    /// Vault leases replaced before expiry count as rotations.
    func startLeaseWatch() {
        leaseWatch?.cancel()
        guard let stream = backends?.leaseReplacements, let loop else { return }
        leaseWatch = Task {
            for await locator in stream {
                await loop.refresh([locator], reason: "lease replaced")
            }
        }
    }

    /// inotify: rendered files written back, template sources re-read, `file:` secrets re-read.
    /// Opened only when there are such files: the agents of a node often run as one user and
    /// share its inotify instances (`fs.inotify.max_user_instances`, often 128), so an agent that
    /// only fills a child's environment from a backend takes none.
    func startFileWatch() async {
        guard let loop else { return }
        let paths = await loop.watchedPaths()
        if let watcher {
            watcher.watch(paths)
            return
        }
        guard !paths.isEmpty else { return }
        do {
            let w = try FileWatcher()
            w.watch(paths)
            watcher = w
            Task {
                for await event in w.events { await loop.fileEvent(event) }
            }
        } catch {
            logger.warning("file watching unavailable; files are checked at each poll only", metadata: ["error": "\(error)"])
        }
    }
}
