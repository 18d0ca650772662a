import Foundation
import Synchronization
import Testing

/// Runs the built `secret-agent` binary (and finds `test-child`) for end-to-end tests.
enum Agent {
    /// The build products directory: where the test bundle itself was built.
    static let productsDirectory: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        // `swift test` runs …/debug/secret-agentPackageTests.xctest; executables sit beside it.
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("secret-agent").path) { return url }
            url.deleteLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug")
    }()

    static var binary: String { productsDirectory.appendingPathComponent("secret-agent").path }
    static var testChild: String { productsDirectory.appendingPathComponent("test-child").path }
    static let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var output: String { stdout + stderr }
    }

    /// Starts the agent; the caller waits.
    static func start(_ arguments: [String], environment: [String: String]? = nil, cwd: String? = nil) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        var env = environment ?? ProcessInfo.processInfo.environment
        env["PATH"] = env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        p.environment = env
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, out, err)
    }

    /// Runs the agent to completion (killing it after `timeout` seconds).
    static func run(_ arguments: [String], environment: [String: String]? = nil, cwd: String? = nil, timeout: Double = 60) throws -> Result {
        let (p, out, err) = try start(arguments, environment: environment, cwd: cwd)
        let outData = Collector(out), errData = Collector(err)
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning {
            p.terminate()
            Issue.record("secret-agent \(arguments.joined(separator: " ")) did not finish in \(timeout)s")
        }
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: outData.text(), stderr: errData.text())
    }

    /// The environment for a test run: the test's own, minus anything that would reach real backends.
    static func cleanEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        // Without the test servers' variables: some hold secret ARNs, which the agent would resolve for the child.
        var env = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("AWS_") && !$0.key.hasPrefix("VAULT_") && !$0.key.hasPrefix("BAO_") && !$0.key.hasPrefix("SECRET_AGENT_TEST_")
                // A proxy of the machine running the tests would sit between the agent and the loopback servers.
                && !["http_proxy", "https_proxy", "no_proxy", "all_proxy"].contains($0.key.lowercased())
        }
        env.merge(extra) { _, new in new }
        return env
    }
}

/// Reads a pipe in the background so a chatty process never blocks on a full pipe.
final class Collector: Sendable {
    private let data = Mutex(Data())
    private let done = DispatchSemaphore(value: 0)

    init(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        DispatchQueue.global().async {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                self.data.withLock { $0.append(chunk) }
            }
            self.done.signal()
        }
    }

    func text(wait: Bool = true) -> String {
        if wait { _ = done.wait(timeout: .now() + 10) }
        return String(decoding: data.withLock { $0 }, as: UTF8.self)
    }
}

/// A private directory under /dev/shm (tmpfs) or /tmp (disk on these machines).
struct Scratch {
    let path: String

    init(onTmpfs: Bool = true) {
        let base = onTmpfs ? "/dev/shm" : "/tmp"
        path = "\(base)/secret-agent-e2e-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let p = file(name)
        try! FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    func read(_ name: String) -> String? {
        FileManager.default.contents(atPath: file(name)).map { String(decoding: $0, as: UTF8.self) }
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Polls until `condition` holds or `timeout` seconds pass.
func eventually(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
