#if canImport(Glibc)
import Glibc
#endif

/// The search path used when neither the child's environment nor the agent's has `PATH`.
public let defaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/// Finds the program to exec, like `execvp`: a name containing `/` is used as is; otherwise
/// each directory of `searchPath` (colon-separated, an empty entry meaning the current
/// directory) is tried for an executable regular file.
/// - Throws: ``ProcessError`` `.notFound` (127), or `.notExecutable` (126) when only
///   non-executable candidates exist.
public func resolveExecutable(_ name: String, searchPath: String?) throws(ProcessError) -> String {
    guard !name.isEmpty else { throw ProcessError(.emptyCommand, "no command given") }
    if name.contains("/") { return name }
    var sawNonExecutable = false
    let directories = (searchPath ?? defaultSearchPath).split(separator: ":", omittingEmptySubsequences: false)
    for directory in directories {
        let candidate = directory.isEmpty ? name : "\(directory)/\(name)"
        var info = stat()
        guard stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
        if access(candidate, X_OK) == 0 { return candidate }
        sawNonExecutable = true
    }
    if sawNonExecutable {
        throw ProcessError(.notExecutable, "\(name): permission denied (found on PATH but not executable)")
    }
    throw ProcessError(.notFound, "\(name): command not found")
}

/// The search path for a child: its own `PATH`, else the agent's, else ``defaultSearchPath``.
func searchPath(for environment: [String: String]) -> String {
    if let path = environment["PATH"] { return path }
    if let path = getenv("PATH") { return String(cString: path) }
    return defaultSearchPath
}

/// `NAME=value` strings sorted by name, for `execve`. Never puts a value in an error message.
/// - Throws: `.invalidEnvironment` (65) for an empty name, a name with `=` or NUL, a value with NUL.
func environmentBlock(_ environment: [String: String]) throws(ProcessError) -> [String] {
    var block: [String] = []
    block.reserveCapacity(environment.count)
    for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
        if name.isEmpty || name.contains("=") || name.utf8.contains(0) {
            throw ProcessError(.invalidEnvironment, "invalid environment variable name \(String(reflecting: name.replacingNUL()))")
        }
        if value.utf8.contains(0) {
            throw ProcessError(.invalidEnvironment, "environment variable \(name) contains a NUL byte")
        }
        block.append("\(name)=\(value)")
    }
    return block
}

/// The checks shared by spawning and exec-in-place: a non-empty command, its program path,
/// and the environment block.
func prepareCommand(_ command: [String], _ environment: [String: String]) throws(ProcessError) -> (path: String, environment: [String]) {
    guard let name = command.first, !name.isEmpty else { throw ProcessError(.emptyCommand, "no command given") }
    if command.contains(where: { $0.utf8.contains(0) }) {
        throw ProcessError(.invalidEnvironment, "\(name.replacingNUL()): an argument contains a NUL byte")
    }
    let path = try resolveExecutable(name, searchPath: searchPath(for: environment))
    return (path, try environmentBlock(environment))
}

extension String {
    fileprivate func replacingNUL() -> String {
        String(decoding: utf8.map { $0 == 0 ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
    }
}
