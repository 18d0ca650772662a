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
    /// Counter: local API answers served from the cache.
    public static let localAPIHits = "secret_agent_local_api_hits_total"
    /// Counter: local API requests that had to fetch (the first request for a name).
    public static let localAPIMisses = "secret_agent_local_api_misses_total"
    /// Counter: fetches forced by `refreshNow=true` or a change found by the poll.
    public static let localAPIRefreshes = "secret_agent_local_api_refreshes_total"
    /// Counter, label `reason` (`token`, `forwarded`, `method`, `allow_list`): refused requests.
    public static let localAPIRefusals = "secret_agent_local_api_refusals_total"
}
