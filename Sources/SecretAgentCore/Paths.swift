/// Path helpers shared by the configuration and the command line.
public enum Paths {
    /// Resolves `path` against `base` unless it is absolute.
    public static func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/"), let home = getenvString("HOME") { return home + path.dropFirst(1) }
        let b = base.hasSuffix("/") ? String(base.dropLast()) : base
        return b + "/" + path
    }

    /// Removes `.`, `..` and repeated slashes without touching the file system (`/a/b/../c` → `/a/c`).
    public static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    /// True when `path` is `root` or inside it (both normalized).
    public static func isInside(_ path: String, _ root: String) -> Bool {
        let p = normalize(path), r = normalize(root)
        return p == r || p.hasPrefix(r == "/" ? "/" : r + "/")
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
