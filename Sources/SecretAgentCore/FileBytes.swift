#if canImport(Glibc)
import Glibc
#endif

/// Small POSIX file helpers: whole-file reads without Foundation, with errno kept for messages.
public enum FileBytes {
    /// Reads a whole file, or nil with `errno` set.
    public static func read(_ path: String, limit: Int = 64 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit {
                errno = EFBIG
                return nil
            }
        }
        return out
    }

    /// Reads a UTF-8 text file, or nil.
    public static func readText(_ path: String) -> String? {
        guard let bytes = read(path) else { return nil }
        guard let s = String(validating: bytes, as: UTF8.self) else {
            errno = EILSEQ
            return nil
        }
        return s
    }

    /// The text of the last errno, for messages ("No such file or directory").
    public static func lastErrorDescription(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// The working directory.
    public static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return "." }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Bytes with one trailing newline (`\n` or `\r\n`) removed, as `file:` values are read.
    public static func droppingOneTrailingNewline(_ bytes: [UInt8]) -> [UInt8] {
        if bytes.last == 0x0A {
            if bytes.count >= 2, bytes[bytes.count - 2] == 0x0D { return Array(bytes.dropLast(2)) }
            return Array(bytes.dropLast())
        }
        return bytes
    }

    /// True when the agent may read `path` (`access(2)` with `R_OK`).
    public static func isReadable(_ path: String) -> Bool {
        access(path, R_OK) == 0
    }

    /// A credential file's text (token, role id, secret id, JWT), trimmed of surrounding
    /// whitespace (SPEC §2); nil with `errno` set when it cannot be read or is larger than
    /// `limit`. Each module turns nil into its own error naming the file and
    /// `lastErrorDescription()`, never the content.
    public static func readCredential(_ path: String, limit: Int = 1 << 20) -> String? {
        guard let bytes = read(path, limit: limit) else { return nil }
        return String(String(decoding: bytes, as: UTF8.self).trimmingWhitespace)
    }
}
