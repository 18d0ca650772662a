import CSecretAgent
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The C shims that need no child: file-system type, tmpfs mounting, the signal self-pipe.
@Suite("C shims")
struct CShimTests {
    @Test("statfs type: /dev/shm is tmpfs, /proc is not; a missing path fails")
    func statfsType() {
        var type: Int64 = 0
        if access("/dev/shm", F_OK) == 0 {
            #expect(csa_statfs_type("/dev/shm", &type) == 0)
            #expect(type == Int64(CSA_TMPFS_MAGIC))
        }
        #expect(csa_statfs_type("/proc", &type) == 0)
        #expect(type != Int64(CSA_TMPFS_MAGIC))
        #expect(csa_statfs_type("/no/such/dir", &type) == -1)
        #expect(errno == ENOENT)
    }

    @Test("mount_tmpfs: a private tmpfs (when allowed to mount)")
    func mountTmpfs() throws {
        let scratch = Scratch()
        defer { scratch.cleanup() }
        guard csa_mount_tmpfs(scratch.path, 0o700, 1) == 0 else {
            #expect(errno == EPERM || errno == EACCES, "mount failed: errno \(errno)")
            return  // not privileged here
        }
        defer { umount(scratch.path) }
        var type: Int64 = 0
        #expect(csa_statfs_type(scratch.path, &type) == 0)
        #expect(type == Int64(CSA_TMPFS_MAGIC))
        let mounts = readText("/proc/self/mounts").split(separator: "\n").first { $0.contains(" \(scratch.path) ") }
        let options = try #require(mounts).split(separator: " ")[3]
        for option in ["nosuid", "nodev", "noexec", "mode=700", "size=1024k"] {
            #expect(options.contains(option), "\(options)")
        }
    }

    @Test("the self-pipe carries whole records; signal 0 is a wake-up")
    func signalPipe() {
        var fds: [Int32] = [-1, -1]
        #expect(csa_signal_pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        var record = csa_siginfo()
        #expect(csa_signal_pipe_read(fds[0], &record) == 0)  // empty, non-blocking
        #expect(csa_signal_pipe_wake(fds[1]) == 0)
        #expect(csa_signal_pipe_read(fds[0], &record) == 1)
        #expect(record.signo == 0)
    }

    @Test("csa_pipe_cloexec: both ends are close-on-exec from creation (pipe2), and blocking")
    func pipeCloexec() {
        var fds: [Int32] = [-1, -1]
        #expect(csa_pipe_cloexec(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        for fd in fds {
            #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
            #expect(fcntl(fd, F_GETFL) & O_NONBLOCK == 0)
        }
    }

    @Test("realtime range and the handled list agree with glibc")
    func realtime() {
        var signals = [Int32](repeating: 0, count: 128)
        let count = Int(csa_agent_signals(&signals, 128))
        #expect(Array(signals[0..<count]).suffix(Int(csa_sigrtmax() - csa_sigrtmin() + 1)) == Array(csa_sigrtmin()...csa_sigrtmax()))
        #expect(csa_agent_signals(nil, 0) == Int32(count))
    }

    /// RssFile of /proc/self/status, in KiB.
    static func residentFileKiB() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return -1 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if text.hasPrefix("RssFile:") { return Int(text.dropFirst(8).filter(\.isNumber)) ?? -1 }
        }
        return -1
    }

    @Test("release_code_pages: the executable's code leaves the resident set, and runs on as it faults back in")
    func releaseCodePages() {
        let before = Self.residentFileKiB()
        let released = csa_release_code_pages()
        let after = Self.residentFileKiB()
        #expect(released > 0, "errno \(errno)")
        #expect(released % Int(sysconf(Int32(_SC_PAGESIZE))) == 0)
        // The pages this test's own threads fault back in are far fewer than those handed back.
        #expect(after < before, "RssFile \(before) KiB before, \(after) KiB after")
        // Code and constants come back from the binary as they are used.
        var fds: [Int32] = [-1, -1]
        #expect(csa_pipe_cloexec(&fds) == 0)
        close(fds[0])
        close(fds[1])
        #expect(Self.residentFileKiB() > 0)
    }
}
