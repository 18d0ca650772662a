import SecretAgentOps
import SecretAgentRuntime

/// Feeds the agent loop's events into the Prometheus metrics.
struct MetricsObserver: LoopObserver {
    func polled(backend: String, duration: Duration, error: (any Error)?) {
        AgentMetrics.fetchDuration(backend: backend, duration)
        if let error { AgentMetrics.error(backend: backend, error) }
    }

    func wrote(files: Int) { AgentMetrics.rendered(count: files) }

    func reloaded() { AgentMetrics.reloaded() }

    func restarted() { AgentMetrics.restarted() }
}
