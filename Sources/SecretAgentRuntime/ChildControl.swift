import SecretAgentProcess

/// What the agent loop may do to the supervised child. The real one is `SupervisedChild`;
/// tests use a recorder.
public protocol ChildControl: Sendable {
    /// Sends the reload signal (files changed).
    func reload(signal: Int32) async
    /// Graceful stop, then a new child with this environment (and command, if given).
    func restart(environment: [String: String], command: [String]?) async throws
}

/// `ChildControl` over the process layer's `Supervisor`.
public struct SupervisedChild: ChildControl {
    public let supervisor: Supervisor

    public init(_ supervisor: Supervisor) {
        self.supervisor = supervisor
    }

    public func reload(signal: Int32) async {
        supervisor.signal(signal)
    }

    public func restart(environment: [String: String], command: [String]?) async throws {
        try await supervisor.restart(environment: environment, command: command)
    }
}
