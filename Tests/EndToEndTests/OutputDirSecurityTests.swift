import Foundation
import Testing

/// Issue 11: another local user against the output directory and the rendered files. The tests
/// run as root; "another user" is nobody (uid 65534). Every wait has a deadline, and a planted
/// FIFO is released after it, so old behaviour (blocking on the FIFO) fails instead of hanging.
@Suite("Output directory: owner check, planted FIFOs and symlinks, chmod corrected")
struct OutputDirSecurityTests {
    static let password = "pw-for-output-dir-tests"
    static let nobody: uid_t = 65534

    func scratch() -> Scratch {
        let s = Scratch()
        s.write("secrets.json", #"{"password": "\#(Self.password)"}"#)
        s.write("agent.yaml", """
            poll: 10m
            output_dir: \(s.path)/out
            templates:
              - contents: "{{ file:secrets.json#password }}"
                destination: app.conf
            exec:
              command: [\(Agent.testChild), --log, \(s.file("child.log"))]
            """)
        return s
    }

    func render(_ s: Scratch) throws -> Agent.Result {
        try Agent.run(["render", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment(), timeout: 30)
    }

    func start(_ s: Scratch) throws -> (Process, Collector) {
        let (p, _, err) = try Agent.start(["run", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment())
        let log = Collector(err)
        #expect(eventually { (s.read("child.log") ?? "").contains("start") }, "\(log.text(wait: false))")
        return (p, log)
    }

    /// SIGTERM, then SIGKILL if the agent has not exited 10 s later (a failure).
    func stop(_ p: Process) {
        kill(p.processIdentifier, SIGTERM)
        if !eventually(timeout: 10, { !p.isRunning }) {
            Issue.record("the agent did not stop on SIGTERM")
            kill(p.processIdentifier, SIGKILL)
        }
        p.waitUntilExit()
    }

    func fileType(_ path: String) -> mode_t {
        var st = stat()
        guard lstat(path, &st) == 0 else { return 0 }
        return st.st_mode & S_IFMT
    }

    func mode(_ path: String) -> mode_t {
        var st = stat()
        stat(path, &st)
        return st.st_mode & 0o7777
    }

    /// Opens the FIFO for writing without blocking, which releases a reader stuck in open().
    func release(_ fifo: String) {
        let fd = open(fifo, O_WRONLY | O_NONBLOCK)
        if fd >= 0 { close(fd) }
    }

    @Test("an output_dir created first by another user (0755 or 1777) is refused with 73 naming it; nothing written")
    func foreignOutputDir() throws {
        let s = scratch()
        defer { s.remove() }
        let out = s.file("out")
        for m: mode_t in [0o755, 0o1777] {
            #expect(mkdir(out, 0o700) == 0 && chown(out, Self.nobody, Self.nobody) == 0 && chmod(out, m) == 0)
            let r = try render(s)
            #expect(r.status == 73, "\(r.stderr)")
            #expect(r.stderr.contains(out) && r.stderr.contains("uid 65534") && r.stderr.contains("mode 0" + String(m, radix: 8)), "\(r.stderr)")
            #expect(r.stderr.contains("chown") && r.stderr.contains("remove"), "says what to do: \(r.stderr)")
            #expect(!s.exists("out/app.conf"))
            #expect(rmdir(out) == 0)
        }
        let r = try render(s)
        #expect(r.status == 0, "a missing output_dir is created: \(r.stderr)")
        #expect(mode(out) == 0o700)
    }

    @Test("a FIFO planted at the destination does not block render and is replaced by the file")
    func fifoAtDestination() throws {
        let s = scratch()
        defer { s.remove() }
        #expect(mkdir(s.file("out"), 0o700) == 0 && mkfifo(s.file("out/app.conf"), 0o666) == 0)
        let r = try render(s)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(fileType(s.file("out/app.conf")) == S_IFREG)
        #expect(s.read("out/app.conf") == Self.password)
        #expect(r.stderr.contains("FIFO"), "a warning says what was there: \(r.stderr)")
    }

    @Test("a symlink planted at the destination is replaced, never followed, even when its target holds the same bytes")
    func symlinkAtDestination() throws {
        let s = scratch()
        defer { s.remove() }
        let victim = s.write("victim.txt", Self.password)
        chmod(victim, 0o600)
        #expect(mkdir(s.file("out"), 0o700) == 0 && symlink(victim, s.file("out/app.conf")) == 0)
        let r = try render(s)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(fileType(s.file("out/app.conf")) == S_IFREG, "the symlink is replaced by the agent's own file")
        #expect(s.read("victim.txt") == Self.password && mode(victim) == 0o600, "its target is untouched")
    }

    @Test("a running agent corrects a chmod 0644 of a rendered file back to 0600")
    func chmodCorrected() throws {
        let s = scratch()
        defer { s.remove() }
        let (p, log) = try start(s)
        defer { stop(p) }
        let file = s.file("out/app.conf")
        #expect(mode(file) == 0o600)
        #expect(chmod(file, 0o644) == 0)
        #expect(eventually(timeout: 5) { mode(file) == 0o600 }, "\(log.text(wait: false))")
        #expect(s.read("out/app.conf") == Self.password)
    }

    @Test("a running agent is not blocked by a FIFO put in place of a rendered file; it writes the file back")
    func fifoWriteBack() throws {
        let s = scratch()
        defer { s.remove() }
        let (p, log) = try start(s)
        defer { stop(p) }
        let file = s.file("out/app.conf")
        #expect(unlink(file) == 0 && mkfifo(file, 0o666) == 0)
        let restored = eventually(timeout: 5) { fileType(file) == S_IFREG && s.read("out/app.conf") == Self.password }
        #expect(restored, "\(log.text(wait: false))")
        if !restored { release(file) }
    }

    @Test("write-back refuses an output_dir whose owner changed under the running agent")
    func writeBackForeignOwner() throws {
        let s = scratch()
        defer { s.remove() }
        let (p, log) = try start(s)
        defer { stop(p) }
        #expect(chown(s.file("out"), Self.nobody, Self.nobody) == 0)
        #expect(unlink(s.file("out/app.conf")) == 0)
        #expect(eventually(timeout: 5) { log.text(wait: false).contains("cannot write back") }, "\(log.text(wait: false))")
        #expect(log.text(wait: false).contains("uid 65534"))
        #expect(!s.exists("out/app.conf"), "nothing written into a directory another user owns")
    }
}
