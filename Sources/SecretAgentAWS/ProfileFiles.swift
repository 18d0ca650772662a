import FoundationEssentials

/// The shared `credentials` and `config` files, merged per profile.
///
/// `config` names sections `[default]` and `[profile NAME]`; `credentials` names them `[NAME]`.
/// Keys from `credentials` win over the same keys in `config`. Other sections (`[sso-session …]`,
/// `[services …]`) and indented sub-keys are ignored.
struct ProfileFiles: Sendable {
    var profiles: [String: [String: String]] = [:]
    /// The files that were looked at, for messages.
    var paths: [String] = []
    /// Files that exist but could not be read.
    var problems: [String] = []

    /// Reads the files named by `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/…`.
    static func load(environment env: [String: String]) -> ProfileFiles {
        let home = env["HOME"]
        func path(_ variable: String, _ name: String) -> String? {
            if let p = env[variable], !p.isEmpty {
                return p.hasPrefix("~/") && home != nil ? home! + p.dropFirst(1) : p
            }
            return home.map { "\($0)/.aws/\(name)" }
        }
        var files = ProfileFiles()
        if let config = path("AWS_CONFIG_FILE", "config") { files.read(config, isConfig: true) }
        if let credentials = path("AWS_SHARED_CREDENTIALS_FILE", "credentials") { files.read(credentials, isConfig: false) }
        return files
    }

    func profile(_ name: String) -> [String: String]? { profiles[name] }

    mutating func read(_ path: String, isConfig: Bool) {
        paths.append(path)
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard let data = FileManager.default.contents(atPath: path) else {
            problems.append("\(path) cannot be read")
            return
        }
        merge(Self.parse(String(decoding: data, as: UTF8.self), isConfig: isConfig))
    }

    mutating func merge(_ parsed: [String: [String: String]]) {
        for (name, keys) in parsed {
            profiles[name, default: [:]].merge(keys) { _, new in new }
        }
    }

    /// Parses one INI file into profiles.
    static func parse(_ text: String, isConfig: Bool) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            if rawLine.first == " " || rawLine.first == "\t" { continue } // sub-section values
            let line = rawLine.trimmingWhitespace
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard let close = line.lastIndex(of: "]") else { current = nil; continue }
                let section = line[line.index(after: line.startIndex)..<close].trimmingWhitespace
                if !isConfig {
                    current = String(section)
                } else if section == "default" {
                    current = "default"
                } else if section.hasPrefix("profile ") || section.hasPrefix("profile\t") {
                    current = String(section.dropFirst(8).trimmingWhitespace)
                } else {
                    current = nil
                }
                if let current, out[current] == nil { out[current] = [:] }
                continue
            }
            guard let current, let eq = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            let key = line[..<eq].trimmingWhitespace.lowercased()
            var value = line[line.index(after: eq)...].trimmingWhitespace
            // Inline comments need whitespace before them, as in the AWS CLI.
            if let r = value.firstRange(of: " #") ?? value.firstRange(of: " ;") ?? value.firstRange(of: "\t#") {
                value = value[..<r.lowerBound].trimmingWhitespace
            }
            if !key.isEmpty { out[current]![key] = String(value) }
        }
        return out
    }
}
