#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import SecretAgentCore
import SecretAgentRuntime
import Synchronization
import Testing

/// The writer against another local user: directories they own or can write to, FIFOs and
/// symlinks planted at a destination, a chmod of a rendered file, leaked descriptors. Runs as
/// root (the test machine): "another user" is nobody (65534).
@Suite("Atomic writer: ownership, planted files, descriptors")
final class WriterSecurityTests {
    let dir: String
    static let nobody: uid_t = 65534

    init() {
        var t = Array("/dev/shm/secret-agent-writer-XXXXXX".utf8CString)
        dir = t.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    deinit { FileWatcherTests.removeTree(dir) }

    func stat(_ path: String) -> stat {
        var st = Glibc.stat()
        lstat(path, &st)
        return st
    }

    func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    func put(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0)
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    func relative(_ name: String, in root: String, _ text: String = "secret") -> FileWrite {
        FileWrite(destination: "\(root)/\(name)", bytes: Array(text.utf8), confinedTo: root)
    }

    func refusal(_ body: () throws(AgentError) -> Void) -> AgentError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    @Test("an output_dir another user created first is refused (73) by preflight and write, naming owner and mode")
    func foreignOwner() throws {
        let out = "\(dir)/out"
        for mode: mode_t in [0o755, 0o1777, 0o700] {
            #expect(mkdir(out, 0o700) == 0)
            #expect(chown(out, Self.nobody, Self.nobody) == 0 && chmod(out, mode) == 0)
            let w = relative("app.conf", in: out)
            let early = refusal { () throws(AgentError) in try AtomicWriter.preflight([w]) }
            #expect(early?.exitCode == .cannotCreate)
            #expect(early?.message.contains(out) == true && early?.message.contains("uid 65534") == true, "\(early?.message ?? "")")
            #expect(early?.message.contains("mode 0" + String(mode, radix: 8)) == true, "\(early?.message ?? "")")
            #expect(early?.message.contains("chown") == true, "\(early?.message ?? "")")
            let late = refusal { () throws(AgentError) in _ = try AtomicWriter.write(w) }
            #expect(late?.exitCode == .cannotCreate)
            #expect(!exists(w.destination), "nothing written")
            #expect(rmdir(out) == 0)
        }
    }

    @Test("a subdirectory of output_dir owned by another user is refused too")
    func foreignSubdirectory() throws {
        let out = "\(dir)/out"
        #expect(mkdir(out, 0o700) == 0 && mkdir("\(out)/sub", 0o700) == 0 && chown("\(out)/sub", Self.nobody, Self.nobody) == 0)
        let w = relative("sub/app.conf", in: out)
        #expect(refusal { () throws(AgentError) in try AtomicWriter.preflight([w]) }?.message.contains("\(out)/sub") == true)
        #expect(refusal { () throws(AgentError) in _ = try AtomicWriter.write(w) }?.exitCode == .cannotCreate)
        #expect(!exists(w.destination))
    }

    @Test("output_dir: group-writable or shared sticky is refused; a root-owned sticky directory is fine for an absolute destination")
    func sharedDirectories() throws {
        let shared = "\(dir)/shared"
        #expect(mkdir(shared, 0o700) == 0 && chmod(shared, 0o1777) == 0)
        let asOutputDir = refusal { () throws(AgentError) in try AtomicWriter.preflight([relative("app.conf", in: shared)]) }
        #expect(asOutputDir?.message.contains("writable") == true, "\(asOutputDir?.message ?? "")")
        let absolute = FileWrite(destination: "\(shared)/abs.conf", bytes: Array("x".utf8))
        try AtomicWriter.preflight([absolute])
        #expect(try AtomicWriter.write(absolute))
        #expect(FileBytes.read(absolute.destination) == Array("x".utf8))
        // Owned by another user, sticky or not, an absolute destination's directory is refused.
        #expect(chown(shared, Self.nobody, Self.nobody) == 0)
        #expect(refusal { () throws(AgentError) in try AtomicWriter.preflight([absolute]) }?.message.contains("uid 65534") == true)
        let group = "\(dir)/group"
        #expect(mkdir(group, 0o700) == 0 && chmod(group, 0o770) == 0)
        #expect(refusal { () throws(AgentError) in try AtomicWriter.preflight([relative("a", in: group)]) }?.message.contains("group") == true)
        // Missing directories are created 0700 and pass.
        let fresh = relative("new/deeper/app.conf", in: "\(dir)/made")
        try AtomicWriter.preflight([fresh])
        #expect(try AtomicWriter.write(fresh))
        #expect(stat("\(dir)/made").st_mode & 0o7777 == 0o700 && stat("\(dir)/made/new/deeper").st_mode & 0o7777 == 0o700)
    }

    @Test("output_dir that is a symlink is refused: files never go through a symlink")
    func symlinkedOutputDir() throws {
        #expect(mkdir("\(dir)/real", 0o700) == 0 && symlink("\(dir)/real", "\(dir)/link") == 0)
        let w = relative("app.conf", in: "\(dir)/link")
        #expect(refusal { () throws(AgentError) in _ = try AtomicWriter.write(w) }?.message.contains("symlink") == true)
        #expect(!exists("\(dir)/real/app.conf"))
    }

    @Test("a FIFO planted at the destination neither blocks the writer nor stays: it is replaced by the file", .timeLimit(.minutes(1)))
    func plantedFIFO() async throws {
        let dest = "\(dir)/app.conf"
        #expect(mkfifo(dest, 0o600) == 0)
        let done = Shared<Bool?>(nil)
        DispatchQueue.global().async {
            let wrote = (try? AtomicWriter.write(FileWrite(destination: dest, bytes: Array("secret".utf8)))) ?? false
            done.withLock { $0 = wrote }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while done.withLock({ $0 }) == nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let finished = done.withLock { $0 } != nil
        #expect(finished, "the writer blocked on the FIFO")
        if !finished {
            // Unblock a writer stuck in open(): a writer end makes its open return, then EOF.
            let fd = open(dest, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
            while done.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(stat(dest).st_mode & S_IFMT == S_IFREG)
        #expect(FileBytes.read(dest) == Array("secret".utf8))
    }

    @Test("a symlink planted at the destination is replaced, never followed, even when its target holds the same bytes")
    func plantedSymlink() throws {
        let victim = "\(dir)/victim"
        put(victim, "secret")
        let dest = "\(dir)/app.conf"
        #expect(symlink(victim, dest) == 0)
        try AtomicWriter.write(FileWrite(destination: dest, bytes: Array("secret".utf8)))
        #expect(stat(dest).st_mode & S_IFMT == S_IFREG, "the symlink is gone")
        try AtomicWriter.write(FileWrite(destination: "\(dir)/other.conf", bytes: Array("other".utf8)))
        #expect(symlink(victim, "\(dir)/other.conf.new") == 0 && rename("\(dir)/other.conf.new", "\(dir)/other.conf") == 0)
        try AtomicWriter.write(FileWrite(destination: "\(dir)/other.conf", bytes: Array("changed".utf8)))
        #expect(FileBytes.read(victim) == Array("secret".utf8), "the symlink's target is untouched")
        #expect(stat("\(dir)/other.conf").st_mode & S_IFMT == S_IFREG)
    }

    @Test("a regular file of the same bytes but another owner is rewritten as the agent's")
    func foreignFileSameBytes() throws {
        let dest = "\(dir)/app.conf"
        put(dest, "secret")
        #expect(chown(dest, Self.nobody, Self.nobody) == 0)
        #expect(try AtomicWriter.write(FileWrite(destination: dest, bytes: Array("secret".utf8))))
        #expect(stat(dest).st_uid == geteuid())
    }

    @Test("a chmod of a written file is corrected in place: same inode, mode back, no rewrite of equal bytes")
    func modeRestoredInPlace() throws {
        let dest = "\(dir)/app.conf"
        let w = FileWrite(destination: dest, bytes: Array("secret".utf8))
        #expect(try AtomicWriter.write(w))
        let before = stat(dest)
        #expect(chmod(dest, 0o644) == 0)
        #expect(try AtomicWriter.write(w))
        let after = stat(dest)
        #expect(after.st_mode & 0o7777 == 0o600)
        #expect(after.st_ino == before.st_ino)
        #expect(try AtomicWriter.write(w) == false)
    }

    @Test("remove(): only files this process wrote and that are still the same regular file; reports the rest")
    func remove() throws {
        func w(_ name: String) -> FileWrite { FileWrite(destination: "\(dir)/\(name)", bytes: Array(name.utf8)) }
        for name in ["a", "b", "c", "gone"] { try AtomicWriter.write(w(name)) }
        put("\(dir)/victim", "victim")
        #expect(unlink("\(dir)/b") == 0 && symlink("\(dir)/victim", "\(dir)/b") == 0)
        #expect(unlink("\(dir)/c") == 0)
        put("\(dir)/c", "someone else's")
        #expect(unlink("\(dir)/gone") == 0)
        put("\(dir)/never", "x")
        let failures = AtomicWriter.remove(["\(dir)/a", "\(dir)/b", "\(dir)/c", "\(dir)/gone", "\(dir)/never"])
        #expect(Set(failures.map(\.path)) == ["\(dir)/b", "\(dir)/c", "\(dir)/never"], "\(failures)")
        #expect(failures.first { $0.path == "\(dir)/b" }?.reason.contains("symlink") == true)
        #expect(!exists("\(dir)/a"))
        #expect(stat("\(dir)/b").st_mode & S_IFMT == S_IFLNK && FileBytes.read("\(dir)/victim") == Array("victim".utf8))
        #expect(FileBytes.read("\(dir)/c") == Array("someone else's".utf8))
        #expect(exists("\(dir)/never"))
        // Removed once: a second call has nothing of this process's left to remove.
        #expect(AtomicWriter.remove(["\(dir)/a"]).count == 1)
    }

    @Test("leftovers are removed through the directory itself: not through a symlinked directory, never a symlink's target")
    func leftoversNoFollow() throws {
        #expect(mkdir("\(dir)/real", 0o700) == 0 && symlink("\(dir)/real", "\(dir)/link") == 0)
        put("\(dir)/real/.secret-agent-abc123", "stray")
        AtomicWriter.removeLeftovers(in: "\(dir)/link")
        #expect(exists("\(dir)/real/.secret-agent-abc123"), "a symlinked directory is not entered")
        put("\(dir)/target", "keep")
        #expect(symlink("\(dir)/target", "\(dir)/real/.secret-agent-link") == 0)
        AtomicWriter.removeLeftovers(in: "\(dir)/real")
        #expect(!exists("\(dir)/real/.secret-agent-abc123"))
        #expect(FileBytes.read("\(dir)/target") == Array("keep".utf8))
    }

    @Test("user and group lookups from many threads at once each get their own answer")
    func concurrentLookups() async throws {
        let counts = await withTaskGroup(of: Int.self) { group in
            for i in 0..<2 {
                group.addTask {
                    await Self.onBackgroundThread {
                        var wrong = 0
                        for n in 0..<30000 {
                            let even = (i + n) % 2 == 0
                            let uid = try? Accounts.uid(even ? "root" : "nobody")
                            let gid = try? Accounts.gid(even ? "root" : "nogroup")
                            if uid != (even ? 0 : Self.nobody) || gid != (even ? 0 : Self.nobody) { wrong += 1 }
                        }
                        return wrong
                    }
                }
            }
            return await group.reduce(0, +)
        }
        #expect(counts == 0)
        #expect(Accounts.primaryGroup(of: Self.nobody) == Self.nobody)
        #expect(throws: AgentError.self) { try Accounts.uid("no-such-user-here") }
    }

    @Test("no descriptor of a file being written leaks into a child forked meanwhile")
    func noLeakIntoChildren() async throws {
        let work = "\(dir)/work", reports = "\(dir)/reports"
        #expect(mkdir(work, 0o700) == 0 && mkdir(reports, 0o700) == 0)
        let stop = Shared(false)
        async let writes: Int = Self.onBackgroundThread {
            var n = 0
            while !stop.withLock({ $0 }) {
                n += 1
                _ = try? AtomicWriter.write(FileWrite(destination: "\(work)/f\(n % 4)", bytes: Array("\(n)".utf8)))
            }
            return n
        }
        let leaks = await Self.onBackgroundThread {
            var leaks: [String] = []
            for i in 0..<300 {
                guard let listing = Self.spawnListingDescriptors(into: "\(reports)/\(i)") else { continue }
                leaks += listing.split(separator: "\n").filter { $0.contains(work) }.map(String.init)
            }
            return leaks
        }
        stop.withLock { $0 = true }
        #expect(await writes > 0)
        #expect(leaks.isEmpty, "\(leaks.prefix(3))")
    }

    /// Runs blocking, busy work on a thread of its own at the lowest priority (nice 19 is per
    /// thread on Linux), leaving the Swift concurrency pool and the CPU to other tests.
    static func onBackgroundThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in
            let thread = Thread {
                _ = nice(19)
                c.resume(returning: body())
            }
            thread.start()
        }
    }

    /// Forks `ls -l /proc/self/fd` with stdout to `report` and returns its output.
    static func spawnListingDescriptors(into report: String) -> String? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, report, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let arguments: [String] = ["/bin/ls", "-l", "/proc/self/fd/"]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/ls", &actions, nil, argv, environ) == 0 else { return nil }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // (ECHILD: another test's reaper collected it; it has exited either way.)
        return FileBytes.readText(report)
    }
}

/// A value shared with closures that escape (a Mutex itself cannot be captured by them).
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ initial: Value) { value = Mutex(initial) }

    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
}
