import Foundation
import Testing

/// Crash safety: the agent is killed with SIGKILL at random moments while it writes many files,
/// at start and while re-rendering a rotation. After every kill each destination holds one
/// complete generation (or does not exist yet); temporary files a kill left behind are gone once
/// the next start has rendered.
@Suite("Reliability: kill -9 while writing", .serialized)
struct ReliabilityCrashTests {
    static let files = 100
    static let blobBytes = 8 * 1024

    static func blob(_ generation: Int) -> String {
        let unit = "g\(generation)-"
        return String(repeating: unit, count: blobBytes / unit.count)
    }

    /// The only acceptable contents of file `index` at `generation`.
    static func expected(_ index: Int, _ generation: Int) -> [UInt8] {
        Array("BEGIN \(index) \(generation)\n\(blob(generation))\nEND \(index) \(generation)\n".utf8)
    }

    static func destination(_ index: Int) -> String {
        index % 3 == 0 ? "f\(index).conf" : index % 3 == 1 ? "a/f\(index).conf" : "b/c/f\(index).conf"
    }

    /// Replaces the secrets file atomically (the test's own write must not be what is torn).
    static func writeSecrets(_ s: Scratch, generation: Int) {
        let tmp = s.write("secrets.json.tmp", #"{"gen": "\#(generation)", "blob": "\#(blob(generation))"}"#)
        rename(tmp, s.file("secrets.json"))
    }

    static func config(_ s: Scratch) -> String {
        var yaml = "poll: 10m\noutput_dir: \(s.path)/out\ntemplates:\n"
        for i in 0..<files {
            yaml += """
                  - contents: "BEGIN \(i) {{ file:secrets.json#gen }}\\n{{ file:secrets.json#blob }}\\nEND \(i) {{ file:secrets.json#gen }}\\n"
                    destination: \(destination(i))

                """
        }
        return yaml
    }

    /// Temporary files of the atomic writer anywhere under `out/`.
    static func leftovers(_ s: Scratch) -> [String] {
        let out = s.file("out")
        guard let walker = FileManager.default.enumerator(atPath: out) else { return [] }
        return walker.compactMap { $0 as? String }.filter { ($0 as NSString).lastPathComponent.hasPrefix(".secret-agent-") }
    }

    /// Checks every destination: absent only if it never existed, else one complete generation,
    /// never older than what it held before. Returns the generations seen.
    static func verify(_ s: Scratch, newest: Int, seen: inout [Int: Int], iteration: Int) -> Set<Int> {
        var generations = Set<Int>()
        for i in 0..<files {
            guard let data = FileManager.default.contents(atPath: s.file("out/\(destination(i))")) else {
                #expect(seen[i] == nil, "iteration \(iteration): \(destination(i)) disappeared after it had been written")
                continue
            }
            let bytes = [UInt8](data)
            let header = String(decoding: bytes.prefix(40), as: UTF8.self).split(separator: "\n").first ?? ""
            let parts = header.split(separator: " ")
            guard parts.count == 3, parts[0] == "BEGIN", Int(parts[1]) == i, let g = Int(parts[2]) else {
                Issue.record("iteration \(iteration): \(destination(i)) starts with '\(header.prefix(30))' (\(bytes.count) bytes)")
                continue
            }
            #expect(bytes == expected(i, g), "iteration \(iteration): \(destination(i)) is not a complete generation \(g) (\(bytes.count) bytes)")
            #expect(g <= newest && g >= (seen[i] ?? 0), "iteration \(iteration): \(destination(i)) went from \(seen[i] ?? 0) to \(g)")
            seen[i] = g
            generations.insert(g)
        }
        return generations
    }

    /// The generation in the header of file `index`, reading only the first bytes.
    static func headerGeneration(_ s: Scratch, _ index: Int) -> Int? {
        guard let handle = FileHandle(forReadingAtPath: s.file("out/\(destination(index))")) else { return nil }
        defer { try? handle.close() }
        let head = String(decoding: (try? handle.read(upToCount: 40)) ?? Data(), as: UTF8.self)
        let parts = head.split(separator: "\n").first?.split(separator: " ") ?? []
        return parts.count == 3 ? Int(parts[2]) : nil
    }

    /// Seconds from `t0` until the first and the last file hold `generation` (polled every ~0.5 ms).
    static func writeWindow(_ s: Scratch, generation: Int, from t0: Date) -> (first: Double, last: Double)? {
        var first: Double?
        let deadline = t0.addingTimeInterval(15)
        while Date() < deadline {
            let a = headerGeneration(s, 0) == generation, b = headerGeneration(s, files - 1) == generation
            if first == nil && (a || b) { first = Date().timeIntervalSince(t0) }
            if a && b { return (first ?? 0, Date().timeIntervalSince(t0)) }
            usleep(500)
        }
        return nil
    }

    @Test("SIGKILL at random points of hundreds of rewrites: every file is complete old or complete new; leftovers are removed at the next start")
    func killNine() throws {
        let iterations = Int(ProcessInfo.processInfo.environment["SECRET_AGENT_CRASH_ITERATIONS"] ?? "") ?? 200
        let budget = Double(ProcessInfo.processInfo.environment["SECRET_AGENT_CRASH_SECONDS"] ?? "") ?? 150
        let s = Scratch()
        defer { s.remove() }
        s.write("agent.yaml", Self.config(s))
        let environment = Agent.cleanEnvironment()
        var generation = 1
        Self.writeSecrets(s, generation: generation)
        let first = try Agent.run(["render", "--config", s.file("agent.yaml")], environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        var seen: [Int: Int] = [:]
        _ = Self.verify(s, newest: generation, seen: &seen, iteration: 0)

        // Calibration: when, after a start and after a rotation, the writes begin and end. Most
        // kills land in that window; the rest anywhere from the start to past the end.
        var startWindows: [(first: Double, last: Double)] = [], rotationWindows: [(first: Double, last: Double)] = []
        for _ in 0..<3 {
            generation += 1
            Self.writeSecrets(s, generation: generation)
            let t0 = Date()
            let (p, _, _) = try Agent.start(["run", "--config", s.file("agent.yaml")], environment: environment)
            if let w = Self.writeWindow(s, generation: generation, from: t0) { startWindows.append(w) }
            Thread.sleep(forTimeInterval: 0.1)
            generation += 1
            let t1 = Date()
            Self.writeSecrets(s, generation: generation)
            if let w = Self.writeWindow(s, generation: generation, from: t1) { rotationWindows.append(w) }
            finish(p)
        }
        _ = Self.verify(s, newest: generation, seen: &seen, iteration: 0)
        func median(_ ws: [(first: Double, last: Double)]) -> (first: Double, last: Double) {
            guard !ws.isEmpty else { return (0, 0.3) }
            return (ws.map(\.first).sorted()[ws.count / 2], ws.map(\.last).sorted()[ws.count / 2])
        }
        let startWindow = median(startWindows), rotationWindow = median(rotationWindows)

        var done = 0, tornWrites = 0, mixed = 0, whileRunning = 0, cleaned = 0
        let started = Date()
        while done < iterations && Date().timeIntervalSince(started) < budget {
            done += 1
            let running = done % 2 == 0
            let window = running ? rotationWindow : startWindow
            // Four kills in five wait for the first file of the new generation, then strike within
            // the burst of writes; the fifth strikes blind, anywhere from the start to past the end.
            let blind = done % 5 == 0
            let delay = blind ? Double.random(in: 0...(window.last * 1.3)) : Double.random(in: 0...max(window.last - window.first, 0.002) * 1.2)
            if !running {
                // Killed during the start-up render.
                generation += 1
                Self.writeSecrets(s, generation: generation)
            }
            var t0 = Date()
            let (p, _, err) = try Agent.start(["run", "--config", s.file("agent.yaml")], environment: environment)
            let stderr = Collector(err)
            if running {
                // Killed while re-rendering a rotation: first let the start finish (which must have
                // removed the leftovers of earlier kills), then rotate and kill.
                let ready = eventually(timeout: 15) {
                    (0..<Self.files).allSatisfy {
                        FileManager.default.contents(atPath: s.file("out/\(Self.destination($0))")).map { [UInt8]($0) } == Self.expected($0, generation)
                    }
                }
                #expect(ready, "iteration \(done): the start did not render generation \(generation): \(stderr.text(wait: false).suffix(500))")
                Thread.sleep(forTimeInterval: 0.05)
                let left = Self.leftovers(s)
                #expect(left.isEmpty, "iteration \(done): temporary files survived a complete start: \(left)")
                if left.isEmpty { cleaned += 1 }
                generation += 1
                t0 = Date()
                Self.writeSecrets(s, generation: generation)
                whileRunning += 1
            }
            if blind {
                let wait = delay - Date().timeIntervalSince(t0)
                if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
            } else {
                let deadline = Date().addingTimeInterval(15)
                while Self.headerGeneration(s, 0) != generation && Date() < deadline { usleep(200) }
                usleep(UInt32(delay * 1_000_000))
            }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            if !Self.leftovers(s).isEmpty { tornWrites += 1 }
            if Self.verify(s, newest: generation, seen: &seen, iteration: done).count > 1 { mixed += 1 }
        }
        // The last start runs to the end: no temporary file is left anywhere.
        let last = try Agent.run(["render", "--config", s.file("agent.yaml")], environment: environment)
        #expect(last.status == 0, "\(last.stderr)")
        #expect(Self.leftovers(s).isEmpty, "\(Self.leftovers(s))")
        for i in 0..<Self.files {
            #expect(FileManager.default.contents(atPath: s.file("out/\(Self.destination(i))")).map { [UInt8]($0) } == Self.expected(i, generation))
        }
        let modes = (try? FileManager.default.attributesOfItem(atPath: s.file("out/a/f1.conf"))[.posixPermissions] as? Int) ?? 0
        #expect(modes == 0o600)
        #expect(done >= min(iterations, 50), "only \(done) iterations in \(budget)s")
        #expect(mixed + tornWrites > 0, "no kill landed inside a write; the test proves nothing")
        print("crash-safety: \(done) kills (\(whileRunning) during a rotation, \(done - whileRunning) during start), "
              + "\(mixed) landed between two files (two generations on disk), \(tornWrites) inside a file write (temporary file left), "
              + "\(cleaned) later starts cleaned up; write window \(Int(startWindow.first * 1000))–\(Int(startWindow.last * 1000)) ms after start, "
              + "\(Int(rotationWindow.first * 1000))–\(Int(rotationWindow.last * 1000)) ms after a rotation; \(Self.files) files of \(Self.blobBytes / 1024) KiB")
    }
}
