import SecretTemplate

// The template module cannot see `AgentFailure` (the core module depends on it), so its errors
// conform here.

extension TemplateError: AgentFailure {
    public var exitCode: ExitCode { kind.exitCode }
    public var isTransient: Bool { false }
}

extension TemplateError.Kind {
    /// Every kind is a data error: exit 65.
    public var exitCode: ExitCode { .dataError }
}

extension JSONError: AgentFailure {
    /// A text that should be JSON and is not: exit 65 (a backend that answers with something that
    /// is not JSON is reported by the backend's own error instead).
    public var exitCode: ExitCode { .dataError }
    public var isTransient: Bool { false }
}
