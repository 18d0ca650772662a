import CSecretAgent
import SecretAgentCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A change to a watched file, as reported by ``FileWatcher``.
public struct FileEvent: Sendable, Hashable {
    /// The path exactly as it was passed to ``FileWatcher/watch(_:)``.
    public var path: String
    public var kind: Kind

    public enum Kind: Sendable, Hashable {
        /// The file was created, written, replaced (renamed onto), or its mode/owner changed.
        case changed
        /// The file no longer exists (deleted or renamed away) when the event is delivered.
        case deleted
    }

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }
}

/// Watches files by watching their directories (a replaced file's own watch dies with its inode).
///
/// - Events come from one dedicated thread (`poll` on the inotify descriptor and a pipe that
///   ``stop()`` writes to); no Swift concurrency thread ever blocks.
/// - Coalescing: events for one path are held until it has been quiet for 50 ms (at most 500 ms
///   after the first), then ONE event is delivered whose kind is decided by whether the file
///   exists at that moment (`stat`, following symlinks): `.changed` or `.deleted`.
/// - Names not in the watched set (temporary files, neighbours) are ignored, except that a
///   watched path which is a symlink gets `.changed` on any activity in its directory: this
///   catches Kubernetes-style volumes, whose files are symlinks through a `..data` symlink that
///   is swapped atomically. A symlink into some other directory is not followed.
/// - A missing directory is watched from its nearest existing ancestor; when the missing
///   directories appear the watch moves down, and a watched file found there already is reported
///   `.changed`. A path whose directories cannot be watched at all (permissions, the inotify
///   watch limit) is skipped and listed in ``unwatched``.
/// - IN_Q_OVERFLOW (events lost) reports every watched path, by existence as above.
/// - The agent's own writes produce events too (its atomic writer renames a
///   `.secret-agent-XXXXXX` file onto the destination): nothing is suppressed here; compare the
///   bytes on disk with what was written and treat equal content as a no-op.
/// - Nothing is logged; file contents are never read.
///
/// ``events`` is a single-consumer stream; it finishes after ``stop()`` (or deinit).
public final class FileWatcher: Sendable {
    private let core: Core
    /// One event per changed path, coalesced (see the type's documentation).
    public let events: AsyncStream<FileEvent>

    /// Throws ``AgentError`` (exit 69) when inotify, the wake-up pipe or the thread cannot be created.
    public init() throws(AgentError) {
        let (stream, continuation) = AsyncStream<FileEvent>.makeStream()
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else {
            throw AgentError(.unavailable, "inotify is unavailable: \(FileBytes.lastErrorDescription())")
        }
        var wake: [Int32] = [-1, -1]
        guard csa_pipe_cloexec(&wake) == 0 else {
            let message = FileBytes.lastErrorDescription()
            close(fd)
            throw AgentError(.unavailable, "cannot create a pipe for the file watcher: \(message)")
        }
        core = Core(fd: fd, wake: (wake[0], wake[1]), continuation: continuation)
        events = stream
        var thread = pthread_t()
        let context = Unmanaged.passRetained(core).toOpaque()
        let rc = pthread_create(&thread, nil, { context in
            let core = Unmanaged<Core>.fromOpaque(context!).takeRetainedValue()
            core.run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<Core>.fromOpaque(context).release()
            core.stop()
            close(fd)
            close(wake[0])
            close(wake[1])
            continuation.finish()
            throw AgentError(.unavailable, "cannot start the file watcher thread: \(FileBytes.lastErrorDescription(rc))")
        }
        pthread_detach(thread)
    }

    deinit { core.stop() }

    /// Replaces the watched set with `paths` (files; relative ones resolve against the working
    /// directory; `.`/`..` and repeated slashes are normalised, symlinks are not resolved).
    /// Starting to watch a path reports nothing by itself. No effect after ``stop()``.
    public func watch(_ paths: Set<String>) {
        let cwd = FileBytes.currentDirectory()
        core.state.withLock { s in
            guard !s.stopped else { return }
            s.paths = [:]
            for p in paths { s.paths[Self.normalize(p, cwd: cwd), default: []].insert(p) }
            _ = core.rewatch(&s)
        }
    }

    /// The watched paths (as given) that no directory watch covers right now.
    public var unwatched: Set<String> {
        core.state.withLock { s in s.unwatched.reduce(into: []) { $0.formUnion(s.paths[$1] ?? []) } }
    }

    /// Ends the thread promptly and finishes ``events``; pending events are dropped. Idempotent.
    public func stop() { core.stop() }

    static func normalize(_ path: String, cwd: String) -> String {
        var parts: [Substring] = []
        for c in (path.hasPrefix("/") ? path : cwd + "/" + path).split(separator: "/") where c != "." {
            if c == ".." { _ = parts.popLast() } else { parts.append(c) }
        }
        return "/" + parts.joined(separator: "/")
    }
}

private final class Core: Sendable {
    struct State {
        var stopped = false
        /// Normalised path → the spellings the caller used.
        var paths: [String: Set<String>] = [:]
        /// Normalised path → the directory whose watch covers it (its parent or an ancestor).
        var watchDir: [String: String] = [:]
        /// Watch descriptor → directory paths (two paths to one inode share a descriptor).
        var dirs: [Int32: Set<String>] = [:]
        var unwatched: Set<String> = []
    }

    static let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB)
        | UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
    static let quiet = Duration.milliseconds(50)
    static let maxDelay = Duration.milliseconds(500)

