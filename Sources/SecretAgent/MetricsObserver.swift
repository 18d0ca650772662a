import SecretAgentOps
import SecretAgentRuntime
import SecretTemplate

/// Feeds the agent loop's events into the Prometheus metrics, and its changes to the local API.
struct MetricsObserver: LoopObserver {
    /// The changes the loop found, for the local API's cache.
    var onChange: (@Sendable (Set<Locator>) -> Void)?

    func changed(_ locators: Set<Locator>) { onChange?(locators) }

    func polled(backend: String, duration: Duration, error: (any Error)?) {
        AgentMetrics.fetchDuration(backend: backend, duration)
        if let error { AgentMetrics.error(backend: backend, error) }
    }

    func wrote(files: Int) { AgentMetrics.rendered(count: files) }

    func reloaded() { AgentMetrics.reloaded() }

    func restarted() { AgentMetrics.restarted() }
}
