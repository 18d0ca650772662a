import SecretAgentCore
import SecretAgentOps
import SecretAgentRuntime
import SecretTemplate

/// The commands that fetch once and end: `render`, `get`, `check` and `plan`. Each returns what
/// the command line prints; none revokes what it hands over.
public enum OneShot {
    /// `render`: every template of the configuration written (nil), or one template file
    /// rendered and returned (to print to stdout) or written to `output`.
    ///
    /// - Returns: the bytes to print when `template` is given without `output`.
    public static func render(config: AgentConfig, template: String?, output: String?, in context: AgentContext) async throws -> [UInt8]? {
        var config = Pipeline.keepingLeases(config)
        config.exec = nil  // render writes files; the child's environment is not needed
        var toStdout = false
        if let template {
            // Only the named template: the file's own templates are not written.
            let destination = output.map { Paths.resolve($0, against: context.cwd) }
            toStdout = destination == nil
            config.templates = [TemplateSpec(source: .file(Paths.resolve(template, against: context.cwd)),
                                             destination: destination ?? "/dev/stdout", baseDirectory: context.cwd)]
        }
        let prepared = try await Pipeline.prepare(config: config, envFrom: [], inherited: nil, timeout: config.startTimeout, in: context)
        await prepared.backends.shutdown()
        if toStdout { return prepared.rendered.files.first?.bytes ?? [] }
        try Pipeline.write(prepared.rendered.files, config: config, logger: context.logger)
        return nil
    }

    /// `get`: one reference's value (maps and lists as compact JSON).
    public static func get(_ reference: String, config: AgentConfig, in context: AgentContext) async throws -> [UInt8] {
        let config = Pipeline.keepingLeases(config)
        let ref = try Reference.parse(reference, baseDirectory: context.cwd)
        let value = try await Pipeline.fetching([ref.locator], config: config, timeout: config.startTimeout, in: context) { _, outcomes in
            guard case .found(let secret)? = outcomes[ref.locator] else {
                throw TemplateError(.missing, "\(ref.text): not found")
            }
            guard let selected = try ref.select(from: secret.value) else {
                throw TemplateError(.missing, "\(ref.text): field \(ref.selector!) not found")
            }
            return selected
        }
        return value.renderedBytes
    }

    /// `plan`: API calls and monthly cost at the configured poll, with placement hints; with a
    /// `fleet`, what that many agents ask of the account's quotas (`plan --replicas`).
    public static func plan(config: AgentConfig, envFrom: [String], fleet: FleetOptions? = nil, in context: AgentContext) throws -> String {
        let job = try Job.compile(config: config, envFrom: envFrom, flagsBase: context.cwd)
        let plan = CostPlan(references: job.references, poll: config.poll)
        var report = plan.report(configuration: config.file)
        if let fleet {
            var quotas = Quotas.published
            if let ssm = fleet.ssmQuota { quotas.ssm.perSecond = ssm }
            report += "\n" + FleetPlan(plan: plan, references: job.references, replicas: fleet.replicas, startTimeout: config.startTimeout,
                                       maxShare: fleet.maxShare, quotas: quotas).report()
        }
        return report
    }

    /// What `plan --replicas` was asked.
    public struct FleetOptions: Sendable {
        public var replicas: Int
        /// The share of a quota above which the fleet's polls are warned about (0.5 = 50 %).
        public var maxShare: Double
        /// The account's Parameter Store quota when not the default (a raise, higher throughput).
        public var ssmQuota: Double?

        public init(replicas: Int, maxShare: Double = 0.5, ssmQuota: Double? = nil) {
            self.replicas = replicas
            self.maxShare = maxShare
            self.ssmQuota = ssmQuota
        }
    }
}