    let fd: Int32
    /// A pipe: ``stop()`` writes one byte, which wakes the thread's `poll`.
    let wake: (read: Int32, write: Int32)
    let continuation: AsyncStream<FileEvent>.Continuation
    let state = Mutex(State())

    init(fd: Int32, wake: (Int32, Int32), continuation: AsyncStream<FileEvent>.Continuation) {
        self.fd = fd
        self.wake = wake
        self.continuation = continuation
    }

    func stop() {
        state.withLock { s in
            guard !s.stopped else { return }
            s.stopped = true
            var one: UInt8 = 1
            _ = write(wake.write, &one, 1)  // the thread closes the descriptors after this
        }
    }

    /// Re-derives every directory watch from the paths; returns the paths whose covering
    /// directory changed and that exist now or were covered by their own parent before.
    func rewatch(_ s: inout State) -> [String] {
        var result: [String: Int32] = [:]  // directory → descriptor, or -errno
        func add(_ dir: String) -> Int32 {
            if let r = result[dir] { return r }
            let wd = inotify_add_watch(fd, dir, Self.mask)
            let r = wd >= 0 ? wd : -errno
            result[dir] = r
            return r
        }
        var dirs: [Int32: Set<String>] = [:], watchDir: [String: String] = [:]
        s.unwatched = []
        for path in s.paths.keys {
            var dir = Paths.directory(of: path)
            var wd = add(dir)
            while wd == -ENOENT || wd == -ENOTDIR, dir != "/" {
                dir = Paths.directory(of: dir)
                wd = add(dir)
            }
            if wd >= 0 { dirs[wd, default: []].insert(dir); watchDir[path] = dir } else { s.unwatched.insert(path) }
        }
        for wd in s.dirs.keys where dirs[wd] == nil { _ = inotify_rm_watch(fd, wd) }
        let moved = s.paths.keys.filter { p in
            s.watchDir[p] != watchDir[p] && (access(p, F_OK) == 0 || s.watchDir[p] == Paths.directory(of: p))
        }
        (s.dirs, s.watchDir) = (dirs, watchDir)
        return moved
    }

    /// The thread: poll, read, coalesce, deliver; closes the descriptors when stopped.
    func run() {
        let size = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        let clock = ContinuousClock()
        var pending: [String: (first: ContinuousClock.Instant, last: ContinuousClock.Instant)] = [:]
        while true {
            var timeout: Int32 = -1
            if let due = pending.values.map({ min($0.last + Self.quiet, $0.first + Self.maxDelay) }).min() {
                timeout = Int32(clamping: max(0, clock.now.duration(to: due).milliseconds + 1))
            }
            var ready: Int32 = 0, woken: Int32 = 0
            _ = csa_poll2(fd, wake.read, timeout, &ready, &woken)
            if woken != 0 || state.withLock({ $0.stopped }) { break }
            var touched: [String] = []
            while ready != 0 {
                let n = read(fd, buffer, size)
                guard n > 0 else { break }
                touched += handle(buffer, count: n)
            }
            let now = clock.now
            for p in touched { pending[p] = (pending[p]?.first ?? now, now) }
            let due = pending.filter { now >= min($0.value.last + Self.quiet, $0.value.first + Self.maxDelay) }.keys
            var out: [FileEvent] = []
            state.withLock { s in
                for p in due {
                    pending[p] = nil
                    var st = stat()
                    let kind: FileEvent.Kind = stat(p, &st) == 0 ? .changed : .deleted
                    for original in s.paths[p] ?? [] { out.append(FileEvent(path: original, kind: kind)) }
                }
            }
            for e in out { continuation.yield(e) }
        }
        state.withLock { _ in
            close(fd)
            close(wake.read)
            close(wake.write)
        }
        continuation.finish()
    }

    /// Parses one `read` of inotify events; returns the normalised paths they concern.
    private func handle(_ buffer: UnsafeMutableRawPointer, count: Int) -> [String] {
        var raw: [(wd: Int32, mask: UInt32, name: String)] = []
        var offset = 0
        while offset + 16 <= count {
            let len = Int(buffer.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let name = len > 0 ? String(cString: (buffer + offset + 16).assumingMemoryBound(to: CChar.self)) : ""
            raw.append((buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                        buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self), name))
            offset += 16 + len
        }
        return state.withLock { s in
            var touched: [String] = []
            var again = false
            for e in raw {
                if e.mask & UInt32(IN_Q_OVERFLOW) != 0 {
                    touched += s.paths.keys
                    again = true
                    continue
                }
                guard let dirs = s.dirs[e.wd] else { continue }  // a watch already replaced
                if e.mask & UInt32(IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF) != 0 { again = true }
                guard !e.name.isEmpty else { continue }
                for dir in dirs {
                    let full = dir == "/" ? "/" + e.name : dir + "/" + e.name
                    if s.paths[full] != nil {
                        touched.append(full)
                        continue
                    }
                    if e.mask & UInt32(IN_ISDIR) != 0, s.paths.keys.contains(where: { $0.hasPrefix(full + "/") }) { again = true }
                    touched += s.paths.keys.filter { p in
                        var st = stat()
                        return s.watchDir[p] == dir && Paths.directory(of: p) == dir
                            && lstat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
                    }
                }
            }
            if again { touched += rewatch(&s) }
            return touched
        }
    }
}
