import SecretAgentOps
import SecretTemplate
import Testing

@Suite("plan: API calls, cost and placement hints")
struct CostPlanTests {
    func refs(_ texts: [String]) throws -> [Reference] {
        try texts.map { try Reference.parse($0) }
    }

    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-9 }

    @Test("25 SSM parameters and 25 Secrets Manager secrets at 5m, by hand")
    func twentyFiveEach() throws {
        let names = (1...25).map { String(format2: $0) }
        let plan = CostPlan(references: try refs(names.map { "ssm:/app/param\($0)" } + names.map { "sm:app/secret\($0)" }),
                            poll: .seconds(300))
        // 12 polls an hour.
        #expect(plan.pollsPerHour == 12)

        // SSM: ceil(25/10) = 3 GetParameters a poll = 36 an hour = 36 × 730 = 26,280 a month, free.
        let ssm = try #require(plan.line(.ssm))
        #expect(ssm.operations == [CostPlan.Operation(api: "GetParameters", callsPerPoll: 3, detail: "25 parameters, 10 names a call")])
        #expect(plan.perHour(ssm.callsPerPoll) == 36)
        #expect(plan.perMonth(ssm.callsPerPoll) == 26_280)
        #expect(plan.apiCost(ssm) == 0)

        // Secrets Manager: versions from ListSecrets, ceil(25/10) = 3 calls a poll = 36 an hour =
        // 26,280 a month; 26,280 × $0.05 / 10,000 = $0.1314. Storage 25 × $0.40 = $10.00.
        let sm = try #require(plan.line(.secretsManager))
        #expect(sm.operations.map(\.api) == ["ListSecrets"])
        #expect(sm.callsPerPoll == 3)
        #expect(plan.perHour(sm.callsPerPoll) == 36)
        #expect(plan.perMonth(sm.callsPerPoll) == 26_280)
        #expect(close(plan.apiCost(sm), 0.1314))
        #expect(close(plan.storageCost, 10.00))
        #expect(close(plan.totalCost, 10.1314))

        // One call per secret: 25 a poll = 300 an hour = 219,000 a month = $1.095; the agent saves $0.9636.
        #expect(sm.naiveCallsPerPoll == 25)
        #expect(plan.perMonth(sm.naiveCallsPerPoll) == 219_000)
        #expect(close(plan.naiveAPICost(sm), 1.095))
        #expect(close(plan.naiveAPICost(sm) - plan.apiCost(sm), 0.9636))

        // The fallback when ListSecrets is denied: ceil(25/20) = 2 BatchGetSecretValue a poll
        // = 24 an hour = 17,520 a month = $0.0876.
        #expect(plan.secretsManagerAlternativeCallsPerPoll == 2)

        let report = plan.report(configuration: "/etc/secret-agent/agent.yaml")
        #expect(report.contains("Poll every 5m: 12 polls an hour, 730 hours a month"))
        #expect(report.contains("    3 × GetParameters: 25 parameters, 10 names a call"))
        #expect(report.contains("    3 × ListSecrets: 25 secrets, 10 names a call, version ids only"))
        #expect(report.contains("26,280"))
        #expect(report.contains("Secrets Manager storage     $10.00 (25 secrets × $0.40)"))
        #expect(report.contains("total                       $10.13"))
        #expect(report.contains("219,000 calls ($1.10) → 26,280 ($0.13): saves $0.96 a month"))
        #expect(report.contains("BatchGetSecretValue (20 a call): 2 calls a poll, 17,520 a month, $0.09, if a batch call is billed as one API call"))
        #expect(report.contains("as published for US regions, checked 2026-11"))
    }

    @Test("the same 25 secrets polled with BatchGetSecretValue (ListSecrets denied), by hand")
    func batchGet() throws {
        let plan = CostPlan(references: try refs((1...25).map { "sm:app/secret\($0)" }), poll: .seconds(300),
                            secretsManagerPoll: .batchGetSecretValue)
        // ceil(25/20) = 2 calls a poll = 24 an hour = 17,520 a month = $0.0876.
        let sm = try #require(plan.line(.secretsManager))
        #expect(sm.operations.map(\.api) == ["BatchGetSecretValue"])
        #expect(plan.perHour(sm.callsPerPoll) == 24)
        #expect(plan.perMonth(sm.callsPerPoll) == 17_520)
        #expect(close(plan.apiCost(sm), 0.0876))
        #expect(plan.secretsManagerAlternativeCallsPerPoll == 3)
        #expect(plan.report(configuration: nil).contains("A BatchGetSecretValue call is billed as one API call"))
    }

    @Test("pinned versions are not polled; paths, regions, Vault and local files")
    func mixed() throws {
        let plan = CostPlan(references: try refs([
            "ssm:/db/password:3", "ssm:/db/password", "ssm-path:/app/prod/", "ssm-path:/app/dev/",
            "sm:prod/db#password", "sm:prod/db#username", "sm:prod/db?stage=AWSPREVIOUS", "sm:a", "sm:b",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other-AbCdEf",
            "vault:secret/app", "vault:secret/app#x", "vault:secret/app?version=2", "vault:database/creds/app",
            "file:/etc/x", "env:HOME",
        ]), poll: .seconds(60))
        #expect(plan.pollsPerHour == 60)

        // SSM: 1 GetParameters (the pinned selector is not polled) + 2 GetParametersByPath.
        let ssm = try #require(plan.line(.ssm))
        #expect(ssm.pinned == 1 && ssm.polled == 3)
        #expect(ssm.operations.map(\.api) == ["GetParameters", "GetParametersByPath"])
        #expect(ssm.callsPerPoll == 3)
        #expect(plan.perHour(ssm.callsPerPoll) == 180)

        // Secrets Manager: prod/db, a, b listed in one call in the default region, the eu-west-1
        // secret in another. AWSPREVIOUS is pinned. Storage: 4 secrets.
        let sm = try #require(plan.line(.secretsManager))
        #expect(sm.pinned == 1 && sm.polled == 4)
        #expect(sm.operations == [CostPlan.Operation(api: "ListSecrets", callsPerPoll: 2,
                                                     detail: "4 secrets, 10 names a call, per region, version ids only; a changed secret is then fetched once")])
        // With BatchGetSecretValue the lone eu-west-1 secret would be a GetSecretValue.
        let batched = CostPlan(references: try refs(["sm:a", "sm:b", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other-AbCdEf"]),
                               poll: .seconds(60), secretsManagerPoll: .batchGetSecretValue)
        #expect(batched.line(.secretsManager)?.operations.map(\.api) == ["BatchGetSecretValue", "GetSecretValue"])
        #expect(plan.secretsManagerSecrets == 4)
        #expect(close(plan.storageCost, 1.60))
        // 2 × 60 × 730 = 87,600 calls = $0.438.
        #expect(close(plan.apiCost(sm), 0.438))

        let vault = try #require(plan.line(.vault))
        #expect(vault.polled == 2 && vault.pinned == 1 && vault.callsPerPoll == 2 && vault.per10kCalls == nil)
        let local = try #require(plan.line(.local))
        #expect(local.polled == 2 && local.callsPerPoll == 0)
        #expect(plan.report(configuration: nil).contains("one page (up to 10 parameters)"))
    }

    @Test("21 secrets: 3 ListSecrets, or one batch of 20 and a lone GetSecretValue")
    func remainderOfOne() throws {
        let references = try refs((1...21).map { "sm:s\($0)" })
        #expect(CostPlan(references: references, poll: .seconds(300)).line(.secretsManager)?.callsPerPoll == 3)
        let batched = CostPlan(references: references, poll: .seconds(300), secretsManagerPoll: .batchGetSecretValue)
        #expect(batched.line(.secretsManager)?.operations.map(\.callsPerPoll) == [1, 1])
    }

    @Test("BACKENDS.md arithmetic: 1,000 agents × 10 secrets every 5 minutes")
    func fleet() throws {
        let plan = CostPlan(references: try refs((1...10).map { "sm:s\($0)" }), poll: .seconds(300))
        let sm = try #require(plan.line(.secretsManager))
        // A 730-hour month: 10 × 12 × 730 = 87,600 calls per agent one call per secret; × 1,000 ≈ $438.
        #expect(close(plan.naiveAPICost(sm) * 1000, 438))
        // One ListSecrets call for 10 names: 8,760 a month per agent; × 1,000 ≈ $43.80. (BACKENDS.md's
        // ≈ $22 packs 20 secrets into each call across agents, which one agent with 10 cannot.)
        #expect(close(plan.apiCost(sm) * 1000, 43.8))
    }

    @Test("placement hints from names")
    func hints() throws {
        let plan = CostPlan(references: try refs([
            "ssm:/db/password", "ssm:/db/password:3", "ssm:/app/api-url", "ssm:/app/apiKey", "ssm:/app/config#dbPassword",
            "sm:app/endpoint-url", "sm:prod/db#username", "sm:prod/db#password", "sm:prod/config#host", "sm:prod/config#port",
            "sm:docker/registry/password", "sm:prod/opaque",
        ]), poll: .seconds(300))
        #expect(plan.hints.map(\.reference) == ["sm:app/endpoint-url", "sm:prod/config", "ssm:/app/apiKey", "ssm:/app/config", "ssm:/db/password"])
        let byName = Dictionary(uniqueKeysWithValues: plan.hints.map { ($0.reference, $0.message) })
        #expect(byName["ssm:/db/password"]?.hasPrefix("the name looks sensitive: if this is a String parameter, make it a SecureString") == true)
        #expect(byName["ssm:/db/password"]?.contains("cannot see the parameter's type") == true)
        #expect(byName["sm:app/endpoint-url"]?.hasPrefix("the name looks non-sensitive: SSM Parameter Store is cheaper") == true)
        #expect(byName["sm:prod/config"]?.contains("fields used (host, port)") == true)
    }

    @Test("money and counts print for people")
    func formatting() {
        #expect(CostPlan.dollars(0) == "$0")
        #expect(CostPlan.dollars(0.004) == "<$0.01")
        #expect(CostPlan.dollars(0.0876) == "$0.09")
        #expect(CostPlan.dollars(1007.4) == "$1,007.40")
        #expect(CostPlan.count(26_280) == "26,280")
        #expect(CostPlan.count(8.571428, decimals: 1) == "8.6")
        #expect(CostPlan.count(12, decimals: 2) == "12")
        #expect(CostPlan.count(1_234_567.05, decimals: 2) == "1,234,567.05")
    }
}

extension String {
    /// `7` → `07`.
    init(format2 n: Int) { self = n < 10 ? "0\(n)" : "\(n)" }
}
