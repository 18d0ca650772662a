import SecretAgentCore
import SecretAgentRuntime
import SecretTemplate
import Testing

/// `ChangePlan` rule by rule: what a change re-renders, writes and does — no files, no child.
@Suite("Change plan: what to write and which action to run")
struct ChangePlanTests {
    let a = Locator.ssm(name: "/a", selector: nil)
    let b = Locator.ssm(name: "/b", selector: nil)
    let e = Locator.secretsManager(id: "env", stage: nil, versionID: nil)

    func job(_ templates: String, env: String = "") throws -> Job {
        let yaml = """
            output_dir: /dev/shm/plan-tests
            templates:
            \(templates)
            \(env.isEmpty ? "" : "exec:\n  env:\n    \(env)")
            """
        let config = try AgentConfig.parse(yaml: yaml, file: "/dev/shm/plan-tests/agent.yaml", environment: [:], uid: 0)
        return try Job.compile(config: config, flagsBase: "/dev/shm/plan-tests")
    }

    func values(a: String = "a1", b: String = "b1", e: String = "e1") -> [Locator: Resolution] {
        [self.a: .found(.string(a)), self.b: .found(.string(b)), self.e: .found(.string(e))]
    }

    let two = """
          - contents: "{{ ssm:/a }}"
            destination: a.conf
          - contents: "{{ ssm:/b }}"
            destination: b.conf
        """

    @Test("only the templates that use a changed reference are rendered and written")
    func onlyWhatUsesTheChange() throws {
        let plan = ChangePlan.make(job: try job(two), values: values(a: "a2"), changed: [a],
                                   written: ["/dev/shm/plan-tests/a.conf": Array("a1".utf8), "/dev/shm/plan-tests/b.conf": Array("b1".utf8)],
                                   environment: nil, defaultAllowDisk: false)
        #expect(plan.writes.map(\.destination) == ["/dev/shm/plan-tests/a.conf"])
        #expect(plan.writes.first?.bytes == Array("a2".utf8))
        #expect(plan.reload && !plan.restart)
    }

    @Test("a change that renders the same bytes writes nothing and reloads nothing")
    func sameBytes() throws {
        let plan = ChangePlan.make(job: try job(two), values: values(), changed: [a],
                                   written: ["/dev/shm/plan-tests/a.conf": Array("a1".utf8)], environment: nil, defaultAllowDisk: false)
        #expect(plan.isEmpty)
    }

    @Test("on_change: one reload for many files, each command once, none does nothing, restart wins over reload")
    func actions() throws {
        let templates = """
              - contents: "1 {{ ssm:/a }}"
                destination: one.conf
              - contents: "2 {{ ssm:/a }}"
                destination: two.conf
              - contents: "3 {{ ssm:/a }}"
                destination: three.conf
                on_change: [systemctl, reload, nginx]
              - contents: "4 {{ ssm:/a }}"
                destination: four.conf
                on_change: [systemctl, reload, nginx]
              - contents: "5 {{ ssm:/a }}"
                destination: five.conf
                on_change: none
            """
        var plan = ChangePlan.make(job: try job(templates), values: values(a: "a2"), changed: [a], written: [:],
                                   environment: nil, defaultAllowDisk: false)
        #expect(plan.writes.count == 5, "all files are written before any action")
        #expect(plan.reload && !plan.restart)
        #expect(plan.commands == [["systemctl", "reload", "nginx"]])

        let restart = templates + """

              - contents: "6 {{ ssm:/a }}"
                destination: six.conf
                on_change: restart
            """
        plan = ChangePlan.make(job: try job(restart), values: values(a: "a2"), changed: [a], written: [:],
                               environment: nil, defaultAllowDisk: false)
        #expect(plan.restart && !plan.reload, "a restart makes the reload pointless")
    }

    @Test("an environment value that changed restarts the child with the new environment; an unchanged one does not")
    func environment() throws {
        let j = try job(two, env: "E: \"{{ sm:env }}\"")
        var plan = ChangePlan.make(job: j, values: values(e: "e2"), changed: [e], written: [:], environment: ["E": "e1"],
                                   defaultAllowDisk: false)
        #expect(plan.newEnvironment == ["E": "e2"])
        #expect(plan.restart && plan.writes.isEmpty)
        plan = ChangePlan.make(job: j, values: values(), changed: [e], written: [:], environment: ["E": "e1"], defaultAllowDisk: false)
        #expect(plan.isEmpty, "same value, new version: nothing to do")
        plan = ChangePlan.make(job: j, values: values(e: "e2"), changed: [e], written: [:], environment: nil, defaultAllowDisk: false)
        #expect(plan.newEnvironment == nil && !plan.restart, "no child, no restart")
    }

    @Test("a template that no longer renders keeps its last good file and is reported; the others go ahead")
    func failures() throws {
        var v = values(b: "b2")
        v[a] = .notFound
        let plan = ChangePlan.make(job: try job(two), values: v, changed: [a, b], written: [:], environment: nil, defaultAllowDisk: false)
        #expect(plan.failures.count == 1)
        #expect(plan.failures.first?.error.contains("b2") == false)
        #expect(plan.writes.map(\.destination) == ["/dev/shm/plan-tests/b.conf"])
    }

    @Test("forced templates (an edited source, a reload) are rendered whatever changed")
    func forced() throws {
        let plan = ChangePlan.make(job: try job(two), values: values(), changed: [], written: [:], environment: nil,
                                   defaultAllowDisk: false, force: ["/dev/shm/plan-tests/b.conf"])
        #expect(plan.writes.map(\.destination) == ["/dev/shm/plan-tests/b.conf"])
    }
}
