import Foundation
import Testing

/// Real network components the proxy and trust tests start themselves: a forward proxy
/// (proxy.py from PyPI) and moto serving HTTPS with a CA made with openssl. Each lives in a
/// temporary directory the test removes, on a free loopback port, and is stopped by its process.
enum Net {
    static let env = ProcessInfo.processInfo.environment
    static var required: Bool { env["SECRET_AGENT_REQUIRE_SERVERS"] == "1" }
    /// The test Python (with boto3): `SECRET_AGENT_TEST_PYTHON`, else the repository's .venv.
    static var python: String { env["SECRET_AGENT_TEST_PYTHON"] ?? "\(Agent.repositoryRoot)/.venv/bin/python" }
    static var venvBin: String { URL(fileURLWithPath: python).deletingLastPathComponent().path }

    /// proxy.py's `proxy` command: `SECRET_AGENT_TEST_PROXY`, else beside the test Python.
    static var proxyTool: String? {
        for path in [env["SECRET_AGENT_TEST_PROXY"], "\(venvBin)/proxy", "\(Agent.repositoryRoot)/.venv/bin/proxy"].compactMap({ $0 })
        where FileManager.default.isExecutableFile(atPath: path) { return path }
        return nil
    }

    /// `moto_server`: `SECRET_AGENT_TEST_MOTO_SERVER`, else beside the test Python.
    static var motoServer: String? {
        for path in [env["SECRET_AGENT_TEST_MOTO_SERVER"], "\(venvBin)/moto_server", "\(Agent.repositoryRoot)/.venv/bin/moto_server"].compactMap({ $0 })
        where FileManager.default.isExecutableFile(atPath: path) { return path }
        return nil
    }

    static var opensslInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") }

    /// The proxy tests run when proxy.py and the shared servers are there, or must (then a missing tool fails).
    static var proxyEnabled: Bool { required || (proxyTool != nil && Servers.motoEnabled) }
    /// The trust tests run when moto and openssl are there, or must.
    static var tlsEnabled: Bool { required || (motoServer != nil && opensslInstalled) }

    static func freePort() -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// A socket connected to 127.0.0.1:`port` (the caller closes it), or nil when nothing listens.
    static func connect(port: Int) -> Int32? {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
        if connected { return s }
        close(s)
        return nil
    }

    static func accepts(port: Int) -> Bool {
        guard let s = connect(port: port) else { return false }
        close(s)
        return true
    }

    /// Runs a tool to completion; throws with its stderr when it fails.
    @discardableResult
    static func tool(_ path: String, _ arguments: [String], environment: [String: String]? = nil, cwd: String? = nil) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        if let environment { p.environment = environment }
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = Collector(out), e = Collector(err)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw Servers.Missing(description: "\(path) \(arguments.first ?? "") failed: \(e.text())")
        }
        return o.text()
    }
}

/// A started process with its log in a file, stopped by its PID.
final class Daemon: @unchecked Sendable {
    let process: Process
    let logPath: String

    init(_ path: String, _ arguments: [String], logPath: String, environment: [String: String]? = nil, cwd: String) throws {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        if let environment { p.environment = environment }
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        try? log.close()
        process = p
        self.logPath = logPath
    }

    var log: String { FileManager.default.contents(atPath: logPath).map { String(decoding: $0, as: UTF8.self) } ?? "" }

    /// Stops the process and the processes it started (proxy.py forks workers, which inherit the
    /// descriptor Foundation watches to see the process end: they must go first).
    func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        for child in Self.descendants(of: pid) { kill(child, SIGKILL) }
        process.terminate()
        if !eventually(timeout: 5, { !process.isRunning }) {
            for child in Self.descendants(of: pid) { kill(child, SIGKILL) }
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
    }

    /// Every process below `pid`, from /proc.
    static func descendants(of pid: Int32) -> [Int32] {
        var parents: [Int32: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = Int32(entry),
                  let stat = FileManager.default.contents(atPath: "/proc/\(entry)/stat").map({ String(decoding: $0, as: UTF8.self) }),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[child] = parent }
        }
        var out: [Int32] = []
        var frontier = [pid]
        while let next = frontier.popLast() {
            let children = parents.filter { $0.value == next }.map(\.key)
            out += children
            frontier += children
        }
        return out
    }

    deinit { stop() }
}

/// proxy.py on a free loopback port, its access log in a temporary directory.
final class ForwardProxy: @unchecked Sendable {
    let port: Int
    let dir = Scratch(onTmpfs: false)
    private var daemon: Daemon?

