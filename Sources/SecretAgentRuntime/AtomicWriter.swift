#if canImport(Glibc)
import Glibc
#endif
import Logging
import SecretAgentCore

/// One file to write: where, what, and with which mode and owner.
public struct FileWrite: Sendable {
    public var destination: String
    public var bytes: [UInt8]
    public var mode: UInt32
    public var uid: uid_t?
    public var gid: gid_t?
    public var allowDisk: Bool
    /// The directory the destination must stay inside, symlinks resolved (a relative destination's output_dir).
    public var confinedTo: String?

    public init(destination: String, bytes: [UInt8], mode: UInt32 = 0o600, uid: uid_t? = nil, gid: gid_t? = nil, allowDisk: Bool = false,
                confinedTo: String? = nil) {
        self.confinedTo = confinedTo
        self.destination = destination
        self.bytes = bytes
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.allowDisk = allowDisk
    }
}

/// Writes files atomically: a temporary file in the same directory, fsync, rename, fsync of the
/// directory. A reader sees the old content or the new, never a mix; a crash leaves at most a
/// `.secret-agent-*` file, removed at the next start.
///
/// Everything goes through a descriptor of the destination's directory, checked to belong to the
/// agent (see ``DirectoryHandle``): the temporary file is created with `openat(O_EXCL|O_NOFOLLOW)`,
/// renamed with `renameat`, and what is already at the destination is examined with
/// `fstatat`/`openat(O_NOFOLLOW|O_NONBLOCK)`: a symlink, FIFO, socket or device there is never
/// followed, opened or read, only replaced.
public enum AtomicWriter {
    static let tempPrefix = ".secret-agent-"

    /// Checks every destination before anything is written: not a directory, inside its
    /// output_dir, in directories that belong to the agent and that other users cannot write to,
    /// on tmpfs/ramfs unless allowed. Creates nothing. Throws exit 73 naming the first refused
    /// destination.
    public static func preflight(_ writes: [FileWrite]) throws(AgentError) {
        for w in writes {
            var st = stat()
            if lstat(w.destination, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                throw AgentError.cannotCreate("\(w.destination) is a directory; a template destination must be a file path")
            }
            if let root = w.confinedTo {
                let dir = FileSystem.realPath(FileSystem.nearestExisting(Paths.directory(of: w.destination)))
                let realRoot = FileSystem.realPath(FileSystem.nearestExisting(root))
                guard Paths.isInside(dir, realRoot) else {
                    throw AgentError.cannotCreate("\(w.destination) leads out of output_dir (\(root)) through a symlink; nothing was written")
                }
            }
            do throws(AgentError) {
                _ = try DirectoryHandle.open(Paths.directory(of: w.destination), confinedTo: w.confinedTo, owner: w.uid, create: false)
            } catch {
                throw AgentError.cannotCreate("\(w.destination): \(error.message); nothing was written")
            }
            if let open = FileSystem.writableByOthers(Paths.directory(of: w.destination)) {
                throw AgentError.cannotCreate("\(w.destination): the directory \(open) is writable by other users without the sticky bit, "
                    + "so another user could replace the file; chmod o-w it (or use a directory only the agent can write)")
            }
            if !w.allowDisk && !FileSystem.isMemoryBacked(Paths.directory(of: w.destination)) {
                throw AgentError.cannotCreate(
                    "\(w.destination) is not on tmpfs or ramfs; secrets are written to memory-backed file systems only. "
                        + "Use a tmpfs (/dev/shm, /run on most systems, mount_tmpfs: true as root) or set allow_disk: true / --allow-disk")
            }
        }
    }

    /// Makes the destination hold exactly `w.bytes` with `w.mode` and owner; returns true when
    /// it changed anything. Equal bytes in a regular file that already belongs to the right owner
    /// are kept: only a wrong mode or group is corrected, in place through the file's descriptor.
    /// Anything else (different bytes, another owner, a symlink, FIFO or device at the
    /// destination) is replaced atomically. The directory is checked (and created, 0700) first.
    @discardableResult
    public static func write(_ w: FileWrite) throws(AgentError) -> Bool {
        guard let dir = try DirectoryHandle.open(Paths.directory(of: w.destination), confinedTo: w.confinedTo, owner: w.uid, create: true)
        else { throw AgentError.cannotCreate("cannot create the directory of \(w.destination)") }
        let name = baseName(w.destination)
        switch Occupant.examine(name, in: dir.fd) {
        case .regular:
            if let kept = try keepIfEqual(w, name: name, in: dir.fd) {
                return kept
            }
        case .other(let what):
            Logger(label: "secret-agent").warning("something else was at a destination; replacing it with the rendered file", metadata: [
                "destination": "\(w.destination)", "found": "\(what)",
            ])
        case .none:
            break
        }
        try replace(w, name: name, in: dir)
        return true
    }

    /// When the regular file at `name` already holds the bytes and belongs to the right owner:
    /// corrects mode and group in place and returns whether it had to; nil when it must be replaced.
    private static func keepIfEqual(_ w: FileWrite, name: String, in dirfd: Int32) throws(AgentError) -> Bool? {
        let fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_uid == w.uid ?? geteuid(),
              st.st_size == w.bytes.count, Occupant.contents(of: fd, count: w.bytes.count) == w.bytes
        else { return nil }
        var changed = false
        if let gid = w.gid, st.st_gid != gid {
            guard fchown(fd, uid_t.max, gid) == 0 else { throw failure("set the group of", w.destination) }
            changed = true
        }
        if UInt32(st.st_mode & 0o7777) != w.mode || changed {
            guard fchmod(fd, mode_t(w.mode)) == 0 else { throw failure("set the mode of", w.destination) }
            changed = true
        }
        Written.record(w.destination, st, owner: w.uid)
        return changed
    }

    /// Writes a new file next to the destination and renames it over whatever is there.
    private static func replace(_ w: FileWrite, name: String, in dir: DirectoryHandle) throws(AgentError) {
        var temp = ""
        var fd: Int32 = -1
        for _ in 0..<100 {
            temp = tempPrefix + randomSuffix()
            fd = openat(dir.fd, temp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw failure("create a file in", dir.path) }
        var ok = false
        defer {
            if !ok { unlinkat(dir.fd, temp, 0) }
        }
        var st = stat()
        do {
            defer { close(fd) }
            if w.uid != nil || w.gid != nil {
                guard fchown(fd, w.uid ?? uid_t.max, w.gid ?? gid_t.max) == 0 else { throw failure("set the owner of", w.destination) }
            }
            guard fchmod(fd, mode_t(w.mode)) == 0 else { throw failure("set the mode of", w.destination) }
            var offset = 0
            while offset < w.bytes.count {
                let n = w.bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw failure("write", w.destination)
                }
                offset += n
            }
            guard fsync(fd) == 0 else { throw failure("sync", w.destination) }
            guard fstat(fd, &st) == 0 else { throw failure("examine", w.destination) }
        }
        guard renameat(dir.fd, temp, dir.fd, name) == 0 else { throw failure("replace", w.destination) }
        ok = true
        fsync(dir.fd)
        Written.record(w.destination, st, owner: w.uid)
    }

    static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    private static func randomSuffix() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<12).map { _ in letters.randomElement()! })
    }

    static func failure(_ what: String, _ path: String) -> AgentError {
        let code = errno
        return AgentError.cannotCreate("cannot \(what) \(path): \(FileBytes.lastErrorDescription(code))")
    }
}
