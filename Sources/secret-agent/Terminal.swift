#if canImport(Glibc)
import Glibc
#endif

/// stdout and stderr, written directly (no buffering surprises before exec or exit).
enum Terminal {
    static func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
    }

    static func out(_ bytes: [UInt8]) { write(1, bytes) }

    static func error(_ message: String) { write(2, Array("secret-agent: \(message)\n".utf8)) }

}
