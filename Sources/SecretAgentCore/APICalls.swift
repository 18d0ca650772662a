import Metrics

/// The API call counter (`MetricName.apiCalls`), shared by every backend so that all count alike.
public enum APICalls {
    /// Counts `count` HTTP requests sent to `backend` (`aws-ssm`, `aws-secretsmanager`,
    /// `aws-sts`, `vault`) for `operation` (`GetParameters`, `read`, `login`…). Call it once per
    /// request actually sent: every attempt of a retried call, every redirect followed.
    /// `factory` is for tests; nil is the factory the process bootstrapped.
    public static func count(backend: String, operation: String, count: Int = 1, factory: (any MetricsFactory)? = nil) {
        let dimensions = [("backend", backend), ("operation", operation)]
        if let factory {
            Counter(label: MetricName.apiCalls, dimensions: dimensions, factory: factory).increment(by: count)
        } else {
            Counter(label: MetricName.apiCalls, dimensions: dimensions).increment(by: count)
        }
    }
}
