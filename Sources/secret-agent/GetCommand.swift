import ArgumentParser
import SecretAgentCore
import SecretAgentRuntime
import SecretTemplate

/// `secret-agent get REF`: fetch one reference and print its value.
struct GetCommand: AsyncParsableCommand, AgentCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Fetch one reference and print its value.",
        discussion: """
            Maps and lists print as compact JSON. Examples:
              secret-agent get ssm:/docker/registry/username
              secret-agent get -n 'sm:prod/db#password'
            """)

    @Argument(help: "The reference, such as sm:prod/db#password.")
    var reference: String

    @Flag(name: .short, help: "Do not print a trailing newline.")
    var n = false

    @Option(name: .long, help: "A configuration file for the aws: and vault: settings.")
    var config: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws { await execute() }

    func execute() async {
        let logger = logging.bootstrap()
        await reportingFailures(logger) {
            let environment = Environment.current()
            let cwd = FileBytes.currentDirectory()
            let cfg = Pipeline.keepingLeases(try config.map { try AgentConfig.load(file: Paths.resolve($0, against: cwd), environment: environment) }
                ?? AgentConfig(baseDirectory: cwd, environment: environment))
            let ref = try Reference.parse(reference, baseDirectory: cwd)
            let backends = try await Backends.make(for: [ref.locator], config: cfg, environment: environment, logger: logger)
            let value: Value
            do {
                let outcomes = try await StartupFetch(providers: backends.providers, timeout: cfg.startTimeout, logger: logger)
                    .run([ref.locator])
                guard case .found(let secret)? = outcomes[ref.locator] else {
                    throw TemplateError(.missing, "\(ref.text): not found")
                }
                guard let selected = try ref.select(from: secret.value) else {
                    throw TemplateError(.missing, "\(ref.text): field \(ref.selector!) not found")
                }
                value = selected
            } catch {
                await backends.shutdown()
                throw error
            }
            await backends.shutdown()
            Terminal.out(value.renderedBytes + (n ? [] : [0x0A]))
            return 0
        }
    }
}
