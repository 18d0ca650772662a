import SecretAgentCore
import SecretTemplate

extension SecretsManagerProvider {
    /// The poll. `ListSecrets` with a name filter (10 names a call, every page) returns each
    /// secret's `SecretVersionsToStages`, so the AWSCURRENT `VersionId` of every watched secret is
    /// learnt without moving or decrypting a single value, without a CloudTrail GetSecretValue
    /// entry per secret, and within DescribeSecret-class quotas; only secrets whose version
    /// changed are fetched (BatchGetSecretValue). That is ceil(M/10) calls a poll where
    /// BatchGetSecretValue would be ceil(M/20) — but every one of those would move and decrypt
    /// every value. When ListSecrets is denied, the poll falls back to fetching and comparing.
    func changes(since known: [Locator: FetchOutcome]) async throws -> [Locator: FetchOutcome] {
        if listDenied.isSet { return try await fetchAndCompare(known) }
        var byRegion: [String: [Locator]] = [:]
        for locator in known.keys {
            guard case .secretsManager = locator else { continue }
            byRegion[try await context.region(for: locator), default: []].append(locator)
        }
        var chunks: [(String, [Locator])] = []
        for (region, group) in byRegion {
            let sorted = group.sortedByText()
            for start in stride(from: 0, to: sorted.count, by: Self.listFilterSize) {
                chunks.append((region, Array(sorted[start..<min(start + Self.listFilterSize, sorted.count)])))
            }
        }
        let changed: [Locator]
        do {
            changed = try await withThrowingTaskGroup(of: [Locator].self) { group in
                for (region, chunk) in chunks {
                    group.addTask {
                        let current = try await self.currentVersions(chunk, region: region)
                        return chunk.filter { locator in
                            switch known[locator] {
                            case .found(let s)?: return current[locator] != s.version
                            case .notFound?: return current[locator] != nil
                            case nil: return true
                            }
                        }
                    }
                }
                var all: [Locator] = []
                for try await part in group { all += part }
                return all
            }
        } catch let error as AWSError where error.code == "AccessDeniedException" || error.code == "AccessDenied" {
            if !listDenied.set() {
                logger.notice("ListSecrets is denied; polls fetch and compare values instead (allow secretsmanager:ListSecrets for cheaper polls)")
            }
            return try await fetchAndCompare(known)
        }
        guard !changed.isEmpty else { return [:] }
        return try await fetch(changed)
    }

    static let listFilterSize = 10

    /// The AWSCURRENT version id of each locator's secret; absent when the secret is not listed.
    func currentVersions(_ chunk: [Locator], region: String) async throws -> [Locator: String] {
        let prefixes = Array(Set(chunk.map { Self.namePrefix(Self.secretID($0)) })).sorted()
        var out: [Locator: String] = [:]
        for secret in try await context.listSecrets(prefixes: prefixes, region: region, subject: AWSContext.subject(chunk.map(\.text))) {
            let current = secret.version(in: "AWSCURRENT")
            for locator in chunk where Self.matches(Self.secretID(locator), name: secret.name, arn: secret.arn) {
                out[locator] = current
            }
        }
        return out
    }

    /// The name (prefix) ListSecrets filters on: the id itself, or for an ARN the name part
    /// without the `-AbCdEf` suffix AWS appends (a shorter prefix still matches a partial ARN).
    static func namePrefix(_ id: String) -> String {
        guard id.hasPrefix("arn:"), let range = id.firstRange(of: ":secret:") else { return id }
        let name = String(id[range.upperBound...])
        if name.count > 7, name.dropLast(6).hasSuffix("-") { return String(name.dropLast(7)) }
        return name
    }

    private func fetchAndCompare(_ known: [Locator: FetchOutcome]) async throws -> [Locator: FetchOutcome] {
        let fresh = try await fetch(Array(known.keys))
        return fresh.filter { locator, outcome in !(known[locator].map(outcome.sameContent(as:)) ?? false) }
    }
}

/// One secret as ListSecrets lists it: its name, its ARN, and the stages each version carries.
struct ListedSecret {
    let name: String?
    let arn: String?
    let stages: [String: Value]

    /// The version id carrying `stage`, if one does.
    func version(in stage: String) -> String? {
        stages.first { _, list in list.awsList.contains { $0.awsString == stage } }?.key
    }
}

extension AWSContext {
    /// Every secret ListSecrets lists for a name filter of `prefixes`, every page (at most
    /// 1,000): the version polls of the provider and of the local API both read versions so.
    func listSecrets(prefixes: [String], region: String, subject: String) async throws -> [ListedSecret] {
        var out: [ListedSecret] = []
        var token: String?
        var pages = 0
        repeat {
            pages += 1
            var body: [String: Value] = [
                "Filters": .list([.map(["Key": .string("name"), "Values": .list(prefixes.map { .string($0) })])]),
                "MaxResults": .number("100"),
            ]
            if let token { body["NextToken"] = .string(token) }
            let answer = try await call(.secretsManager, "ListSecrets", region: region, body: .map(body), names: prefixes.count, subject: subject)
            for entry in answer.awsField("SecretList")?.awsList ?? [] {
                guard case .map(let stages)? = entry.awsField("SecretVersionsToStages") else { continue }
                out.append(ListedSecret(name: entry.awsField("Name")?.awsString, arn: entry.awsField("ARN")?.awsString, stages: stages))
            }
            token = answer.awsField("NextToken")?.awsString
        } while token?.isEmpty == false && pages < 1000
        return out
    }
}
