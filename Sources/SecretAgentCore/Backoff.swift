/// Exponential backoff with full jitter, for every retry in the agent (start-up, AWS and Vault
/// requests, polls of a failing backend, lease renewals).
public enum Backoff {
    /// A random delay, uniform in [0, min(cap, base·2^(attempt-1))], to the millisecond (up to
    /// 1 ms when that ceiling is shorter). `attempt` counts from 1; lower values count as 1.
    public static func delay(attempt: Int, base: Duration, cap: Duration) -> Duration {
        let ceiling = min(cap, base * (1 << min(max(attempt - 1, 0), 20)))
        return .milliseconds(Int64.random(in: 0...max(ceiling.milliseconds, 1)))
    }
}

extension Backoff {
    /// A `Retry-After` header's delay: delta-seconds (`120`), capped at `cap`; nil when absent
    /// or not a number of seconds (an HTTP date is not honoured: the agent's clock may differ
    /// from the server's).
    public static func retryAfter(_ header: String?, cap: Duration) -> Duration? {
        guard let text = header?.trimmingWhitespace, let seconds = Double(text), seconds >= 0, seconds.isFinite else { return nil }
        return min(cap, .milliseconds(Int64(min(seconds, 86_400) * 1000)))
    }
}
