import SecretAgentCore
import SecretTemplate
import Testing

@Suite("Configuration file")
struct ConfigTests {
    let env: [String: String] = [:]

    @Test("the SPEC's example configuration parses")
    func specExample() throws {
        let yaml = """
            aws:
              region: us-east-1
              profile: ci
            vault:
              address: https://vault.example:8200
              namespace: team1
              ca_cert: /etc/ssl/vault-ca.pem
              auth:
                method: approle
                role_id_file: role-id
                secret_id_file: /etc/secret-agent/secret-id
            poll: 5m
            output_dir: /run/secret-agent
            allow_disk: false
            mount_tmpfs: false
            templates:
              - source: templates/docker-config.json.mustache
                destination: docker/config.json
                mode: "0400"
                user: app
                group: app
                on_change: reload
              - contents: "x={{ env:HOME }}"
                destination: /dev/shm/x
                on_change: [systemctl, reload, nginx]
            exec:
              command: [app, --serve]
              env:
                DOCKER_USERNAME: "{{ ssm:/docker/registry/username }}"
                DOCKER_PASSWORD: "{{ sm:docker/registry/password }}"
              reload_signal: SIGHUP
              stop_signal: SIGTERM
              stop_timeout: 30s
            """
        let c = try AgentConfig.parse(yaml: yaml, file: "/etc/secret-agent/agent.yaml", environment: env, uid: 1000)
        #expect(c.aws == AWSSettings(region: "us-east-1", profile: "ci"))
        #expect(c.vault?.address == "https://vault.example:8200")
        #expect(c.vault?.auth.method == .approle)
        #expect(c.vault?.auth.roleIDFile == "/etc/secret-agent/role-id")
        #expect(c.poll == .seconds(300))
        #expect(c.templates.count == 2)
        #expect(c.templates[0].source == .file("/etc/secret-agent/templates/docker-config.json.mustache"))
        #expect(c.templates[0].destination == "/run/secret-agent/docker/config.json")
        #expect(c.templates[0].mode == 0o400)
        #expect(c.templates[0].user == "app")
        #expect(c.templates[1].onChange == .command(["systemctl", "reload", "nginx"]))
        #expect(c.templates[1].mode == 0o600)
        #expect(c.exec?.command == ["app", "--serve"])
        #expect(c.exec?.env.map(\.name) == ["DOCKER_USERNAME", "DOCKER_PASSWORD"])
        #expect(c.exec?.reloadSignal == 1)
        #expect(c.exec?.stopTimeout == .seconds(30))
    }

    @Test("an unknown key is an error naming the key and its line")
    func unknownKey() {
        let yaml = "poll: 5m\ntemplates:\n  - source: a\n    destination: b\n    moed: \"0400\"\n"
        #expect {
            _ = try AgentConfig.parse(yaml: yaml, file: "/x/agent.yaml", environment: env)
        } throws: { error in
            let e = error as! AgentError
            return e.exitCode == .config && e.message.contains("templates[0].moed") && e.message.contains("agent.yaml:5")
        }
    }

    @Test("malformed YAML names the line and exits 78")
    func malformed() {
        let yaml = "poll: 5m\nexec:\n  command: [a, b\n  env: {}\n"
        #expect {
            _ = try AgentConfig.parse(yaml: yaml, file: "/x/agent.yaml", environment: env)
        } throws: { error in
            let e = error as! AgentError
            return e.exitCode == .config && e.message.contains("/x/agent.yaml:") && e.message.contains("not valid YAML")
        }
    }

    @Test("an unquoted {{ value gets a hint to quote it")
    func unquotedTemplate() {
        let yaml = "exec:\n  env:\n    PASSWORD: {{ sm:prod/db#password }}\n"
        #expect {
            _ = try AgentConfig.parse(yaml: yaml, file: "/x/agent.yaml", environment: env)
        } throws: { error in
            (error as! AgentError).message.contains("must be quoted")
        }
    }

    @Test("a YAML error message does not quote the offending line")
    func yamlErrorHasNoSnippet() {
        let yaml = "vault:\n  auth:\n    token: \"hvs.SECRETTOKENVALUE\n"
        #expect {
            _ = try AgentConfig.parse(yaml: yaml, file: "/x/agent.yaml", environment: env)
        } throws: { error in
            !(error as! AgentError).message.contains("SECRETTOKENVALUE")
        }
    }

    @Test("wrong types, bad modes, signals and durations are refused")
    func wrongTypes() {
        let cases = [
            "poll: soon\n",
            "allow_disk: maybe\n",
            "templates:\n  - source: a\n    destination: b\n    mode: \"999\"\n",
            "templates:\n  - destination: b\n",
            "templates:\n  - source: a\n    contents: b\n    destination: c\n",
            "exec:\n  reload_signal: SIGNOPE\n",
            "templates: {}\n",
            "vault:\n  auth:\n    method: magic\n",
            "templates:\n  - source: a\n    destination: x\n  - source: b\n    destination: x\n",
        ]
        for yaml in cases {
            #expect(throws: AgentError.self, "\(yaml)") {
                _ = try AgentConfig.parse(yaml: yaml, file: "/x/agent.yaml", environment: env)
            }
        }
    }

    @Test("default output_dir: /run as root, XDG_RUNTIME_DIR, then /dev/shm")
    func defaultOutputDir() {
        #expect(AgentConfig.defaultOutputDir(environment: [:], uid: 0) == "/run/secret-agent")
        #expect(AgentConfig.defaultOutputDir(environment: ["XDG_RUNTIME_DIR": "/run/user/1000"], uid: 1000) == "/run/user/1000/secret-agent")
        #expect(AgentConfig.defaultOutputDir(environment: [:], uid: 1000) == "/dev/shm/secret-agent-1000")
    }

    @Test("durations")
    func durations() {
        #expect(DurationParser.parse("500ms") == .milliseconds(500))
        #expect(DurationParser.parse("30s") == .seconds(30))
        #expect(DurationParser.parse("5m") == .seconds(300))
        #expect(DurationParser.parse("1h") == .seconds(3600))
        #expect(DurationParser.parse("1h30m") == .seconds(5400))
        #expect(DurationParser.parse("5") == nil)
        #expect(DurationParser.parse("") == nil)
        #expect(DurationParser.parse("5x") == nil)
        #expect(DurationParser.format(.seconds(300)) == "5m")
        #expect(DurationParser.format(.milliseconds(1500)) == "1500ms")
        // Found by fuzzing: a number past Int64 milliseconds trapped the agent.
        #expect(DurationParser.parse("87777777777777777777777777777777777500ms") == nil)
        #expect(DurationParser.parse("1e400h") == nil)
        #expect(DurationParser.parse("9000h") == nil)
        #expect(DurationParser.parse("8784h") == .seconds(8784 * 3600))
        #expect(throws: AgentError.self) {
            try AgentConfig.parse(yaml: "poll: 87777777777777777777777777777777777500ms\n", file: "/x/agent.yaml", environment: [:])
        }
    }

    @Test("modes are octal")
    func modes() {
        #expect(TemplateSpec.parseMode("0400") == 0o400)
        #expect(TemplateSpec.parseMode("600") == 0o600)
        #expect(TemplateSpec.parseMode("0o640") == 0o640)
        #expect(TemplateSpec.parseMode("0800") == nil)
        #expect(TemplateSpec.parseMode("rw") == nil)
    }
}
