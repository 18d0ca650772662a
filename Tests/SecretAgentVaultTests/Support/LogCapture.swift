import Foundation
import Logging
import Synchronization

/// Collects every log line (message and metadata) of a logger, for assertions.
final class LogCapture: Sendable {
    private let lines = Mutex<[(Logger.Level, String)]>([])

    /// A logger at `level` that writes here (and to stderr with `echo`, when debugging a test).
    func logger(level: Logger.Level = .trace, echo: Bool = ProcessInfo.processInfo.environment["VAULT_TEST_ECHO_LOGS"] == "1") -> Logger {
        var logger = Logger(label: "vault-test") { _ in CaptureHandler(capture: self, echo: echo) }
        logger.logLevel = level
        return logger
    }

    func append(_ level: Logger.Level, _ line: String) {
        lines.withLock { $0.append((level, line)) }
    }

    var all: [String] {
        lines.withLock { $0 }.map { "[\($0.0)] \($0.1)" }
    }

    var text: String { all.joined(separator: "\n") }

    /// The lines that contain every one of `needles` (a message and `key=value` metadata).
    func count(_ needles: String...) -> Int { all.filter { line in needles.allSatisfy { line.contains($0) } }.count }

    /// The names of the secrets (by name, never the text) that appear in any captured line.
    func leaks(_ secrets: [String: String]) -> [String] {
        let text = self.text
        return secrets.compactMap { name, secret in
            secret.count >= 4 && text.contains(secret) ? name : nil
        }
    }
}

struct CaptureHandler: LogHandler {
    let capture: LogCapture
    let echo: Bool
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = event.message.description
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        if !all.isEmpty { line += " " + all.map { "\($0)=\($1)" }.sorted().joined(separator: " ") }
        if let error = event.error { line += " error=\(error)" }
        capture.append(event.level, line)
        if echo { FileHandle.standardError.write(Data("\(Date()) [\(event.level)] \(line)\n".utf8)) }
    }
}
