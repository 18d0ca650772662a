/// Durations as plain numbers, for APIs that take them (timeouts, `poll(2)`, metrics, logs).
///
/// The integer forms truncate toward zero: 1.9 ms is 1 in `milliseconds`.
extension Duration {
    /// Whole milliseconds.
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    /// Whole nanoseconds.
    public var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }

    /// Seconds, fractional.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