    /// - Parameter basicAuth: `user:password` the proxy requires (407 without it).
    init(basicAuth: String? = nil) throws {
        guard let tool = Net.proxyTool else {
            throw Servers.Missing(description: "proxy.py is not installed: scripts/test-servers.sh installs it into .venv")
        }
        port = Net.freePort()
        var args = ["--hostname", "127.0.0.1", "--port", "\(port)", "--num-acceptors", "1", "--num-workers", "1"]
        if let basicAuth { args += ["--basic-auth", basicAuth] }
        // Its own HOME: proxy.py keeps state under ~/.proxy.
        let env = ["HOME": dir.path, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        daemon = try Daemon(tool, args, logPath: dir.file("proxy.log"), environment: env, cwd: dir.path)
        guard eventually(timeout: 30, { Net.accepts(port: port) }) else {
            let log = daemon?.log ?? ""
            stop()
            throw Servers.Missing(description: "proxy.py did not start: \(log)")
        }
    }

    var url: String { "http://127.0.0.1:\(port)" }
    /// The proxy's own log (one access line per request, such as `CONNECT 127.0.0.1:5000`).
    var log: String { daemon?.log ?? "" }

    /// True once the access log shows a request to `127.0.0.1:port` (it is written after the tunnel closes).
    func sawRequest(toPort target: Int, timeout: Double = 10) -> Bool {
        eventually(timeout: timeout) { log.contains("127.0.0.1:\(target) ") }
    }

    func stop() {
        daemon?.stop()
        daemon = nil
        dir.remove()
    }

    deinit { stop() }
}

/// A CA and a server certificate made with openssl, in a temporary directory.
struct TestCA {
    let dir = Scratch(onTmpfs: false)
    var caCert: String { dir.file("ca.pem") }

    init() throws {
        try Net.tool("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.file("ca.key"),
                                          "-out", caCert, "-days", "2", "-subj", "/CN=secret-agent test CA"], cwd: dir.path)
    }

    /// A server key and certificate signed by the CA, for `subjectAltName` (such as
    /// `IP:127.0.0.1,DNS:localhost`); returns (certificate, key).
    func server(name: String, subjectAltName: String) throws -> (String, String) {
        let key = dir.file("\(name).key"), csr = dir.file("\(name).csr"), cert = dir.file("\(name).pem")
        _ = dir.write("\(name).ext", "subjectAltName=\(subjectAltName)\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
        try Net.tool("/usr/bin/openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=\(name)"], cwd: dir.path)
        try Net.tool("/usr/bin/openssl", ["x509", "-req", "-in", csr, "-CA", caCert, "-CAkey", dir.file("ca.key"), "-CAcreateserial",
                                          "-out", cert, "-days", "2", "-extfile", dir.file("\(name).ext")], cwd: dir.path)
        return (cert, key)
    }

    func remove() { dir.remove() }
}

/// moto serving HTTPS with a given certificate (signatures unchecked), on a free port.
final class TLSMoto: @unchecked Sendable {
    let port: Int
    let dir = Scratch(onTmpfs: false)
    private var daemon: Daemon?

    init(certificate: String, key: String) throws {
        guard let moto = Net.motoServer else {
            throw Servers.Missing(description: "moto_server is not installed: scripts/test-servers.sh installs it into .venv")
        }
        port = Net.freePort()
        daemon = try Daemon(moto, ["-H", "127.0.0.1", "-p", "\(port)", "-c", certificate, "-k", key],
                            logPath: dir.file("moto.log"), cwd: dir.path)
        guard eventually(timeout: 30, { Net.accepts(port: port) }) else {
            let log = daemon?.log ?? ""
            stop()
            throw Servers.Missing(description: "moto with TLS did not start: \(log)")
        }
    }

    var endpoint: String { "https://127.0.0.1:\(port)" }

    /// Puts an SSM parameter through boto3, trusting `caBundle`.
    func putParameter(_ name: String, _ value: String, caBundle: String) throws {
        let script = """
            import boto3, sys
            c = boto3.client("ssm", endpoint_url=sys.argv[1], region_name="us-east-1", verify=sys.argv[2],
                             aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x")
            c.put_parameter(Name=sys.argv[3], Value=sys.argv[4], Type="SecureString")
            """
        try Net.tool(Net.python, ["-c", script, endpoint, caBundle, name, value],
                     environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": dir.path])
    }

    func stop() {
        daemon?.stop()
        daemon = nil
        dir.remove()
    }

    deinit { stop() }
}
