import Foundation
import Testing

@Suite("inotify: file: secrets, template sources and rendered files")
struct FileWatchTests {
    func start(_ s: Scratch) throws -> (Process, Collector) {
        s.write("secrets.json", #"{"password": "one"}"#)
        s.write("app.mustache", "password={{ file:secrets.json#password }}")
        s.write("agent.yaml", """
            poll: 10m
            output_dir: \(s.path)/out
            templates:
              - source: app.mustache
                destination: app.conf
            exec:
              command: [\(Agent.testChild), --log, \(s.file("child.log"))]
            """)
        let (p, _, err) = try Agent.start(["run", "--config", s.file("agent.yaml")], environment: Agent.cleanEnvironment())
        #expect(eventually { (s.read("child.log") ?? "").contains("start") })
        return (p, Collector(err))
    }

    func signals(_ s: Scratch) -> Int { (s.read("child.log") ?? "").split(separator: "\n").filter { $0 == "signal HUP" }.count }

    @Test("a file: secret changed on disk reaches the child long before the 10m poll")
    func fileSecret() throws {
        let s = Scratch()
        defer { s.remove() }
        let (p, err) = try start(s)
        s.write("secrets.json", #"{"password": "two"}"#)
        #expect(eventually(timeout: 3) { s.read("out/app.conf") == "password=two" }, "\(err.text(wait: false))")
        #expect(eventually(timeout: 3) { signals(s) == 1 })
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
    }

    @Test("an edited template source is re-read; a broken edit is refused")
    func templateSource() throws {
        let s = Scratch()
        defer { s.remove() }
        let (p, err) = try start(s)
        s.write("app.mustache", "pw: {{ file:secrets.json#password }}")
        #expect(eventually(timeout: 3) { s.read("out/app.conf") == "pw: one" })
        #expect(eventually(timeout: 3) { signals(s) == 1 })
        s.write("app.mustache", "pw: {{#broken}}")
        #expect(eventually(timeout: 3) { err.text(wait: false).contains("edited template refused") })
        #expect(s.read("out/app.conf") == "pw: one")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
    }

    @Test("a rendered file deleted or overwritten by someone else is written back")
    func writeBack() throws {
        let s = Scratch()
        defer { s.remove() }
        let (p, _) = try start(s)
        try FileManager.default.removeItem(atPath: s.file("out/app.conf"))
        #expect(eventually(timeout: 3) { s.read("out/app.conf") == "password=one" })
        s.write("out/app.conf", "tampered")
        #expect(eventually(timeout: 3) { s.read("out/app.conf") == "password=one" })
        #expect(signals(s) == 0)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
    }
}
