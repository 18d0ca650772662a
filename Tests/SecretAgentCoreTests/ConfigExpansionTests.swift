import SecretAgentCore
import SecretTemplate
import Testing

@Suite("${VAR} in configuration values")
struct ConfigExpansionTests {
    let env = ["HOST": "vault.internal", "EMPTY": "", "DIR": "/run/app"]

    func expand(_ text: String) throws(ConfigExpansion.Failure) -> String {
        try ConfigExpansion.expand(text, environment: env)
    }

    @Test("set variables, defaults, $$ and lone $")
    func expander() throws {
        #expect(try expand("https://${HOST}:8200") == "https://vault.internal:8200")
        #expect(try expand("${MISSING:-fallback}/x") == "fallback/x")
        #expect(try expand("${HOST:-fallback}") == "vault.internal")
        #expect(try expand("${EMPTY:-fallback}") == "fallback")  // like the shell's :-, empty counts as unset
        #expect(try expand("${EMPTY}") == "")
        #expect(try expand("${MISSING:-}") == "")
        #expect(try expand("cost $$5 and $${HOST}") == "cost $5 and ${HOST}")
        #expect(try expand("$HOST $(id) ${#HOST} ${HOST%x} $ ${") == "$HOST $(id) ${#HOST} ${HOST%x} $ ${")
        #expect(try expand("${MISSING:-a:b/c}") == "a:b/c")
        #expect(try expand("tail$") == "tail$")
        #expect(throws: ConfigExpansion.Failure.unset("MISSING")) { try expand("x${MISSING}y") }
    }

    @Test("expanded in every scalar value, not in template text")
    func inConfiguration() throws {
        let yaml = """
            vault:
              address: "https://${HOST}:8200"
              ca_path: ${DIR}/ca
              auth:
                method: ${METHOD:-approle}
                role_id_file: ${DIR}/role-id
            poll: ${POLL:-5m}
            output_dir: ${DIR}
            templates:
              - source: ${DIR}/app.tmpl
                destination: ${NAME:-app}.conf
              - contents: "host=${HOST} {{ env:HOST }}"
                destination: raw.conf
                on_change: [kill, "${SIGNAL:-HUP}"]
            exec:
              command: [sh, -c, 'echo "$$HOME ${#HOME}"', "${HOST}"]
              env:
                RAW: "${HOST}"
            """
        let c = try AgentConfig.parse(yaml: yaml, file: "/etc/agent.yaml", environment: env, uid: 1000)
        #expect(c.vault?.address == "https://vault.internal:8200")
        #expect(c.vault?.caPath == "/run/app/ca")
        #expect(c.vault?.auth.method == .approle)
        #expect(c.vault?.auth.roleIDFile == "/run/app/role-id")
        #expect(c.poll == .seconds(300))
        #expect(c.outputDir == "/run/app")
        #expect(c.templates[0].source == .file("/run/app/app.tmpl"))
        #expect(c.templates[0].destination == "/run/app/app.conf")
        #expect(c.templates[1].source == .contents("host=${HOST} {{ env:HOST }}"))
        #expect(c.templates[1].onChange == .command(["kill", "HUP"]))
        #expect(c.exec?.command == ["sh", "-c", "echo \"$HOME ${#HOME}\"", "vault.internal"])
        #expect(c.exec?.env == [EnvEntry(name: "RAW", template: "${HOST}")])
    }

    @Test("an unset variable without a default is exit 78 naming the key, its line and the variable")
    func unsetIsAnError() {
        let yaml = "poll: 5m\nvault:\n  auth:\n    method: token\n    token_file: ${TOKEN_DIR}/token\n"
        #expect {
            _ = try AgentConfig.parse(yaml: yaml, file: "/x/agent.yaml", environment: env)
        } throws: { error in
            let e = error as! AgentError
            return e.exitCode == .config && e.message.contains("vault.auth.token_file") && e.message.contains("agent.yaml:5")
                && e.message.contains("${TOKEN_DIR}")
        }
        #expect {
            _ = try AgentConfig.parse(yaml: "exec:\n  command: [app, \"${NOPE}\"]\n", file: "/x/agent.yaml", environment: env)
        } throws: { error in
            (error as! AgentError).message.contains("exec.command[1]") && (error as! AgentError).message.contains("NOPE")
        }
    }
}
