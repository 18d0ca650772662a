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
            With --replicas N, it adds what N agents ask of the account's API rate quotas (stated
            with their date): the fleet's poll calls a second and their share of each quota, the
            calls a rollout makes when it starts them all at once and the least time the quota
            needs for them, with a warning when that exceeds the start timeout or the polls use
            more than --max-quota-share percent of a quota.
              secret-agent plan --config agent.yaml --replicas 500
            """)

    @OptionGroup var options: AgentOptions

    @Option(help: ArgumentHelp("Add the figures of a fleet of N agents with this configuration against the API rate quotas.", valueName: "N"))
    var replicas: Int?

    @Option(help: ArgumentHelp("With --replicas: warn when the fleet's polls use more than this percentage of a quota (default 50).", valueName: "PERCENT"))
    var maxQuotaShare: Double = 50

    @Option(help: ArgumentHelp("With --replicas: the account's Parameter Store read quota in calls a second, when raised or at higher throughput (default 40).", valueName: "TPS"))
    var ssmQuota: Double?

    func validate() throws {
        if options.config == nil && options.template.isEmpty && options.env.isEmpty && options.envFrom.isEmpty {
            throw ValidationError("plan needs --config FILE (or --template/--env flags to plan)")
        }
        if let replicas, !(1...1_000_000).contains(replicas) { throw ValidationError("--replicas must be a whole number of agents from 1 to 1,000,000") }
        if !(maxQuotaShare > 0 && maxQuotaShare <= 100) { throw ValidationError("--max-quota-share must be a percentage above 0, at most 100") }
        if let ssmQuota, !(ssmQuota > 0 && ssmQuota.isFinite) { throw ValidationError("--ssm-quota must be a positive number of calls a second") }
        if replicas == nil && (ssmQuota != nil || maxQuotaShare != 50) {
            throw ValidationError("--max-quota-share and --ssm-quota apply to a fleet: add --replicas N")
        }
    }

    func run() async throws {
        let context = AgentContext.process(logger: options.logging.bootstrap())
        try await exiting {
            let config = try options.loadConfig(in: context)
            let fleet = replicas.map { OneShot.FleetOptions(replicas: $0, maxShare: maxQuotaShare / 100, ssmQuota: ssmQuota) }
            Terminal.out(Array(try OneShot.plan(config: config, envFrom: options.envFrom, fleet: fleet, in: context).utf8))
            return 0
        }
    }
}
