/// Path helpers shared by the configuration and the command line.
public enum Paths {
    /// Resolves `path` against `base` unless it is absolute.
    public static func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/"), let home = getenvString("HOME") { return home + path.dropFirst(1) }
        let b = base.hasSuffix("/") ? String(base.dropLast()) : base
        return b + "/" + path
    }

    /// The directory part of a path (`/a/b/c.yaml` → `/a/b`).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func getenvString(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}
