#if canImport(Glibc)
import Glibc
#endif
import SecretAgentCore
import SecretAgentRuntime
import Testing

@Suite("Atomic writer")
final class AtomicWriterTests {
    let dir: String

    init() {
        var t = Array("/dev/shm/secret-agent-writer-XXXXXX".utf8CString)
        dir = t.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    deinit { FileWatcherTests.removeTree(dir) }

    func mode(_ path: String) -> UInt32 {
        var st = stat()
        stat(path, &st)
        return UInt32(st.st_mode & 0o7777)
    }

    func entries(_ path: String) -> [String] {
        guard let d = opendir(path) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { out.append(name) }
        }
        return out.sorted()
    }

    @Test("writes bytes exactly with mode 0600 and creates parents 0700")
    func writes() throws {
        let bytes: [UInt8] = Array(repeating: 0xAB, count: 1 << 20) + [0, 1, 2]
        let dest = "\(dir)/a/b/secret.bin"
        #expect(try AtomicWriter.write(FileWrite(destination: dest, bytes: bytes)))
        #expect(FileBytes.read(dest) == bytes)
        #expect(mode(dest) == 0o600)
        #expect(mode("\(dir)/a/b") == 0o700)
        #expect(entries("\(dir)/a/b") == ["secret.bin"], "no temporary file is left")
    }

    @Test("an unchanged file is not rewritten; a changed one is replaced by rename")
    func unchanged() throws {
        let dest = "\(dir)/x.conf"
        #expect(try AtomicWriter.write(FileWrite(destination: dest, bytes: Array("one".utf8))))
        var before = stat()
        stat(dest, &before)
        #expect(try AtomicWriter.write(FileWrite(destination: dest, bytes: Array("one".utf8))) == false)
        #expect(try AtomicWriter.write(FileWrite(destination: dest, bytes: Array("two".utf8))))
        var after = stat()
        stat(dest, &after)
        #expect(before.st_ino != after.st_ino, "a new inode: rename, not an in-place rewrite")
        #expect(FileBytes.read(dest) == Array("two".utf8))
        // Mode changes alone are applied too.
        #expect(try AtomicWriter.write(FileWrite(destination: dest, bytes: Array("two".utf8), mode: 0o400)))
        #expect(mode(dest) == 0o400)
    }

    @Test("preflight refuses a disk destination unless allowed, and a directory destination")
    func preflight() throws {
        #expect(throws: AgentError.self) {
            try AtomicWriter.preflight([FileWrite(destination: "/var/tmp/secret-agent-test/x", bytes: [])])
        }
        try AtomicWriter.preflight([FileWrite(destination: "/var/tmp/secret-agent-test/x", bytes: [], allowDisk: true)])
        try AtomicWriter.preflight([FileWrite(destination: "\(dir)/not/yet/there", bytes: [])])
        #expect {
            try AtomicWriter.preflight([FileWrite(destination: dir, bytes: [])])
        } throws: { ($0 as! AgentError).exitCode == .cannotCreate }
    }

    @Test("tmpfs detection")
    func tmpfs() {
        #expect(FileSystem.isMemoryBacked("/dev/shm"))
        #expect(FileSystem.isMemoryBacked("\(dir)/does/not/exist"))
        #expect(!FileSystem.isMemoryBacked("/var/tmp"))
    }

    @Test("leftover temporary files are removed")
    func leftovers() throws {
        let stray = "\(dir)/.secret-agent-abc123"
        #expect(try AtomicWriter.write(FileWrite(destination: stray, bytes: [1], allowDisk: true)))
        let keep = "\(dir)/keep"
        #expect(try AtomicWriter.write(FileWrite(destination: keep, bytes: [1])))
        AtomicWriter.removeLeftovers(in: dir)
        #expect(entries(dir) == ["keep"])
    }
}
