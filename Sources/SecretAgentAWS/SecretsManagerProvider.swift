import Logging
import SecretAgentCore
import SecretTemplate
import Synchronization

/// Secrets Manager: `sm:` references.
///
/// AWSCURRENT reads go through BatchGetSecretValue, 20 ids a call (one call instead of 20;
/// Secrets Manager bills API calls, and a poll of many secrets stays within the 100 TPS quota).
/// When the identity may not call BatchGetSecretValue, the provider remembers that and uses
/// GetSecretValue per secret. Other stages and version ids use GetSecretValue.
final class SecretsManagerProvider: SecretProvider {
    let schemes: Set<Scheme> = [.sm]
    let name = "aws-secretsmanager"
    let context: AWSContext
    let logger: Logger
    private let batchDenied = Flag()
    let listDenied = Flag()
    static let batchSize = 20

    init(context: AWSContext, logger: Logger) {
        self.context = context
        self.logger = logger
    }

    /// ARNs whose region is not a region name are refused before anything is sent (exit 65).
    func validate(_ locators: [Locator]) throws {
        try ARN.validate(locators)
    }

    func fetch(_ locators: [Locator]) async throws -> [Locator: FetchOutcome] {
        var current: [String: [Locator]] = [:]
        var single: [(Locator, String)] = []
        for locator in Set(locators) {
            guard case .secretsManager(_, let stage, let versionID) = locator else { continue }
            let region = try await context.region(for: locator)
            if versionID == nil && (stage == nil || stage == "AWSCURRENT") {
                current[region, default: []].append(locator)
            } else {
                single.append((locator, region))
            }
        }
        var chunks: [(String, [Locator])] = []
        for (region, group) in current {
            let sorted = group.sortedByText()
            for start in stride(from: 0, to: sorted.count, by: Self.batchSize) {
                chunks.append((region, Array(sorted[start..<min(start + Self.batchSize, sorted.count)])))
            }
        }
        // Each batch on its own: one throttled batch leaves the others' values (PartialFetchFailure).
        return try await BatchFetch.run(
            chunks.map { region, chunk in BatchFetch.Batch(covers: chunk) { try await self.batchGet(chunk, region: region) } }
            + single.map { locator, region in BatchFetch.Batch(covers: [locator]) { [(locator, try await self.getSecretValue(locator, region: region))] } })
    }

    private func batchGet(_ chunk: [Locator], region: String) async throws -> [(Locator, FetchOutcome)] {
        if batchDenied.isSet || chunk.count == 1 { return try await individually(chunk, region: region) }
        var seen = Set<String>()
        let ids = chunk.map(Self.secretID).filter { seen.insert($0).inserted }
        var entries: [Value] = []
        var errors: [Value] = []
        var token: String?
        do {
            repeat {
                var body: [String: Value] = ["SecretIdList": .list(ids.map { .string($0) })]
                if let token { body["NextToken"] = .string(token) }
                let answer = try await context.call(.secretsManager, "BatchGetSecretValue", region: region, body: .map(body),
                                                    names: ids.count, subject: AWSContext.subject(chunk.map(\.text)))
                entries += answer.awsField("SecretValues")?.awsList ?? []
                errors += answer.awsField("Errors")?.awsList ?? []
                token = answer.awsField("NextToken")?.awsString
            } while token?.isEmpty == false
        } catch let error as AWSError where error.code == "AccessDeniedException" || error.code == "AccessDenied" {
            if !batchDenied.set() {
                logger.notice("BatchGetSecretValue is denied; reading secrets one GetSecretValue call each (allow secretsmanager:BatchGetSecretValue to batch)")
            }
            return try await individually(chunk, region: region)
        }
        var out: [Locator: FetchOutcome] = [:]
        for entry in entries {
            let name = entry.awsField("Name")?.awsString, arn = entry.awsField("ARN")?.awsString
            for locator in chunk where Self.matches(Self.secretID(locator), name: name, arn: arn) {
                out[locator] = .found(try Self.secret(from: entry, locator: locator))
            }
        }
        for entry in errors {
            let id = entry.awsField("SecretId")?.awsString
            let code = entry.awsField("ErrorCode")?.awsString ?? "error"
            for locator in chunk where out[locator] == nil && (id == Self.secretID(locator)) {
                guard code != "ResourceNotFoundException" else { out[locator] = .notFound; continue }
                let identity = (try? await context.chain.credentials().identity) ?? "the agent's identity"
                let message = AWSFault.clean(entry.awsField("Message")?.awsString ?? "")
                let action = "secretsmanager:GetSecretValue"
                let text = "AWS refused \(action) on \(locator.text) for \(identity): \(code)\(message.isEmpty ? "" : " (\(message))")"
                if AWSErrorCodes.auth.contains(code) {
                    throw AWSError.denied("\(text); \(AWSErrorCodes.advice(for: code, action: action))", code: code)
                }
                throw AWSError.failed(text, code: code)
            }
        }
        let missing = chunk.filter { out[$0] == nil }
        return chunk.compactMap { l in out[l].map { (l, $0) } } + (missing.isEmpty ? [] : try await individually(missing, region: region))
    }

