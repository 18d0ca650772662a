#if canImport(Glibc)
import Glibc
#endif
import SecretAgentCore

/// A directory the agent writes into, opened without following a symlink and checked through its
/// descriptor (`fstat`), so that whatever happens to the path afterwards changes nothing: every
/// later step (`openat`, `renameat`, `unlinkat`) is relative to the descriptor.
///
/// Which directories are checked:
/// - a relative destination (one with `confinedTo`, i.e. under output_dir): output_dir and every
///   directory from it down to the destination's own, each opened relative to the one above with
///   `O_NOFOLLOW`;
/// - an absolute destination: its own directory (the last component opened with `O_NOFOLLOW`).
///
/// What passes (``trustProblem(uid:mode:owner:sharedAllowed:)``):
/// - the owner is root, the agent's effective uid, or the file's own owner (`user:`), who may
///   change the file anyway;
/// - no write permission for group or others. One exception, for the directory of an absolute
///   destination only: a root-owned directory with the sticky bit (`/dev/shm`, `/tmp`), where
///   nobody else may rename or delete the agent's files. output_dir itself is never such a shared
///   directory: it must be the agent's own.
/// Directories that do not exist are created with mode 0700 (parents above the checked ones by
/// path, as before; the checked ones with `mkdirat`).
final class DirectoryHandle {
    let fd: Int32
    let path: String
    /// True when this is a shared sticky directory (allowed for an absolute destination only).
    let shared: Bool

    private init(fd: Int32, path: String, shared: Bool) {
        self.fd = fd
        self.path = path
        self.shared = shared
    }

    deinit { close(fd) }

    /// Opens and checks the directory `dir` (see the type's documentation). With `create`,
    /// missing directories are made; without, nil means some of it does not exist yet (nothing
    /// more to check: the agent will create the rest itself). Throws exit 73.
    static func open(_ dir: String, confinedTo root: String?, owner: uid_t?, create: Bool) throws(AgentError) -> DirectoryHandle? {
        let target = absolute(dir)
        let top = root.map(absolute).flatMap { Paths.isInside(target, $0) ? $0 : nil } ?? target
        var names = target == top ? [] : target.dropFirst(top == "/" ? 1 : top.count + 1).split(separator: "/").map(String.init)
        var fd: Int32
        var current: String
        if top == "/" {
            fd = Glibc.open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            current = "/"
            guard fd >= 0 else { throw failure("open the directory", "/") }
            do {
                try check(fd, path: "/", owner: owner, sharedAllowed: root == nil && names.isEmpty)
            } catch {
                close(fd)
                throw error
            }
        } else {
            current = Paths.directory(of: top)
            names.insert(String(top[top.index(after: top.lastIndex(of: "/")!)...]), at: 0)
            if create { try FileSystem.makeDirectories(current) }
            fd = Glibc.open(current, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 {
                if errno == ENOENT && !create { return nil }
                throw failure("open the directory", current)
            }
        }
        for (i, name) in names.enumerated() {
            current = current == "/" ? "/" + name : current + "/" + name
            let sub: Int32?
            do {
                sub = try openChild(fd, name, path: current, create: create)
            } catch {
                close(fd)
                throw error
            }
            close(fd)
            guard let sub else { return nil }
            fd = sub
            do {
                try check(fd, path: current, owner: owner, sharedAllowed: root == nil && i == names.count - 1)
            } catch {
                close(fd)
                throw error
            }
        }
        var st = stat()
        fstat(fd, &st)
        return DirectoryHandle(fd: fd, path: target, shared: st.st_mode & 0o022 != 0)
    }

    /// Opens `name` in `parent` as a directory, never through a symlink, creating it (0700) when
    /// missing and `create`; nil when missing and not `create`. Leaves `parent` open.
    private static func openChild(_ parent: Int32, _ name: String, path: String, create: Bool) throws(AgentError) -> Int32? {
        let flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        var fd = openat(parent, name, flags)
        if fd < 0 && errno == ENOENT {
            guard create else { return nil }
            if mkdirat(parent, name, 0o700) != 0 && errno != EEXIST { throw failure("create the directory", path) }
            fd = openat(parent, name, flags)
        }
        guard fd >= 0 else { throw notADirectory(parent, name, path: path, code: errno) }
        return fd
    }

    /// Why a directory with this owner and mode must not be written into, or nil when it may.
    static func trustProblem(uid: uid_t, mode: mode_t, owner: uid_t?, sharedAllowed: Bool) -> String? {
        let ownerOK = uid == 0 || uid == geteuid() || uid == owner
        let open = mode & 0o022 != 0
        let shared = sharedAllowed && uid == 0 && mode & S_ISVTX != 0
        if ownerOK && (!open || shared) { return nil }
        let octal = "0" + String(mode & 0o7777, radix: 8)
        let what = ownerOK ? "is writable by \(mode & 0o002 != 0 ? "other users" : "its group")" : "belongs to another user"
        let fix = ownerOK ? "chmod go-w it" : "chown it to uid \(geteuid()) and chmod go-w it"
        return "\(what) (owner uid \(uid), mode \(octal)), who could replace the files written there or block the agent; "
            + "remove it (the agent creates it itself, mode 0700) or \(fix)"
    }

    private static func check(_ fd: Int32, path: String, owner: uid_t?, sharedAllowed: Bool) throws(AgentError) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw failure("examine the directory", path) }
        if let problem = trustProblem(uid: st.st_uid, mode: st.st_mode & 0o7777, owner: owner, sharedAllowed: sharedAllowed) {
            throw AgentError.cannotCreate("the directory \(path) \(problem)")
        }
    }

    private static func notADirectory(_ parent: Int32, _ name: String, path: String, code: Int32) -> AgentError {
        var st = stat()
        if fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 {
            if st.st_mode & S_IFMT == S_IFLNK {
                return AgentError.cannotCreate("\(path) is a symlink; files are written into real directories only, never through a "
                    + "symlink: name the directory it points to instead (or remove the symlink)")
            }
            if st.st_mode & S_IFMT != S_IFDIR { return AgentError.cannotCreate("\(path) exists and is not a directory") }
        }
        return AgentError.cannotCreate("cannot open the directory \(path): \(FileBytes.lastErrorDescription(code))")
    }

    static func absolute(_ path: String) -> String {
        Paths.normalize(path.hasPrefix("/") ? path : FileBytes.currentDirectory() + "/" + path)
    }

    static func failure(_ what: String, _ path: String) -> AgentError {
        let code = errno
        return AgentError.cannotCreate("cannot \(what) \(path): \(FileBytes.lastErrorDescription(code))")
    }
}
