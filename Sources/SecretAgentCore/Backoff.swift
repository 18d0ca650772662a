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