    private func individually(_ locators: [Locator], region: String) async throws -> [(Locator, FetchOutcome)] {
        try await withThrowingTaskGroup(of: (Locator, FetchOutcome).self) { group in
            for locator in locators {
                group.addTask { (locator, try await self.getSecretValue(locator, region: region)) }
            }
            var out: [(Locator, FetchOutcome)] = []
            for try await result in group { out.append(result) }
            return out
        }
    }

    private func getSecretValue(_ locator: Locator, region: String) async throws -> FetchOutcome {
        guard case .secretsManager(let id, let stage, let versionID) = locator else { return .notFound }
        var body: [String: Value] = ["SecretId": .string(id)]
        if let stage { body["VersionStage"] = .string(stage) }
        if let versionID { body["VersionId"] = .string(versionID) }
        do {
            let answer = try await context.call(.secretsManager, "GetSecretValue", region: region, body: .map(body), names: 1, subject: locator.text)
            return .found(try Self.secret(from: answer, locator: locator))
        } catch let error as AWSError where error.code == "ResourceNotFoundException" {
            return .notFound
        }
    }

    /// The secret id as AWS takes it (a name, a full or a partial ARN).
    static func secretID(_ locator: Locator) -> String {
        if case .secretsManager(let id, _, _) = locator { return id }
        return ""
    }

    /// True when an answer's name or ARN is the requested id (a partial ARN lacks the `-AbCdEf` suffix).
    static func matches(_ id: String, name: String?, arn: String?) -> Bool {
        if id == name || id == arn { return true }
        guard let arn, id.hasPrefix("arn:") else { return false }
        return arn.hasPrefix(id + "-") && arn.count == id.count + 7
    }

    /// `SecretString` as its UTF-8 bytes, `SecretBinary` (base64) decoded; `VersionId` as the version.
    static func secret(from entry: Value, locator: Locator) throws -> Secret {
        let version = entry.awsField("VersionId")?.awsString
        if let string = entry.awsField("SecretString")?.awsString {
            return Secret(value: Value(bytes: Array(string.utf8)), version: version)
        }
        if let encoded = entry.awsField("SecretBinary")?.awsString {
            guard let bytes = Base64.decode(Array(encoded.utf8)) else {
                throw AWSError.failed("Secrets Manager answered \(locator.text) with SecretBinary that is not base64")
            }
            return Secret(value: Value(bytes: bytes), version: version)
        }
        throw AWSError.failed("Secrets Manager answered \(locator.text) without SecretString or SecretBinary")
    }
}

/// A flag set once, shared between tasks.
final class Flag: Sendable {
    private let value = Mutex(false)

    var isSet: Bool { value.withLock { $0 } }

    /// Sets the flag; returns whether it was already set.
    func set() -> Bool {
        value.withLock { value in
            let was = value
            value = true
            return was
        }
    }
}
