import SecretAgentCore

/// The readable report `secret-agent plan` prints.
extension CostPlan {
    /// The whole report: the table, the monthly estimate, what batching saves, the assumptions,
    /// the prices and their date, and the placement hints.
    public func report(configuration: String?) -> String {
        var out: [String] = []
        out.append("Cost plan for \(configuration ?? "the command-line templates") (one agent)")
        out.append("Poll every \(Self.duration(poll)): \(Self.count(pollsPerHour, decimals: 2)) polls an hour, "
                   + "\(Self.count(prices.hoursPerMonth)) hours a month; the ±10 % jitter averages out. "
                   + "Start-up fetches and reloads are not counted.")
        out.append("")
        out.append(contentsOf: table())
        out.append("")
        out.append(contentsOf: estimate())
        out.append("")
        out.append(contentsOf: batching())
        out.append("")
        out.append("Assumptions:")
        for a in assumptions() { out.append("  - " + a) }
        out.append("")
        out.append(prices.summary)
        out.append("")
        if hints.isEmpty {
            out.append("Placement hints: none (names only: the plan works offline).")
        } else {
            out.append("Placement hints (from names only: the plan works offline):")
            for h in hints { out.append("  \(h.reference): \(h.message)") }
        }
        return out.joined(separator: "\n") + "\n"
    }

    func table() -> [String] {
        var rows = [["backend", "polled", "pinned", "calls/poll", "calls/hour", "calls/month", "API cost/month"]]
        var details: [Int: [String]] = [:]
        for line in lines {
            let cost = line.per10kCalls == nil ? (line.backend == .vault ? "not billed per call" : "-")
                : line.per10kCalls == 0 ? "$0 (no charge)" : Self.dollars(apiCost(line))
            rows.append([line.backend.rawValue, "\(line.polled)", "\(line.pinned)", "\(line.callsPerPoll)",
                         Self.count(perHour(line.callsPerPoll), decimals: 1), Self.count(perMonth(line.callsPerPoll)), cost])
            details[rows.count - 1] = line.operations.map { "    \($0.callsPerPoll) × \($0.api): \($0.detail)" }
        }
        let widths = rows[0].indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        var out: [String] = []
        for (n, row) in rows.enumerated() {
            let cells = row.enumerated().map { i, cell in
                i == 0 ? cell.padding(widths[i]) : String(repeating: " ", count: widths[i] - cell.count) + cell
            }
            out.append(cells.joined(separator: "  "))
            out.append(contentsOf: details[n] ?? [])
        }
        return out
    }

    func estimate() -> [String] {
        var out = ["Monthly estimate:"]
        if let sm = line(.secretsManager) {
            out.append("  Secrets Manager API calls   \(Self.dollars(apiCost(sm)))")
        }
        if secretsManagerSecrets > 0 {
            out.append("  Secrets Manager storage     \(Self.dollars(storageCost)) (\(secretsManagerSecrets) secret\(secretsManagerSecrets == 1 ? "" : "s") × \(Self.dollars(prices.secretsManagerSecretMonth)))")
        }
        if let ssm = line(.ssm) {
            out.append("  SSM Parameter Store         \(Self.dollars(apiCost(ssm))) at standard throughput; "
                       + "\(Self.dollars(perMonth(ssm.callsPerPoll) * prices.ssmHigherThroughputPer10kCalls / 10_000)) if higher throughput is enabled")
        }
        out.append("  total                       \(Self.dollars(totalCost))")
        return out
    }

    func batching() -> [String] {
        let naive = lines.reduce(0) { $0 + $1.naiveCallsPerPoll }
        let batched = lines.reduce(0) { $0 + $1.callsPerPoll }
        guard naive > batched else {
            return ["Batching: nothing to batch here — each poll makes one call per secret (\(Self.calls(batched)))."]
        }
        var out = ["Batching: one call per secret would be \(Self.calls(naive)) a poll (\(Self.count(perMonth(naive))) a month); "
                   + "the agent makes \(batched) (\(Self.count(perMonth(batched))) a month)."]
        if let sm = line(.secretsManager), sm.naiveCallsPerPoll > sm.callsPerPoll {
            let saved = naiveAPICost(sm) - apiCost(sm)
            out.append("  Secrets Manager: \(Self.count(perMonth(sm.naiveCallsPerPoll))) calls (\(Self.dollars(naiveAPICost(sm)))) → "
                       + "\(Self.count(perMonth(sm.callsPerPoll))) (\(Self.dollars(apiCost(sm)))): saves \(Self.dollars(saved)) a month, "
                       + "\(Self.dollars(saved * 1000)) across 1,000 agents.")
        }
        if let ssm = line(.ssm), ssm.naiveCallsPerPoll > ssm.callsPerPoll {
            out.append("  SSM: \(Self.count(perHour(ssm.naiveCallsPerPoll), decimals: 1)) → \(Self.count(perHour(ssm.callsPerPoll), decimals: 1)) calls an hour "
                       + "(free at standard throughput, but the 40 TPS quota is shared by every Get* caller in the account and region).")
        }
        return out
    }

