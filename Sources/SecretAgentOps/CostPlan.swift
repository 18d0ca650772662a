import SecretAgentAWS
import SecretAgentCore
import SecretTemplate

/// What a configuration costs in API calls and money at its poll interval, by backend, and
/// where its secrets would be better placed (`secret-agent plan`). Pure: it works offline
/// from the references alone.
///
/// The counts follow how the agent polls (SPEC §6): pinned versions are never polled; SSM
/// `ssm:` parameters go 10 names to a `GetParameters` call (versions only, no decryption);
/// each `ssm-path:` is one `GetParametersByPath` call a poll, assuming one page (10 parameters)
/// per path; Secrets Manager AWSCURRENT versions come from `ListSecrets`, 10 names a call, one
/// page each (or, when ListSecrets is denied, values from `BatchGetSecretValue`, 20 ids a call,
/// a lone secret by `GetSecretValue`), per region; Vault is one read per path a poll. Values
/// fetched because something changed are not counted.
public struct CostPlan: Sendable {
    /// How the agent learns Secrets Manager versions at each poll.
    public enum SecretsManagerPoll: Sendable, Equatable {
        /// `ListSecrets` with a name filter: version ids only, 10 names a call (the default).
        case listSecrets
        /// `BatchGetSecretValue`, 20 ids a call: values at every poll (the fallback when
        /// ListSecrets is denied).
        case batchGetSecretValue
    }

    /// One backend's row.
    public struct Line: Sendable, Equatable {
        public enum Backend: String, Sendable { case ssm = "SSM Parameter Store", secretsManager = "Secrets Manager", vault = "Vault", local = "file / env" }

        public var backend: Backend
        /// Distinct things polled (parameters, paths, secrets, Vault paths, files).
        public var polled: Int
        /// Pinned versions: fetched once at start, never polled.
        public var pinned: Int
        /// The calls one poll makes, by API.
        public var operations: [Operation]
        /// The calls one poll would make with one call per secret.
        public var naiveCallsPerPoll: Int
        /// Price per 10,000 calls; nil when calls are not billed (Vault, local files).
        public var per10kCalls: Double?

        /// The calls of one poll.
        public var callsPerPoll: Int { operations.reduce(0) { $0 + $1.callsPerPoll } }
    }

    /// Calls of one API in one poll.
    public struct Operation: Sendable, Equatable {
        public var api: String
        public var callsPerPoll: Int
        /// How the count was reached (and what it assumes).
        public var detail: String

        public init(api: String, callsPerPoll: Int, detail: String) {
            self.api = api
            self.callsPerPoll = callsPerPoll
            self.detail = detail
        }
    }

    /// A placement hint for one secret.
    public struct Hint: Sendable, Equatable {
        /// The parameter or secret (`ssm:/app/db/password`, `sm:prod/db`) without version or field; never a value.
        public var reference: String
        public var message: String
    }

    public let poll: Duration
    public let prices: Prices
    /// Rows, in the order SSM, Secrets Manager, Vault, local (backends without references omitted).
    public let lines: [Line]
    /// Distinct Secrets Manager secrets named (pinned ones included): each is billed a month.
    public let secretsManagerSecrets: Int
    /// How Secrets Manager is polled in this plan.
    public let secretsManagerPoll: SecretsManagerPoll
    /// The Secrets Manager calls a poll makes the other way (BatchGetSecretValue when the plan
    /// uses ListSecrets, and the reverse), for the report.
    public let secretsManagerAlternativeCallsPerPoll: Int
    public let hints: [Hint]

