#if canImport(Glibc)
import Glibc
#endif
import CSecretAgent
import SecretAgentCore

/// What the writer needs to know about file systems: tmpfs detection and a private tmpfs mount.
public enum FileSystem {
    static let tmpfsMagic: Int64 = 0x0102_1994
    static let ramfsMagic: Int64 = 0x8584_58f6

    /// The file-system type of `path` (statfs `f_type`), or nil with errno set.
    public static func type(of path: String) -> Int64? {
        var t: Int64 = 0
        guard csa_statfs_type(path, &t) == 0 else { return nil }
        return t
    }

    /// True when `path` lies on tmpfs or ramfs (memory, never disk).
    public static func isMemoryBacked(_ path: String) -> Bool {
        guard let t = type(of: nearestExisting(path)) else { return false }
        return t == tmpfsMagic || t == ramfsMagic
    }

    /// The path itself or its nearest ancestor that exists.
    public static func nearestExisting(_ path: String) -> String {
        var p = path
        var st = stat()
        while stat(p, &st) != 0 {
            let parent = Paths.directory(of: p)
            if parent == p { return "/" }
            p = parent
        }
        return p
    }

    /// The first existing directory from `path` up to `/` that other users may write to without
    /// the sticky bit (so they could rename files in it away), or nil when there is none.
    public static func writableByOthers(_ path: String) -> String? {
        var p = Paths.normalize(path)
        while true {
            var st = stat()
            if stat(p, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, st.st_mode & S_IWOTH != 0, st.st_mode & S_ISVTX == 0 {
                return p
            }
            let parent = Paths.directory(of: p)
            if parent == p || p.isEmpty { return nil }
            p = parent
        }
    }

    /// The path with every symlink resolved (the path itself when that fails).
    public static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Creates `path` and its missing parents with `mode` (0700 by default).
    public static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws(AgentError) {
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw AgentError.cannotCreate("\(path) exists and is not a directory")
            }
            return
        }
        let parent = Paths.directory(of: path)
        if parent != path { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw AgentError.cannotCreate("cannot create directory \(path): \(FileBytes.lastErrorDescription())")
        }
    }

    /// As root, mounts a private tmpfs (mode 0700, nosuid, nodev, noexec) on `path` unless it
    /// already is one.
    public static func mountTmpfs(on path: String) throws(AgentError) {
        try makeDirectories(path)
        if let t = type(of: path), t == tmpfsMagic {
            // Already tmpfs: only mount when it is not a mount point of its own.
            if type(of: Paths.directory(of: path)) != tmpfsMagic { return }
        }
        guard geteuid() == 0 else {
            throw AgentError.cannotCreate("mount_tmpfs needs root; run as root or point output_dir at a tmpfs such as /dev/shm")
        }
        if csa_mount_tmpfs(path, 0o700, 64) != 0 {
            throw AgentError.cannotCreate("cannot mount a tmpfs on \(path): \(FileBytes.lastErrorDescription())")
        }
    }
}
