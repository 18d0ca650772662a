#if canImport(Glibc)
import Glibc
#endif
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
/// `.secret-agent-*.tmp` file, removed at the next start.
public enum AtomicWriter {
    static let tempPrefix = ".secret-agent-"

    /// Checks every destination before anything is written: on tmpfs/ramfs unless allowed, and
    /// not a directory. Throws exit 73 naming the first refused destination.
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

    /// Writes the file if its bytes differ from what is there; returns true when it wrote.
    @discardableResult
    public static func write(_ w: FileWrite) throws(AgentError) -> Bool {
        let dir = Paths.directory(of: w.destination)
        try FileSystem.makeDirectories(dir)
        if let current = FileBytes.read(w.destination), current == w.bytes, hasModeAndOwner(w) {
            return false
        }
        var template = Array("\(dir)/\(tempPrefix)XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        guard fd >= 0 else {
            throw AgentError.cannotCreate("cannot create a file in \(dir): \(FileBytes.lastErrorDescription())")
        }
        let tempPath = String(cString: template)
        var ok = false
        defer {
            if !ok { unlink(tempPath) }
        }
        do {
            defer { close(fd) }
            guard fchmod(fd, mode_t(w.mode)) == 0 else { throw failure("set the mode of", w.destination) }
            if w.uid != nil || w.gid != nil {
                guard fchown(fd, w.uid ?? uid_t.max, w.gid ?? gid_t.max) == 0 else {
                    throw failure("set the owner of", w.destination)
                }
            }
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
        }
        guard rename(tempPath, w.destination) == 0 else { throw failure("replace", w.destination) }
        ok = true
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
        return true
    }

    /// Removes temporary files a crashed run left in `dir`.
    public static func removeLeftovers(in dir: String) {
        guard let d = opendir(dir) else { return }
        defer { closedir(d) }
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name.hasPrefix(tempPrefix) { unlink(dir + "/" + name) }
        }
    }

    private static func hasModeAndOwner(_ w: FileWrite) -> Bool {
        var st = stat()
        guard stat(w.destination, &st) == 0 else { return false }
        if UInt32(st.st_mode & 0o7777) != w.mode { return false }
        if let uid = w.uid, st.st_uid != uid { return false }
        if let gid = w.gid, st.st_gid != gid { return false }
        return true
    }

    private static func failure(_ what: String, _ path: String) -> AgentError {
        let code = errno
        return AgentError.cannotCreate("cannot \(what) \(path): \(FileBytes.lastErrorDescription(code))")
    }
}

/// Resolves `user:`/`group:` names or ids.
public enum Accounts {
    public static func uid(_ name: String) throws(AgentError) -> uid_t {
        if let n = UInt32(name) { return n }
        guard let pw = getpwnam(name) else { throw AgentError.config("unknown user '\(name)'") }
        return pw.pointee.pw_uid
    }

    public static func gid(_ name: String) throws(AgentError) -> gid_t {
        if let n = UInt32(name) { return n }
        guard let gr = getgrnam(name) else { throw AgentError.config("unknown group '\(name)'") }
        return gr.pointee.gr_gid
    }
}
