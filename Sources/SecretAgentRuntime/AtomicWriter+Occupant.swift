#if canImport(Glibc)
import Glibc
#endif
import SecretAgentCore

/// What is at a destination, examined without following a symlink or opening anything.
enum Occupant {
    case none
    case regular
    /// Not a regular file: "a symlink", "a FIFO", … (never read, only replaced).
    case other(String)

    static func examine(_ name: String, in dirfd: Int32) -> Occupant {
        var st = stat()
        guard fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            return errno == ENOENT ? .none : .other("something that cannot be examined (\(FileBytes.lastErrorDescription()))")
        }
        return st.st_mode & S_IFMT == S_IFREG ? .regular : .other(kind(st.st_mode))
    }

    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFLNK: return "a symlink"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFCHR, S_IFBLK: return "a device"
        case S_IFDIR: return "a directory"
        default: return "an unknown kind of file"
        }
    }

    /// Up to `count` bytes of an open regular file (nil on a read error).
    static func contents(of fd: Int32, count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + offset, count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            offset += n
        }
        return Array(out[0..<offset])
    }
}
