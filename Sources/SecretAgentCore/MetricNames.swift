/// The names of the agent's metrics, in one place: the backends count their API calls, the
/// operations module exports the rest (see `AgentMetrics` there for the labels of each).
public enum MetricName {
    /// Counter, labels `backend` and `operation`: one per HTTP request sent to a backend. A
    /// retried call counts once per attempt, and a followed redirect is another request: each is a
    /// request the backend served (and, for AWS, bills). See `APICalls.count`.
    public static let apiCalls = "secret_agent_api_calls_total"
    public static let errors = "secret_agent_errors_total"
    public static let fetchSeconds = "secret_agent_fetch_seconds"
    public static let renders = "secret_agent_renders_total"
    public static let childReloads = "secret_agent_child_reloads_total"
    public static let childRestarts = "secret_agent_child_restarts_total"
    public static let secondsSinceLastSuccess = "secret_agent_seconds_since_last_success"
    public static let leaseSecondsLeft = "secret_agent_lease_seconds_left"
    public static let tokenSecondsLeft = "secret_agent_token_seconds_left"
}
