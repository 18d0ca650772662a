/// The list prices `plan` uses — the only place they are written down.
///
/// Published prices for US regions, checked 2026-11. Update `checked` with the figures.
public struct Prices: Sendable, Equatable {
    /// Where the figures come from and when they were checked; printed by `plan`.
    public var checked = "as published for US regions, checked 2026-11"
    /// A month, for monthly figures.
    public var hoursPerMonth: Double = 730
    /// Secrets Manager: per secret per month.
    public var secretsManagerSecretMonth: Double = 0.40
    /// Secrets Manager: per 10,000 API calls.
    public var secretsManagerPer10kCalls: Double = 0.05
    /// SSM Parameter Store, standard throughput: per 10,000 API calls (no charge).
    public var ssmStandardPer10kCalls: Double = 0
    /// SSM Parameter Store, higher-throughput mode: per 10,000 API calls.
    public var ssmHigherThroughputPer10kCalls: Double = 0.05
    /// SSM advanced parameters: per parameter per month (standard parameters cost nothing).
    public var ssmAdvancedParameterMonth: Double = 0.05
    /// KMS: per 10,000 requests (SecureString decryption under a customer managed key).
    public var kmsPer10kRequests: Double = 0.03

    public init() {}

    /// The prices `plan` prints and uses.
    public static let published = Prices()

    /// One paragraph naming every figure, for the report.
    public var summary: String {
        """
        Prices \(checked): Secrets Manager \(CostPlan.dollars(secretsManagerSecretMonth)) per secret a month and \
        \(CostPlan.dollars(secretsManagerPer10kCalls)) per 10,000 API calls; SSM Parameter Store standard parameters \
        and API calls at standard throughput no charge, higher-throughput mode \(CostPlan.dollars(ssmHigherThroughputPer10kCalls)) \
        per 10,000 calls, advanced parameters \(CostPlan.dollars(ssmAdvancedParameterMonth)) per parameter a month; \
        KMS \(CostPlan.dollars(kmsPer10kRequests)) per 10,000 requests. A month is \(CostPlan.count(hoursPerMonth)) hours.
        """
    }
}
