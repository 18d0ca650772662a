import Foundation
import Testing

/// `credential_process` through the built binary against moto with IAM authorization on: only
/// the seeded "process" identity may read the parameter, and it reaches the agent only through
/// the helper script's output (the agent's environment has no keys).
@Suite("credential_process through the agent", .enabled(if: Servers.motoEnabled))
struct CredentialProcessTests {
    /// An extra field in the helper's JSON (moto refuses a session token with a user's key, so
    /// the helper prints none): it must never reach the log.
    static let stdoutMarker = "helper-stdout-marker-never-logged-51c9"

    /// A helper in a scratch directory on disk (/dev/shm may be noexec): counts its runs in
    /// `count`, writes a line on stderr, prints the process identity's keys with an Expiration
    /// `expiresIn` seconds away, or fails with `status` after printing `leak` on stdout.
    func helper(_ s: Scratch, expiresIn: Int = 60, status: Int = 0, leak: String = "") throws -> String {
        s.write("keys", "K=\(try Servers.value("SECRET_AGENT_TEST_AWS_PROCESS_ACCESS_KEY_ID"))\nS=\(try Servers.value("SECRET_AGENT_TEST_AWS_PROCESS_SECRET_ACCESS_KEY"))\n")
        let path = s.write("helper.sh", """
            #!/bin/sh
            . \(s.file("keys"))
            echo run >> \(s.file("count"))
            echo "helper-stderr-marker: issuing credentials" >&2
            if [ \(status) -ne 0 ]; then echo '\(leak)'; exit \(status); fi
            printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "Note": "\(Self.stdoutMarker)", "Expiration": "%s"}' \\
              "$K" "$S" "$(date -u -d '+\(expiresIn) seconds' +%Y-%m-%dT%H:%M:%SZ)"
            """)
        // Through /bin/sh, not exec'd: a fork elsewhere in this test process may still hold the
        // descriptor the file was written with (ETXTBSY).
        s.write("aws-config", "[profile proc]\ncredential_process = /bin/sh \(path) --profile proc\nregion = us-east-1\n")
        return path
    }

    func environment(_ s: Scratch) throws -> [String: String] {
        Agent.cleanEnvironment([
            "AWS_ENDPOINT_URL": try Servers.value("SECRET_AGENT_TEST_MOTO_ENDPOINT"), "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": s.file("aws-config"), "AWS_PROFILE": "proc", "HOME": s.path,
        ])
    }

    func runs(_ s: Scratch) -> Int { (s.read("count") ?? "").split(separator: "\n").count }

    @Test("an expiring credential is refreshed during a run; the agent keeps working; nothing of stdout is logged at trace")
    func refreshedDuringRun() throws {
        let id = UUID().uuidString
        try Servers.boto(#"c("ssm").put_parameter(Name="/e2e/\#(id)/token", Value="proc-value-one-\#(id.prefix(8))", Type="String")"#)
        let s = Scratch(onTmpfs: false), out = Scratch() // the helper on disk, the rendered file on tmpfs
        defer { s.remove(); out.remove() }
        _ = try helper(s, expiresIn: 60) // inside the five-minute refresh window: run again before each use
        s.write("agent.yaml", """
            poll: 300ms
            output_dir: \(out.path)
            templates:
              - contents: "tok={{ ssm:/e2e/\(id)/token }}"
                destination: app.conf
            exec:
              command: [\(Agent.testChild), --log, \(s.file("child.log")), --watch-file, \(out.path)/app.conf]
            """)
        let (p, _, err) = try Agent.start(["run", "--log-level", "trace", "--config", s.file("agent.yaml")], environment: try environment(s))
        let stderr = Collector(err)
        defer {
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
        }
        #expect(eventually(timeout: 20) { out.read("app.conf") == "tok=proc-value-one-\(id.prefix(8))" }, "\(stderr.text(wait: false))")
        let before = runs(s)
        #expect(eventually(timeout: 20) { runs(s) >= before + 2 }, "the helper ran again while the agent polled")
        try Servers.boto(#"c("ssm").put_parameter(Name="/e2e/\#(id)/token", Value="proc-value-two-\#(id.prefix(8))", Type="String", Overwrite=True)"#)
        #expect(eventually(timeout: 20) { out.read("app.conf") == "tok=proc-value-two-\(id.prefix(8))" }, "\(stderr.text(wait: false))")
        #expect(eventually(timeout: 10) { (s.read("child.log") ?? "").contains("signal HUP") })
        #expect(p.isRunning)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)

        let log = stderr.text()
        #expect(log.contains("credential_process of profile proc"))
        #expect(log.contains("helper-stderr-marker"), "the helper's stderr is logged at debug")
        #expect(log.contains("AWS credentials refreshed"))
        let secret = try Servers.value("SECRET_AGENT_TEST_AWS_PROCESS_SECRET_ACCESS_KEY")
        for leaked in [secret, Self.stdoutMarker, "SecretAccessKey", "proc-value-one", "proc-value-two"] {
            #expect(!log.contains(leaked), "\(leaked.count) characters of the helper's output or a value in the log")
        }
    }

    @Test("a failing helper: exit 77 naming the profile and the status, never its output")
    func failingHelper() throws {
        let s = Scratch(onTmpfs: false)
        defer { s.remove() }
        let leak = "helper-stdout-must-not-show-7e21"
        _ = try helper(s, status: 3, leak: leak)
        let r = try Agent.run(["get", "--log-level", "trace", "ssm:/docker/registry/url"], environment: try environment(s))
        #expect(r.status == 77, "\(r.stderr)")
        #expect(r.stderr.contains("'proc'") && r.stderr.contains("exited with code 3"), "\(r.stderr)")
        #expect(r.stderr.contains("helper-stderr-marker"))
        #expect(!r.output.contains(leak))
    }
}
