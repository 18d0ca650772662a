import ArgumentParser
import SecretAgent
import SecretAgentCore

/// `secret-agent check`: parse the configuration and templates and list every reference by
/// backend; `--online` also proves that each one resolves, without printing values.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Parse configuration and templates and list every reference by backend.",
        discussion: """
            With --online, each reference is fetched and reported OK (with its version) or with
            the error; values are never printed. Exit status 0 when everything is fine.
              secret-agent check --config agent.yaml
              secret-agent check --config agent.yaml --online
            """)

    @OptionGroup var options: AgentOptions

    @Flag(name: .long, help: "Also fetch every reference (values are not printed).")
    var online = false

    func run() async throws {
        let context = AgentContext.process(logger: options.logging.bootstrap())
        try await exiting {
            let config = try options.loadConfig(in: context)
            let report = try await CheckReport.make(config: config, envFrom: options.envFrom, online: online, in: context)
            Terminal.out(Array((report.lines.joined(separator: "\n") + "\n").utf8))
            return report.exitCode.rawValue
        }
    }
}
