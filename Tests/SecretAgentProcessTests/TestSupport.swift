import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Locating the `test-child` executable the real-spawn tests run.
///
/// SwiftPM puts every product of the package in one directory (`.build/<triple>/debug/`, with
/// `.build/debug` a link to it), the test bundle included. So test-child is looked for:
/// 1. next to the test bundle: the directory of the real path of `CommandLine.arguments[0]`;
/// 2. else as `.build/debug/test-child`, walking up from the current directory (where
///    `swift test` runs: the package root) and from this source file.
/// `swift test` may not build executables nobody depends on: run `swift build` first.
enum TestChild {
    static let path: String? = {
        var candidates: [String] = []
        if let real = realpath(CommandLine.arguments[0], nil) {
            candidates.append(parent(String(cString: real)) + "/test-child")
            free(real)
        }
        var starts: [String] = [parent(#filePath)]
        if let cwd = getcwd(nil, 0) {
            starts.insert(String(cString: cwd), at: 0)
            free(cwd)
        }
        for start in starts {
            var directory = start
            while !directory.isEmpty && directory != "/" {
                candidates.append(directory + "/.build/debug/test-child")
                directory = parent(directory)
            }
        }
        return candidates.first { access($0, X_OK) == 0 }
    }()

    /// The path, or a failing test with instructions.
    static func require() throws -> String {
        guard let path else {
            Issue.record("test-child not found next to the test bundle nor in .build/debug: run `swift build` before `swift test`")
            throw Missing()
        }
        return path
    }

    struct Missing: Error {}

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// A fresh directory under /tmp, removed by `cleanup()`.
struct Scratch {
    let path: String

    init() {
        var template = Array("/tmp/sa-process-test-XXXXXX".utf8CString)
        path = String(cString: mkdtemp(&template))
    }

    func file(_ name: String) -> String { path + "/" + name }

    func cleanup() {
        removeTree(path)
    }
}

/// `rm -r` without spawning (the hub reaps every child: no `system()` in tests).
@discardableResult
func removeTree(_ path: String) -> Bool {
    guard let dir = opendir(path) else { return unlink(path) == 0 }
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name == "." || name == ".." { continue }
        removeTree(path + "/" + name)
    }
    closedir(dir)
    return rmdir(path) == 0
}

/// The whole content of a file ("" if missing).
func readText(_ path: String) -> String {
    guard let file = fopen(path, "r") else { return "" }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&buffer, 1, buffer.count, file)
        if n == 0 { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

func writeText(_ path: String, _ text: String, mode: mode_t = 0o644) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
    _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

/// The log's lines once one of them satisfies `condition`, polling for up to `seconds`.
@discardableResult
func waitForLine(
    in path: String, seconds: Double = 10, sourceLocation: SourceLocation = #_sourceLocation,
    where condition: (Substring) -> Bool
) async throws -> [Substring] {
    let attempts = Int(seconds / 0.02)
    for _ in 0..<attempts {
        let lines = readText(path).split(separator: "\n")
        if lines.contains(where: condition) { return lines }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("no matching line in \(path) after \(seconds)s: \(readText(path))", sourceLocation: sourceLocation)
    return readText(path).split(separator: "\n")
}

/// `/proc/PID/stat`: the state letter and the parent pid, nil once the process is gone.
func procStat(_ pid: pid_t) -> (state: Character, ppid: pid_t)? {
    let text = readText("/proc/\(pid)/stat")
    guard let close = text.lastIndex(of: ")") else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 2, let state = fields[0].first, let ppid = pid_t(fields[1]) else { return nil }
    return (state, ppid)
}

/// Zombie children of this process right now.
func zombieChildren() -> [pid_t] {
    guard let dir = opendir("/proc") else { return [] }
    defer { closedir(dir) }
    var zombies: [pid_t] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        guard let pid = pid_t(name), let stat = procStat(pid) else { continue }
        if stat.ppid == getpid() && stat.state == "Z" { zombies.append(pid) }
    }
    return zombies
}