    /// Builds the plan for the references of a configuration (`Job.references`).
    public init(references: [Reference], poll: Duration, prices: Prices = .published,
                secretsManagerPoll: SecretsManagerPoll = .listSecrets) {
        self.poll = poll
        self.prices = prices
        self.secretsManagerPoll = secretsManagerPoll
        let locators = Set(references.map(\.locator))
        var ssmByRegion: [String: Int] = [:], paths = 0, ssmPinned = 0
        var smByRegion: [String: Set<String>] = [:], smPinned = 0, smSecrets = Set<String>()
        var vault = 0, vaultPinned = 0, local = 0
        for locator in locators {
            let region = (try? ARN.region(of: locator)) ?? ""
            switch locator {
            case .ssm:
                if locator.isPinned { ssmPinned += 1 } else { ssmByRegion[region, default: 0] += 1 }
            case .ssmPath:
                paths += 1
            case .secretsManager(let id, _, _):
                smSecrets.insert(id)
                if locator.isPinned { smPinned += 1 } else { smByRegion[region, default: []].insert(id) }
            case .vault:
                if locator.isPinned { vaultPinned += 1 } else { vault += 1 }
            case .file, .env:
                local += 1
            }
        }
        var lines: [Line] = []
        let parameters = ssmByRegion.values.reduce(0, +)
        if parameters + paths + ssmPinned > 0 {
            var ops: [Operation] = []
            let calls = ssmByRegion.values.reduce(0) { $0 + Self.ceilDiv($1, 10) }
            if calls > 0 {
                ops.append(Operation(api: "GetParameters", callsPerPoll: calls,
                                     detail: "\(parameters) parameter\(parameters == 1 ? "" : "s"), 10 names a call\(ssmByRegion.count > 1 ? ", per region" : "")"))
            }
            if paths > 0 {
                ops.append(Operation(api: "GetParametersByPath", callsPerPoll: paths,
                                     detail: "\(paths) path\(paths == 1 ? "" : "s"), assuming 1 page (up to 10 parameters) each; every further 10 parameters under a path add 1 call a poll"))
            }
            lines.append(Line(backend: .ssm, polled: parameters + paths, pinned: ssmPinned, operations: ops,
                              naiveCallsPerPoll: parameters + paths, per10kCalls: prices.ssmStandardPer10kCalls))
        }
        let secrets = smByRegion.values.reduce(0) { $0 + $1.count }
        let listing = Self.listSecretsOperations(smByRegion.mapValues(\.count))
        let batching = Self.batchGetOperations(smByRegion.mapValues(\.count))
        if secrets + smPinned > 0 {
            lines.append(Line(backend: .secretsManager, polled: secrets, pinned: smPinned,
                              operations: secretsManagerPoll == .listSecrets ? listing : batching,
                              naiveCallsPerPoll: secrets, per10kCalls: prices.secretsManagerPer10kCalls))
        }
        let other = secretsManagerPoll == .listSecrets ? batching : listing
        self.secretsManagerAlternativeCallsPerPoll = other.reduce(0) { $0 + $1.callsPerPoll }
        if vault + vaultPinned > 0 {
            let ops = vault == 0 ? [] : [Operation(api: "read", callsPerPoll: vault,
                                                   detail: "one read per path (KV v2: its version); leased dynamic secrets are also renewed on their lease")]
            lines.append(Line(backend: .vault, polled: vault, pinned: vaultPinned, operations: ops, naiveCallsPerPoll: vault, per10kCalls: nil))
        }
        if local > 0 {
            lines.append(Line(backend: .local, polled: local, pinned: 0, operations: [], naiveCallsPerPoll: 0, per10kCalls: nil))
        }
        self.lines = lines
        self.secretsManagerSecrets = smSecrets.count
        self.hints = Self.hints(for: references, prices: prices)
    }

    /// Polls an hour at the configured interval (the ±10 % jitter averages out).
    public var pollsPerHour: Double { 3600 / poll.seconds }

    /// Calls an hour for `callsPerPoll` calls a poll.
    public func perHour(_ callsPerPoll: Int) -> Double { Double(callsPerPoll) * pollsPerHour }

    /// Calls a month for `callsPerPoll` calls a poll.
    public func perMonth(_ callsPerPoll: Int) -> Double { perHour(callsPerPoll) * prices.hoursPerMonth }

    /// The API cost a month of a row as the agent batches; 0 when not billed.
    public func apiCost(_ line: Line) -> Double { perMonth(line.callsPerPoll) * (line.per10kCalls ?? 0) / 10_000 }

    /// The API cost a month of a row with one call per secret.
    public func naiveAPICost(_ line: Line) -> Double { perMonth(line.naiveCallsPerPoll) * (line.per10kCalls ?? 0) / 10_000 }

    /// Secrets Manager storage a month.
    public var storageCost: Double { Double(secretsManagerSecrets) * prices.secretsManagerSecretMonth }

    /// API calls and storage a month, as the agent batches.
    public var totalCost: Double { lines.reduce(storageCost) { $0 + apiCost($1) } }

    /// The row of one backend, if the configuration uses it.
    public func line(_ backend: Line.Backend) -> Line? { lines.first { $0.backend == backend } }

    static func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }

    /// ListSecrets: 10 names a filter, one call per chunk and region (one page assumed).
    static func listSecretsOperations(_ byRegion: [String: Int]) -> [Operation] {
        let secrets = byRegion.values.reduce(0, +)
        let calls = byRegion.values.reduce(0) { $0 + ceilDiv($1, 10) }
        guard calls > 0 else { return [] }
        return [Operation(api: "ListSecrets", callsPerPoll: calls,
                          detail: "\(secrets) secret\(secrets == 1 ? "" : "s"), 10 names a call\(byRegion.count > 1 ? ", per region" : ""), "
                              + "version ids only; a changed secret is then fetched once")]
    }

    /// BatchGetSecretValue: 20 ids a call per region; a lone secret uses GetSecretValue.
    static func batchGetOperations(_ byRegion: [String: Int]) -> [Operation] {
        let secrets = byRegion.values.reduce(0, +)
        var batches = 0, singles = 0
        for count in byRegion.values {
            batches += count / 20
            switch count % 20 {
            case 0: break
            case 1: singles += 1
            default: batches += 1
            }
        }
        var ops: [Operation] = []
        if batches > 0 {
            ops.append(Operation(api: "BatchGetSecretValue", callsPerPoll: batches,
                                 detail: "\(secrets) secrets, 20 ids a call\(byRegion.count > 1 ? ", per region" : "")"))
        }
        if singles > 0 {
            ops.append(Operation(api: "GetSecretValue", callsPerPoll: singles, detail: "a lone secret in its region is read directly"))
        }
        return ops
    }
}
