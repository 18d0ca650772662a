#if canImport(Glibc)
import Glibc
#endif
import Logging
import SecretTemplate

/// The agent's log output: one line per event on stderr, as text for terminals or as JSON
/// objects (`time`, `level`, `message`, `label`, metadata) for collectors.
///
/// Nothing here redacts: the rule is that no value, token or credential is ever passed to a
/// logger. Metadata holds names, versions, counts and durations only.
public struct AgentLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable { case text, json }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let label: String
    let format: Format
    let sink: LogSink

    public init(label: String, level: Logger.Level, format: Format, sink: LogSink = .standardError) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Bootstraps swift-log with this handler for the whole process.
    public static func bootstrap(level: Logger.Level, format: Format) {
        LoggingSystem.bootstrap { label in AgentLogHandler(label: label, level: level, format: format) }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        let line: String
        switch format {
        case .text:
            var s = "\(Self.timestamp()) \(event.level.rawValue.uppercased()) \(event.message)"
            for key in all.keys.sorted() { s += " \(key)=\(all[key]!)" }
            line = s
        case .json:
            var fields: [(String, String)] = [
                ("time", Self.jsonString(Self.timestamp())), ("level", Self.jsonString(event.level.rawValue)),
                ("message", Self.jsonString("\(event.message)")), ("label", Self.jsonString(label)),
            ]
            for key in all.keys.sorted() { fields.append((key, Self.json(all[key]!))) }
            line = "{" + fields.map { "\(Self.jsonString($0.0)):\($0.1)" }.joined(separator: ",") + "}"
        }
        sink.write(line + "\n")
    }

    static func json(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let s): return jsonString(s)
        case .stringConvertible(let c): return jsonString(c.description)
        case .array(let a): return "[" + a.map(json).joined(separator: ",") + "]"
        case .dictionary(let d): return "{" + d.keys.sorted().map { "\(jsonString($0)):\(json(d[$0]!))" }.joined(separator: ",") + "}"
        }
    }

    static func jsonString(_ s: String) -> String { JSON.quote(s) }

    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var tmv = tm()
        gmtime_r(&t, &tmv)
        func pad(_ v: Int32, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        let ms = Int32(ts.tv_nsec / 1_000_000)
        return "\(pad(tmv.tm_year + 1900, 4))-\(pad(tmv.tm_mon + 1, 2))-\(pad(tmv.tm_mday, 2))T"
            + "\(pad(tmv.tm_hour, 2)):\(pad(tmv.tm_min, 2)):\(pad(tmv.tm_sec, 2)).\(pad(ms, 3))Z"
    }
}

/// Where log lines go: stderr, or a closure (tests capture lines with it).
public struct LogSink: Sendable {
    let write: @Sendable (String) -> Void

    public init(_ write: @escaping @Sendable (String) -> Void) {
        self.write = write
    }

    func write(_ line: String) { write(line) }

    public static let standardError = LogSink { line in
        var bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if errno == EINTR { continue }; break }
            offset += n
        }
    }
}
