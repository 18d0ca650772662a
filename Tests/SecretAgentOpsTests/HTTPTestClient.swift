#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.1 client for the tests, run on its own thread so it never blocks the
/// cooperative pool the server's tasks need.
enum HTTPTestClient {
    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    static func request(port: Int, _ path: String, method: String = "GET") async -> Response? {
        await onThread { blockingRequest(port: port, method, path) }
    }

    static func blockingRequest(port: Int, _ method: String, _ path: String) -> Response? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { return nil }
        let request = Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return nil }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            bytes += buffer[..<n]
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.firstRange(of: "\r\n\r\n") else { return nil }
        let lines = text[..<split.lowerBound].split(separator: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ")[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: " ")
        }
        return Response(status: status, headers: headers, body: String(text[split.upperBound...]))
    }

    /// Opens a TCP connection and sends nothing (an idle client); -1 when it cannot connect.
    static func connectIdle(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            return -1
        }
        return fd
    }

    /// Whether the server closed `fd` within `seconds` (a read returns end of file).
    static func closedByServer(_ fd: Int32, within seconds: Int) async -> Bool {
        await onThread {
            var timeout = timeval(tv_sec: seconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var byte: UInt8 = 0
            return recv(fd, &byte, 1, 0) == 0
        }
    }

    /// Runs a blocking body on a new thread.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let job = Unmanaged.passRetained(ThreadJob { continuation.resume(returning: body()) }).toOpaque()
            var thread = pthread_t()
            pthread_create(&thread, nil, { raw in
                Unmanaged<ThreadJob>.fromOpaque(raw!).takeRetainedValue().run()
                return nil
            }, job)
            pthread_detach(thread)
        }
    }
}

/// A closure handed to a new thread.
final class ThreadJob {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}

/// Parses Prometheus text exposition: `name{a="1",b="2"} value` → key `name{a="1",b="2"}` with
/// labels sorted, so lookups do not depend on the order the registry writes them in.
enum PrometheusText {
    static func parse(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            out[key(String(line[..<space]))] = value
        }
        return out
    }

    static func key(_ series: String) -> String {
        guard let brace = series.firstIndex(of: "{"), series.hasSuffix("}") else { return series }
        let labels = series[series.index(after: brace)..<series.index(before: series.endIndex)]
            .split(separator: ",").map(String.init).sorted()
        return String(series[..<brace]) + "{" + labels.joined(separator: ",") + "}"
    }
}
