import SecretAgentCore

/// The retry settings, as botocore resolves them: the agent's configuration (`aws.retry_mode`,
/// `aws.max_attempts`, like a client's `Config`) wins, then `AWS_RETRY_MODE` /
/// `AWS_MAX_ATTEMPTS`, then the profile's `retry_mode` / `max_attempts`.
extension AWSConfig {
    /// The retry mode (`adaptive` when nothing sets one; `legacy`, the SDKs' older mode, counts
    /// as `standard`: backoff per call) and the attempts per call (nil: the default, 4).
    func retrySettings() throws(AWSError) -> (mode: RetryMode, maxAttempts: Int?) {
        var mode = settings.retryMode ?? .adaptive
        if settings.retryMode == nil, let (origin, text) = setting("AWS_RETRY_MODE", profileKey: "retry_mode") {
            switch text.lowercased() {
            case "adaptive": mode = .adaptive
            case "standard", "legacy": mode = .standard
            default: throw AWSError.config("\(origin) must be 'adaptive', 'standard' or 'legacy' (got '\(text)')")
            }
        }
        var attempts = settings.maxAttempts
        if attempts == nil, let (origin, text) = setting("AWS_MAX_ATTEMPTS", profileKey: "max_attempts") {
            guard let n = Int(text), n >= 1 else {
                throw AWSError.config("\(origin) must be a whole number of attempts, 1 or more (got '\(text)')")
            }
            attempts = n
        }
        return (mode, attempts)
    }

    /// The variable's value, else the profile key's, with where it came from (for messages).
    private func setting(_ variable: String, profileKey: String) -> (origin: String, value: String)? {
        if let v = env(variable).map({ String($0.trimmingWhitespace) }), !v.isEmpty { return (variable, v) }
        if let v = profile?[profileKey].map({ String($0.trimmingWhitespace) }), !v.isEmpty {
            return ("\(profileKey) of profile '\(profileName)'", v)
        }
        return nil
    }
}
