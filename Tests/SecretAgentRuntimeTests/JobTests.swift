import SecretAgentCore
import SecretAgentRuntime
import SecretTemplate
import Testing

@Suite("Compiling and rendering a job")
struct JobTests {
    func config(_ yaml: String) throws -> AgentConfig {
        try AgentConfig.parse(yaml: yaml, file: "/etc/secret-agent/agent.yaml", environment: [:], uid: 0)
    }

    @Test("locators come from every template and env entry, deduplicated")
    func locators() throws {
        let c = try config("""
            templates:
              - contents: "{{ sm:prod/db#username }} {{ sm:prod/db#password }}"
                destination: /dev/shm/x
            exec:
              env:
                A: "{{ ssm:/a }}"
                B: "{{ sm:prod/db#password }}"
            """)
        let job = try Job.compile(config: c, flagsBase: "/")
        #expect(job.locators == [.secretsManager(id: "prod/db", stage: nil, versionID: nil), .ssm(name: "/a", selector: nil)])
        #expect(job.references.count == 3)
    }

    @Test("inherited variables: references and ARNs are resolved, anything else passes")
    func inherited() throws {
        let job = try Job.compile(config: AgentConfig(baseDirectory: "/", environment: [:]), flagsBase: "/", inherited: [
            "DB": "{{ sm:prod/db#password }}",
            "ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
            "PARAM": "arn:aws:ssm:eu-west-1:123456789012:parameter/app/key",
            "DOCKER": "{{.ID}}",
            "OTHER_ARN": "arn:aws:iam::123456789012:role/x",
            "PLAIN": "hello",
        ])
        #expect(Set(job.env.map(\.name)) == ["DB", "ARN", "PARAM"])
        #expect(job.env.allSatisfy { $0.inherited })
    }

    @Test("explicit env wins over inherited on the same name; --env-from names follow chamber")
    func precedence() throws {
        let c = try config("exec:\n  env:\n    DB: \"{{ env:EXPLICIT }}\"\n")
        let job = try Job.compile(config: c, envFrom: ["ssm-path:/app/prod/"], flagsBase: "/", inherited: ["DB": "{{ env:INHERITED }}"])
        let values: [Locator: Resolution] = [
            .env(name: "EXPLICIT"): .found(.string("explicit")),
            .ssmPath(path: "/app/prod/"): .found(.map(["db/password": .string("p"), "api-key.v2": .string("k")])),
        ]
        let rendered = try job.render(values, defaultAllowDisk: false)
        #expect(rendered.environment == ["DB": "explicit", "DB_PASSWORD": "p", "API_KEY_V2": "k"])
    }

    @Test("a NUL byte or invalid UTF-8 cannot go into the environment")
    func nul() throws {
        let c = try config("exec:\n  env:\n    B: \"{{ file:/b }}\"\n")
        let job = try Job.compile(config: c, flagsBase: "/")
        for bytes: [UInt8] in [[0x61, 0x00], [0xFF, 0xFE]] {
            #expect(throws: TemplateError.self) {
                _ = try job.render([.file(path: "/b"): .found(Value(bytes: bytes))], defaultAllowDisk: false)
            }
        }
    }

    @Test("file templates render to FileWrites with mode and allow_disk")
    func files() throws {
        let c = try config("""
            allow_disk: true
            templates:
              - contents: "u={{ env:U }}"
                destination: app/u.conf
                mode: "0440"
            """)
        let job = try Job.compile(config: c, flagsBase: "/")
        let r = try job.render([.env(name: "U"): .found(.string("x"))], defaultAllowDisk: c.allowDisk)
        #expect(r.files.count == 1)
        #expect(r.files[0].destination == "/run/secret-agent/app/u.conf")
        #expect(r.files[0].bytes == Array("u=x".utf8))
        #expect(r.files[0].mode == 0o440)
        #expect(r.files[0].allowDisk)
    }
}
