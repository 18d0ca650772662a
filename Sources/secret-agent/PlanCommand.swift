import ArgumentParser
import SecretAgent
import SecretAgentCore

/// `secret-agent plan --config FILE`: API calls per hour and the monthly cost the
/// configuration causes at its poll interval, by backend, with placement hints. Offline: it
/// reads the configuration and templates and calls no backend.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Estimate API calls and monthly cost of a configuration, with placement hints.",
        discussion: """
            Counts, per backend, what each poll asks (pinned versions are never polled), the calls
            an hour and a month (730 hours) at the configured poll interval, the cost at published
            list prices (stated with their date in the output), what batching saves against one
            call per secret, and hints: a sensitive-looking name in SSM (make it a SecureString or
            use Secrets Manager), a non-sensitive one in Secrets Manager (SSM is cheaper).
            Nothing is fetched: the plan sees names, not parameter types or values.
              secret-agent plan --config /etc/secret-agent/agent.yaml
              secret-agent plan --config agent.yaml --poll 1m
            """)

    @OptionGroup var options: AgentOptions

    func validate() throws {
        if options.config == nil && options.template.isEmpty && options.env.isEmpty && options.envFrom.isEmpty {
            throw ValidationError("plan needs --config FILE (or --template/--env flags to plan)")
        }
    }

    func run() async throws {
        let context = AgentContext.process(logger: options.logging.bootstrap())
        try await exiting {
            let config = try options.loadConfig(in: context)
            Terminal.out(Array(try OneShot.plan(config: config, envFrom: options.envFrom, in: context).utf8))
            return 0
        }
    }
}
