#if canImport(Glibc)
import Glibc
#endif
import SecretAgentRuntime
import Synchronization
import Testing

/// Collects a watcher's events on a task; every wait has a deadline, so a broken watcher fails.
final class FileWatchCollector: Sendable {
    let seen = Mutex<[FileEvent]>([])
    let finished = Mutex(false)

    init(_ watcher: FileWatcher) {
        let stream = watcher.events
        Task {
            for await e in stream { self.seen.withLock { $0.append(e) } }
            self.finished.withLock { $0 = true }
        }
    }

    /// Waits until `done` holds for the events so far (or 5 s pass), then `settle` longer.
    func wait(settle: Duration = .milliseconds(250), until done: @Sendable ([FileEvent]) -> Bool) async -> [FileEvent] {
        let deadline = ContinuousClock.now + .seconds(5)
        while !seen.withLock({ done($0) }), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        try? await Task.sleep(for: settle)
        return seen.withLock { $0 }
    }

    func events(for path: String) -> [FileEvent] { seen.withLock { $0.filter { $0.path == path } } }
}

@Suite("File watcher")
final class FileWatcherTests {
    let dir: String

    init() {
        var t = Array("/dev/shm/secret-agent-watch-XXXXXX".utf8CString)
        dir = t.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    deinit { Self.removeTree(dir) }

    static func removeTree(_ path: String) {
        if let d = opendir(path) {
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name != "." && name != ".." && Int32(e.pointee.d_type) == DT_DIR { removeTree(path + "/" + name) }
                else if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(d)
        }
        rmdir(path)
    }

    func put(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0)
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    func started(_ paths: Set<String>) throws -> (FileWatcher, FileWatchCollector) {
        let w = try FileWatcher()
        let c = FileWatchCollector(w)
        w.watch(paths)
        return (w, c)
    }

    @Test("a file written in place gives one .changed")
    func inPlace() async throws {
        let f = "\(dir)/a.conf"
        put(f, "one")
        let (w, c) = try started([f])
        defer { w.stop() }
        put(f, "two")
        #expect(await c.wait { !$0.isEmpty } == [FileEvent(path: f, kind: .changed)])
    }

    @Test("an atomic replace (rename over) gives .changed and nothing for the temp file")
    func renameOver() async throws {
        let f = "\(dir)/config.json"
        put(f, "old")
        let (w, c) = try started([f])
        defer { w.stop() }
        put("\(dir)/.secret-agent-Ab12Cd", "new")
        #expect(rename("\(dir)/.secret-agent-Ab12Cd", f) == 0)
        #expect(await c.wait { !$0.isEmpty } == [FileEvent(path: f, kind: .changed)])
    }

    @Test("a deleted file gives .deleted; a created one .changed")
    func deleteAndCreate() async throws {
        let f = "\(dir)/gone"
        put(f, "x")
        let (w, c) = try started([f])
        defer { w.stop() }
        unlink(f)
        #expect(await c.wait { !$0.isEmpty } == [FileEvent(path: f, kind: .deleted)])
        put(f, "back")
        #expect(await c.wait { $0.count >= 2 }.last == FileEvent(path: f, kind: .changed))
    }

    @Test("a neighbour that is not watched gives no event")
    func neighbour() async throws {
        let f = "\(dir)/watched", other = "\(dir)/other"
        let (w, c) = try started([f])
        defer { w.stop() }
        put(other, "x")
        unlink(other)
        put(f, "marker")  // inotify keeps order: once this arrives, the neighbour's would have
        #expect(await c.wait { !$0.isEmpty } == [FileEvent(path: f, kind: .changed)])
    }

    @Test("a burst of 20 writes is coalesced")
    func burst() async throws {
        let f = "\(dir)/busy"
        let (w, c) = try started([f])
        defer { w.stop() }
        for i in 0..<20 {  // spread over ~40 ms: more than one read, less than the quiet window
            put(f, "write \(i)")
            try await Task.sleep(for: .milliseconds(2))
        }
        let events = await c.wait(settle: .milliseconds(400)) { !$0.isEmpty }
        // Coalesced: far fewer events than writes (under load the writes spread out, so allow a few).
        #expect(!events.isEmpty && events.count < 20)
        #expect(events.allSatisfy { $0 == FileEvent(path: f, kind: .changed) })
    }

    @Test("watch replaces the set: removed paths go quiet")
    func replaceSet() async throws {
        let a = "\(dir)/a", b = "\(dir)/sub/b"
        #expect(mkdir("\(dir)/sub", 0o700) == 0)
        let (w, c) = try started([a])
        defer { w.stop() }
        w.watch([b])
        put(a, "ignored now")
        put(b, "marker")
        #expect(await c.wait { !$0.isEmpty } == [FileEvent(path: b, kind: .changed)])
    }

    @Test("a missing directory is watched from its ancestor until it appears")
    func missingDirectory() async throws {
        let f = "\(dir)/x/y/file"
        let (w, c) = try started([f])
        defer { w.stop() }
        #expect(w.unwatched.isEmpty)
        #expect(mkdir("\(dir)/x", 0o700) == 0 && mkdir("\(dir)/x/y", 0o700) == 0)
        put(f, "here")
        #expect(await c.wait { !$0.isEmpty }.allSatisfy { $0 == FileEvent(path: f, kind: .changed) })
        let before = c.events(for: f).count
        put(f, "again")
        _ = await c.wait { $0.count > before }
        #expect(c.events(for: f).count == before + 1)
    }

    @Test("a symlinked file (Kubernetes ..data swap) gives .changed")
    func symlinkSwap() async throws {
        #expect(mkdir("\(dir)/v1", 0o700) == 0 && mkdir("\(dir)/v2", 0o700) == 0)
        put("\(dir)/v1/password", "one")
        put("\(dir)/v2/password", "two")
        #expect(symlink("v1", "\(dir)/..data") == 0 && symlink("..data/password", "\(dir)/password") == 0)
        let f = "\(dir)/password"
        let (w, c) = try started([f])
        defer { w.stop() }
        #expect(symlink("v2", "\(dir)/..data_tmp") == 0 && rename("\(dir)/..data_tmp", "\(dir)/..data") == 0)
        #expect(await c.wait { !$0.isEmpty } == [FileEvent(path: f, kind: .changed)])
    }

    @Test("stop() finishes the stream promptly")
    func stopFinishes() async throws {
        let (w, c) = try started(["\(dir)/f"])
        w.stop()
        w.stop()
        let deadline = ContinuousClock.now + .seconds(5)
        while !c.finished.withLock({ $0 }), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        #expect(c.finished.withLock { $0 })
        put("\(dir)/f", "after stop")
        w.watch(["\(dir)/f"])  // no effect, no crash
    }
}
