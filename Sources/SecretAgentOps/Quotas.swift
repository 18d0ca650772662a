/// The API rate quotas `plan --replicas` compares a fleet against — the only place they are
/// written down, as `Prices` is for prices.
///
/// AWS default quotas per account and region, checked 2026-11 in the Systems Manager and
/// Secrets Manager quota pages. Update `checked` with the figures. An account may have other
/// figures (a raised quota, Parameter Store's higher-throughput setting): `plan` takes them as
/// overrides (`--ssm-quota`).
public struct Quotas: Sendable, Equatable {
    /// One quota: a rate shared by some APIs of one service.
    public struct Quota: Sendable, Equatable {
        /// The service, as the plan's rows name it.
        public var service: CostPlan.Line.Backend
        /// The APIs that share the rate.
        public var apis: [String]
        /// Calls a second, per account and region.
        public var perSecond: Double

        public init(service: CostPlan.Line.Backend, apis: [String], perSecond: Double) {
            self.service = service
            self.apis = apis
            self.perSecond = perSecond
        }

        /// `GetParameter+GetParameters+GetParametersByPath`.
        public var name: String { apis.joined(separator: "+") }
    }

    /// Where the figures come from and when they were checked; printed by `plan --replicas`.
    public var checked = "AWS default quotas per account and region, checked 2026-11"
    /// Parameter Store at standard throughput: 40 a second shared by its read APIs.
    public var ssm = Quota(service: .ssm, apis: ["GetParameter", "GetParameters", "GetParametersByPath"], perSecond: 40)
    /// Secrets Manager's read APIs: each its own rate.
    public var secretsManager: [Quota] = [
        Quota(service: .secretsManager, apis: ["BatchGetSecretValue"], perSecond: 100),
        Quota(service: .secretsManager, apis: ["ListSecrets"], perSecond: 100),
        Quota(service: .secretsManager, apis: ["GetSecretValue"], perSecond: 10_000),
    ]

    public init() {}

    /// The quotas `plan` uses unless told otherwise.
    public static let published = Quotas()

    /// Every quota, SSM first.
    public var all: [Quota] { [ssm] + secretsManager }

    /// The quota an API's calls count against, if a published one applies (Vault has none).
    public func quota(for api: String, service: CostPlan.Line.Backend) -> Quota? {
        all.first { $0.service == service && $0.apis.contains(api) }
    }

    /// One sentence naming every figure, for the report.
    public var summary: String {
        let figures = all.map { "\($0.service.rawValue) \($0.name) \(CostPlan.count($0.perSecond)) a second" }
        return "Quotas (\(checked)): " + figures.joined(separator: "; ")
            + ". Parameter Store's higher-throughput setting (billed) raises its figure; a raised quota can be given with --ssm-quota."
    }
}
