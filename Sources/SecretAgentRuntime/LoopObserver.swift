import SecretTemplate

/// What the agent loop reports as it works, for metrics (the operations module implements it;
/// the runtime does not depend on a metrics library).
public protocol LoopObserver: Sendable {
    /// A poll of one backend finished, failed when `error` is set.
    func polled(backend: String, duration: Duration, error: (any Error)?)
    /// Files were written after a change.
    func wrote(files: Int)
    /// The child was sent its reload signal.
    func reloaded()
    /// The child was restarted.
    func restarted()
    /// These locators changed (a poll, a lease replaced, a file event), before anything is written.
    func changed(_ locators: Set<Locator>)
}

extension LoopObserver {
    public func changed(_ locators: Set<Locator>) {}
}
