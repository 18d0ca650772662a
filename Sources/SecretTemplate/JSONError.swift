/// Why a text is not JSON: where, and what the parser expected. Never quotes the text (it may be a
/// secret). Callers that parse a backend's answer turn it into their own error.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based byte offset of the problem.
    public let offset: Int
    public let reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}
