import SecretAgentAWS
import SecretTemplate

/// `plan --replicas N`: what N agents with one configuration ask of the account's rate quotas —
/// the steady state of their polls, and the burst of a rollout that starts them all at once.
///
/// Per quota (``Quotas``): the fleet's calls a second at the poll interval against the quota
/// and its share; the calls the N agents make at start (``FetchCalls``, the providers' own
/// batching) and the least time in which the quota lets all of them through (assuming no burst
/// above the rate). Warnings when that time exceeds the start timeout, or the steady state
/// exceeds `maxShare` of a quota. Offline and pure, like ``CostPlan``.
public struct FleetPlan: Sendable {
    /// One quota's figures.
    public struct Row: Sendable, Equatable {
        public var quota: Quotas.Quota
        /// The calls one agent's poll makes against the quota.
        public var callsPerPoll: Int
        /// The calls one agent makes at start.
        public var startCalls: Int
        /// The fleet's poll calls a second (the ±10 % jitter averages out).
        public var fleetPerSecond: Double
        /// `fleetPerSecond` over the quota (1 = all of it).
        public var share: Double
        /// The calls all N agents make at start.
        public var fleetStartCalls: Int
        /// Seconds the quota needs to let `fleetStartCalls` through.
        public var leastRolloutSeconds: Double
    }

    public let replicas: Int
    public let poll: Duration
    public let startTimeout: Duration
    /// The share of a quota above which the steady state is warned about (0.5 = 50 %).
    public let maxShare: Double
    public let quotas: Quotas
    /// Rows for the quotas this configuration calls, SSM first.
    public let rows: [Row]
    /// Vault reads a second across the fleet (self-hosted: no published quota), 0 without Vault.
    public let vaultPerSecond: Double

    /// Builds the fleet plan from one agent's plan and its references.
    public init(plan: CostPlan, references: [Reference], replicas: Int, startTimeout: Duration,
                maxShare: Double = 0.5, quotas: Quotas = .published) {
        self.replicas = replicas
        self.poll = plan.poll
        self.startTimeout = startTimeout
        self.maxShare = maxShare
        self.quotas = quotas
        let start = FetchCalls.count(references.map(\.locator))
        let seconds = plan.poll.seconds
        var rows: [Row] = []
        for quota in quotas.all {
            let perPoll = plan.lines.filter { $0.backend == quota.service }
                .flatMap(\.operations).filter { quota.apis.contains($0.api) }.reduce(0) { $0 + $1.callsPerPoll }
            let atStart = quota.apis.reduce(0) { $0 + (start[$1] ?? 0) }
            guard perPoll + atStart > 0 else { continue }
            let fleet = Double(replicas) * Double(perPoll) / seconds
            let burst = replicas.multipliedReportingOverflow(by: atStart)
            rows.append(Row(quota: quota, callsPerPoll: perPoll, startCalls: atStart, fleetPerSecond: fleet,
                            share: fleet / quota.perSecond, fleetStartCalls: burst.overflow ? .max : burst.partialValue,
                            leastRolloutSeconds: Double(replicas) * Double(atStart) / quota.perSecond))
        }
        self.rows = rows
        self.vaultPerSecond = Double(replicas) * Double(plan.line(.vault)?.callsPerPoll ?? 0) / seconds
    }

    /// The least time in which every agent can have made its start-up calls: the slowest quota.
    public var leastRolloutSeconds: Double { rows.map(\.leastRolloutSeconds).max() ?? 0 }

    /// What to change, one sentence each; empty when the fleet fits.
    public var warnings: [String] {
        var out: [String] = []
        let timeout = startTimeout.seconds
        for row in rows where row.leastRolloutSeconds > timeout {
            out.append("\(CostPlan.count(Double(replicas))) agents starting at once need at least \(Self.seconds(row.leastRolloutSeconds)) of the "
                       + "\(row.quota.service.rawValue) \(row.quota.name) quota (\(CostPlan.count(row.quota.perSecond)) a second) "
                       + "to start, more than the \(Self.seconds(timeout)) start timeout: roll out in waves of at most "
                       + "\(Self.wave(row, within: timeout)) agents, raise start_timeout, or raise the quota.")
        }
        for row in rows where row.share > maxShare {
            let needed = Double(replicas) * Double(row.callsPerPoll) / (maxShare * row.quota.perSecond)
            out.append("The fleet's polls use \(Self.percent(row.share)) of the \(row.quota.service.rawValue) \(row.quota.name) "
                       + "quota (more than \(Self.percent(maxShare))), which every other caller in the account and region shares: "
                       + "poll every \(Self.seconds(needed.rounded(.up))) or more, or raise the quota.")
        }
        return out
    }

    /// The report `plan --replicas` appends to the one-agent plan.
    public func report() -> String {
        var out = ["Fleet of \(CostPlan.count(Double(replicas))) agent\(replicas == 1 ? "" : "s") (poll every \(CostPlan.duration(poll)), "
                   + "start timeout \(Self.seconds(startTimeout.seconds)), warned above \(Self.percent(maxShare)) of a quota):"]
        var table = [["quota", "limit/s", "calls/poll", "fleet calls/s", "share", "start calls", "fleet start", "least rollout"]]
        for row in rows {
            table.append(["\(row.quota.service.rawValue) \(row.quota.name)", CostPlan.count(row.quota.perSecond),
                          "\(row.callsPerPoll)", CostPlan.count(row.fleetPerSecond, decimals: 2), Self.percent(row.share),
                          "\(row.startCalls)", CostPlan.count(Double(row.fleetStartCalls)), Self.seconds(row.leastRolloutSeconds)])
        }
        let widths = table[0].indices.map { i in table.map { $0[i].count }.max() ?? 0 }
        for row in table {
            out.append(row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == 0 ? cell + pad : pad + cell
            }.joined(separator: "  "))
        }
        if rows.isEmpty { out.append("  (no AWS calls: nothing to compare with a quota)") }
        if vaultPerSecond > 0 {
            out.append("Vault: \(CostPlan.count(vaultPerSecond, decimals: 2)) reads a second across the fleet (self-hosted: no published quota).")
        }
        out.append("Rollout: all \(CostPlan.count(Double(replicas))) agents can have started after \(Self.seconds(leastRolloutSeconds)) at the least "
                   + "(start-up calls over each quota, no burst assumed; credential calls not counted).")
        let warnings = warnings
        if warnings.isEmpty {
            out.append("Warnings: none.")
        } else {
            out.append("Warnings:")
            for w in warnings { out.append("  - " + w) }
        }
        out.append(quotas.summary)
        return out.joined(separator: "\n") + "\n"
    }

    /// How many agents the quota starts within `timeout` (at least 1).
    static func wave(_ row: Row, within timeout: Double) -> String {
        guard row.startCalls > 0 else { return CostPlan.count(Double(row.quota.perSecond)) }
        return CostPlan.count(max(1, (timeout * row.quota.perSecond / Double(row.startCalls)).rounded(.down)))
    }

    /// `3.3 %`, `150 %`.
    static func percent(_ share: Double) -> String { CostPlan.count(share * 100, decimals: 1) + " %" }

    /// `10 s`, `2.5 s`, `100 s`.
    static func seconds(_ value: Double) -> String { CostPlan.count(value, decimals: 1) + " s" }
}