    /// `1 call`, `3 calls`.
    static func calls(_ n: Int) -> String { n == 1 ? "1 call" : "\(n) calls" }

    func assumptions() -> [String] {
        var out: [String] = []
        if let sm = line(.secretsManager), sm.polled > 0 {
            let other = secretsManagerAlternativeCallsPerPoll
            let otherCost = perMonth(other) * prices.secretsManagerPer10kCalls / 10_000
            switch secretsManagerPoll {
            case .listSecrets:
                out.append("Secrets Manager versions come from ListSecrets with a name filter, one page (up to 100 matches) "
                           + "a call: a filter matches names by prefix, so other secrets whose names start with a watched name "
                           + "can add pages. If ListSecrets is denied, the agent reads values at each poll with BatchGetSecretValue "
                           + "(20 a call): \(Self.calls(other)) a poll, \(Self.count(perMonth(other))) a month, \(Self.dollars(otherCost)), "
                           + "if a batch call is billed as one API call — if AWS bills each secret in it, the one-call-per-secret figure.")
            case .batchGetSecretValue:
                out.append("A BatchGetSecretValue call is billed as one API call; if AWS bills each secret in it, the Secrets "
                           + "Manager API cost is the one-call-per-secret figure. (CloudTrail logs one GetSecretValue event per secret.)")
            }
        }
        if let ssm = line(.ssm), ssm.operations.contains(where: { $0.api == "GetParametersByPath" }) {
            out.append("Each ssm-path: is one page (up to 10 parameters); the plan cannot count the parameters under a path offline.")
        }
        if line(.ssm) != nil {
            out.append("SSM polls read versions without decryption: KMS (\(Self.dollars(prices.kmsPer10kRequests)) per 10,000 requests "
                       + "with a customer managed key) is called only when a SecureString changed. Standard parameters assumed "
                       + "(advanced ones cost \(Self.dollars(prices.ssmAdvancedParameterMonth)) each a month).")
        }
        if line(.vault) != nil {
            out.append("Vault is self-hosted here: requests are not billed (HCP Vault bills by client, not by request).")
        }
        out.append("Values fetched because a version changed, credential refreshes (STS, IMDS) and Vault token renewals "
                   + "are a few calls an hour at most and are not counted.")
        return out
    }

    /// `$0.09`, `$1,007.40`, `<$0.01`, `$0`.
    public static func dollars(_ amount: Double) -> String {
        if amount == 0 { return "$0" }
        let cents = Int64((amount * 100).rounded())
        if cents == 0 { return "<$0.01" }
        let fraction = cents % 100
        return "$" + count(Double(cents / 100)) + "." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    /// `26,280`; with `decimals`, up to that many digits after the point when not whole.
    public static func count(_ value: Double, decimals: Int = 0) -> String {
        let scale = (0..<decimals).reduce(1.0) { r, _ in r * 10 }
        let scaled = Int64((value * scale).rounded())
        let whole = scaled / Int64(scale)
        var digits = String(whole)
        var grouped = ""
        while digits.count > 3 {
            grouped = "," + digits.suffix(3) + grouped
            digits = String(digits.dropLast(3))
        }
        var text = digits + grouped
        let part = scaled % Int64(scale)
        if decimals > 0 && part != 0 {
            var frac = String(part)
            frac = String(repeating: "0", count: decimals - frac.count) + frac
            while frac.hasSuffix("0") { frac.removeLast() }
            text += "." + frac
        }
        return text
    }

    /// `5m`, `30s`, `1h`, `1m30s`.
    static func duration(_ d: Duration) -> String {
        let s = d.components.seconds
        if s == 0 { return "\(d.milliseconds)ms" }
        var parts: [String] = []
        if s >= 3600 { parts.append("\(s / 3600)h") }
        if s % 3600 >= 60 { parts.append("\(s % 3600 / 60)m") }
        if s % 60 > 0 || parts.isEmpty { parts.append("\(s % 60)s") }
        return parts.joined()
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
