import SecretAgentOps
import SecretTemplate
import Testing

@Suite("plan --replicas: a fleet against the published quotas")
struct FleetPlanTests {
    /// 20 SSM parameters and 10 Secrets Manager secrets: the fleet simulation's configuration.
    func references() throws -> [Reference] {
        try ((1...20).map { "ssm:/fleet/param\($0)" } + (1...10).map { "sm:fleet/secret\($0)" }).map { try Reference.parse($0) }
    }

    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-9 }

    @Test("200 agents, 20 SSM + 10 Secrets Manager, poll 5m: figures by hand, no warning")
    func twoHundred() throws {
        let refs = try references()
        let fleet = FleetPlan(plan: CostPlan(references: refs, poll: .seconds(300)), references: refs,
                              replicas: 200, startTimeout: .seconds(60))
        #expect(fleet.rows.map(\.quota.name) == ["GetParameter+GetParameters+GetParametersByPath", "BatchGetSecretValue", "ListSecrets"])

        // SSM: 2 GetParameters a poll and 2 at start (10 names a call). 200 × 2 / 300 s = 1.333…/s,
        // 1.333/40 = 3.33 % of the quota; 400 calls at start / 40 a second = 10 s.
        let ssm = fleet.rows[0]
        #expect(ssm.callsPerPoll == 2 && ssm.startCalls == 2)
        #expect(close(ssm.fleetPerSecond, 400.0 / 300))
        #expect(close(ssm.share, 400.0 / 300 / 40))
        #expect(ssm.fleetStartCalls == 400)
        #expect(close(ssm.leastRolloutSeconds, 10))

        // Secrets Manager: one BatchGetSecretValue at start (10 ids, 20 a call): 200 / 100 a second
        // = 2 s; polls use ListSecrets (10 names a call): 200 × 1 / 300 s = 0.667/s, 0.67 %.
        let batch = fleet.rows[1]
        #expect(batch.callsPerPoll == 0 && batch.startCalls == 1 && batch.fleetStartCalls == 200)
        #expect(close(batch.leastRolloutSeconds, 2))
        let list = fleet.rows[2]
        #expect(list.callsPerPoll == 1 && list.startCalls == 0)
        #expect(close(list.fleetPerSecond, 200.0 / 300))
        #expect(close(list.share, 200.0 / 300 / 100))

        #expect(close(fleet.leastRolloutSeconds, 10))
        #expect(fleet.warnings.isEmpty)
        let report = fleet.report()
        #expect(report.contains("Fleet of 200 agents (poll every 5m, start timeout 60 s, warned above 50 % of a quota):"))
        #expect(report.contains("all 200 agents can have started after 10 s at the least"))
        #expect(report.contains("Warnings: none."))
        #expect(report.contains("checked 2026-11"))
    }

    @Test("2,000 agents polling every 30s: the rollout exceeds the start timeout and the polls two quotas' share")
    func twoThousand() throws {
        let refs = try references()
        let fleet = FleetPlan(plan: CostPlan(references: refs, poll: .seconds(30)), references: refs,
                              replicas: 2000, startTimeout: .seconds(60))
        // SSM at start: 4,000 calls / 40 a second = 100 s > 60 s; a wave of 60 × 40 / 2 = 1,200 agents fits.
        // Polls: 2,000 × 2 / 30 = 133.3/s = 333.3 % of 40; 50 % needs 2,000 × 2 / 20 = 200 s.
        // ListSecrets: 2,000 / 30 = 66.7/s = 66.7 % of 100; 50 % needs 2,000 / 50 = 40 s.
        #expect(close(fleet.leastRolloutSeconds, 100))
        #expect(fleet.warnings == [
            "2,000 agents starting at once need at least 100 s of the SSM Parameter Store GetParameter+GetParameters+GetParametersByPath "
                + "quota (40 a second) to start, more than the 60 s start timeout: roll out in waves of at most 1,200 agents, "
                + "raise start_timeout, or raise the quota.",
            "The fleet's polls use 333.3 % of the SSM Parameter Store GetParameter+GetParameters+GetParametersByPath quota "
                + "(more than 50 %), which every other caller in the account and region shares: poll every 200 s or more, or raise the quota.",
            "The fleet's polls use 66.7 % of the Secrets Manager ListSecrets quota (more than 50 %), which every other caller "
                + "in the account and region shares: poll every 40 s or more, or raise the quota.",
        ])
    }

    @Test("a raised SSM quota and a lower warning share change the figures")
    func overrides() throws {
        let refs = try references()
        var quotas = Quotas.published
        quotas.ssm.perSecond = 1000
        let fleet = FleetPlan(plan: CostPlan(references: refs, poll: .seconds(300)), references: refs,
                              replicas: 2000, startTimeout: .seconds(60), maxShare: 0.05, quotas: quotas)
        // 4,000 start calls / 1,000 a second = 4 s; BatchGetSecretValue 2,000 / 100 = 20 s is now the slowest.
        #expect(close(fleet.rows[0].leastRolloutSeconds, 4))
        #expect(close(fleet.leastRolloutSeconds, 20))
        // ListSecrets: 2,000 / 300 = 6.67/s = 6.7 % > 5 %.
        #expect(fleet.warnings.count == 1)
        #expect(fleet.warnings.first?.contains("6.7 % of the Secrets Manager ListSecrets quota") == true)
    }

    @Test("pinned versions, stages and paths: start-up calls follow the providers' batching")
    func startCalls() throws {
        let refs = try ["ssm:/a", "ssm:/a:3", "ssm-path:/app/", "sm:one", "sm:two?stage=AWSPREVIOUS", "sm:three?version-id=v-1"].map { try Reference.parse($0) }
        let fleet = FleetPlan(plan: CostPlan(references: refs, poll: .seconds(60)), references: refs,
                              replicas: 10, startTimeout: .seconds(60))
        // SSM: /a and /a:3 never share a call (2 GetParameters) + 1 GetParametersByPath = 3 at start.
        #expect(fleet.rows[0].startCalls == 3)
        // Secrets Manager: a lone AWSCURRENT secret and two pinned ones: 3 GetSecretValue.
        #expect(fleet.rows.first { $0.quota.name == "GetSecretValue" }?.startCalls == 3)
        #expect(fleet.rows.first { $0.quota.name == "BatchGetSecretValue" } == nil)
    }
}
