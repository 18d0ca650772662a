import ArgumentParser
import SecretAgent
import SecretAgentCore

/// `secret-agent get REF`: fetch one reference and print its value.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Fetch one reference and print its value.",
        discussion: """
            Maps and lists print as compact JSON. Examples:
              secret-agent get ssm:/docker/registry/username
              secret-agent get -n 'sm:prod/db#password'
            """)

    @Argument(help: ArgumentHelp("The reference, such as sm:prod/db#password.", valueName: "REF"))
    var reference: String

    @Flag(name: .short, help: "Do not print a trailing newline.")
    var n = false

    @Option(name: .long, help: ArgumentHelp("A configuration file for the aws: and vault: settings.", valueName: "FILE"))
    var config: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let context = AgentContext.process(logger: logging.bootstrap())
        try await exiting {
            let cfg = try config.map { try AgentConfig.load(file: Paths.resolve($0, against: context.cwd), environment: context.environment) }
                ?? AgentConfig(baseDirectory: context.cwd, environment: context.environment)
            let value = try await OneShot.get(reference, config: cfg, in: context)
            Terminal.out(value + (n ? [] : [0x0A]))
            return 0
        }
    }
}
