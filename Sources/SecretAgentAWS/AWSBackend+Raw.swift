import SecretAgentCore
import SecretTemplate

/// One read as the AWS agents' local protocol asks for it, answered with AWS's own JSON.
public enum AWSRawRequest: Hashable, Sendable {
    /// Secrets Manager `GetSecretValue`: a name or ARN, with an optional version id or stage.
    case secret(id: String, versionID: String?, stage: String?)
    /// SSM `GetParameter`: a name or ARN, an optional `version` number or `label`, decrypted or not.
    case parameter(name: String, selector: String?, decrypt: Bool)

    /// The agent's locator for the same read (for regions, logs and allow-lists).
    public var locator: Locator {
        switch self {
        case .secret(let id, let versionID, let stage): return .secretsManager(id: id, stage: stage, versionID: versionID)
        case .parameter(let name, let selector, _): return .ssm(name: name, selector: selector)
        }
    }

    /// True when the answer can never change: a version id, or an SSM version number.
    public var isPinned: Bool {
        switch self {
        case .secret(_, let versionID, _): return versionID != nil
        case .parameter(_, let selector, _): return selector.map { Int($0) != nil } ?? false
        }
    }
}

/// AWS's answer to a raw read: the response body exactly as AWS sent it, and the version it names.
public struct AWSRawAnswer: Sendable {
    /// The JSON body of `GetSecretValue` or `GetParameter`, byte for byte.
    public let body: [UInt8]
    /// `VersionId` (Secrets Manager) or `Version` (SSM).
    public let version: String?

    public init(body: [UInt8], version: String?) {
        self.body = body
        self.version = version
    }
}

extension AWSBackend {
    /// Calls `GetSecretValue` or `GetParameter` and returns AWS's answer unchanged. Errors are
    /// `AWSError`s with AWS's `code` and HTTP `status` (`ResourceNotFoundException`,
    /// `ParameterNotFound`, `AccessDeniedException` …), after the transport's retries.
    public func fetchRaw(_ request: AWSRawRequest) async throws -> AWSRawAnswer {
        let locator = request.locator
        let region = try await context.region(for: locator)
        let service: AWSService
        let operation: String
        var body: [String: Value]
        switch request {
        case .secret(let id, let versionID, let stage):
            service = .secretsManager
            operation = "GetSecretValue"
            body = ["SecretId": .string(id)]
            if let versionID { body["VersionId"] = .string(versionID) }
            if let stage { body["VersionStage"] = .string(stage) }
        case .parameter(let name, let selector, let decrypt):
            service = .ssm
            operation = "GetParameter"
            body = ["Name": .string(selector.map { "\(name):\($0)" } ?? name), "WithDecryption": .bool(decrypt)]
        }
        let bytes = try await context.callBytes(service, operation, region: region, body: .map(body), names: 1, subject: locator.text)
        guard case .map(let answer)? = try? JSON.parse(String(decoding: bytes, as: UTF8.self)) else {
            throw AWSError.unavailable("AWS \(service.signingName):\(operation) for \(locator.text) answered with something that is not JSON")
        }
        switch request {
        case .secret: return AWSRawAnswer(body: bytes, version: answer["VersionId"]?.awsString)
        case .parameter: return AWSRawAnswer(body: bytes, version: answer["Parameter"]?.awsField("Version")?.awsText)
        }
    }

    /// The poll of raw reads: which of `known` (each with the version last served) now name
    /// another version. Secrets Manager through `ListSecrets` (every stage's version, no value
    /// moved or decrypted; `GetSecretValue` per secret when ListSecrets is denied), SSM through
    /// `GetParameters` without decryption. Pinned reads are never asked about.
    public func changedRaw(_ known: [AWSRawRequest: String?]) async throws -> [AWSRawRequest] {
        var secrets: [String: [AWSRawRequest]] = [:]
        var parameters: [AWSRawRequest] = []
        for request in known.keys where !request.isPinned {
            switch request {
            case .secret: secrets[try await context.region(for: request.locator), default: []].append(request)
            case .parameter: parameters.append(request)
            }
        }
        var changed: [AWSRawRequest] = []
        for (region, group) in secrets {
            let sorted = group.sorted { $0.locator.text < $1.locator.text }
            for start in stride(from: 0, to: sorted.count, by: SecretsManagerProvider.listFilterSize) {
                let chunk = Array(sorted[start..<min(start + SecretsManagerProvider.listFilterSize, sorted.count)])
                let versions = try await stageVersions(chunk, region: region)
                changed += chunk.filter { versions[$0] != known[$0] ?? nil }
            }
        }
        // Parameters: one locator per (name, selector); decryption does not change the version.
        var byLocator: [Locator: [AWSRawRequest]] = [:]
        for request in parameters { byLocator[request.locator, default: []].append(request) }
        if !byLocator.isEmpty {
            let (batches, _, _) = try await ssm.grouped(Set(byLocator.keys))
            for (region, batch) in batches {
                for (locator, outcome) in try await ssm.getParameters(batch, region: region, decrypt: false) {
                    let version: String? = if case .found(let s) = outcome { s.version } else { nil }
                    changed += (byLocator[locator] ?? []).filter { version != known[$0] ?? nil }
                }
            }
        }
        return changed
    }

    /// The version each secret's stage (AWSCURRENT unless the request names one) points at now.
    private func stageVersions(_ chunk: [AWSRawRequest], region: String) async throws -> [AWSRawRequest: String] {
        if !secretsManager.listDenied.isSet {
            do {
                return try await listedStageVersions(chunk, region: region)
            } catch let error as AWSError where error.code == "AccessDeniedException" || error.code == "AccessDenied" {
                if !secretsManager.listDenied.set() {
                    secretsManager.logger.notice("ListSecrets is denied; polls fetch and compare values instead (allow secretsmanager:ListSecrets for cheaper polls)")
                }
            }
        }
        var out: [AWSRawRequest: String] = [:]
        for request in chunk {
            do {
                out[request] = try await fetchRaw(request).version
            } catch let error as AWSError where error.code == "ResourceNotFoundException" {
                continue
            }
        }
        return out
    }

    private func listedStageVersions(_ chunk: [AWSRawRequest], region: String) async throws -> [AWSRawRequest: String] {
        let ids = chunk.map { if case .secret(let id, _, _) = $0 { id } else { "" } }
        let prefixes = Array(Set(ids.map(SecretsManagerProvider.namePrefix))).sorted()
        var out: [AWSRawRequest: String] = [:]
        for secret in try await context.listSecrets(prefixes: prefixes, region: region, subject: AWSContext.subject(chunk.map(\.locator.text))) {
            for (request, id) in zip(chunk, ids) where SecretsManagerProvider.matches(id, name: secret.name, arn: secret.arn) {
                guard case .secret(_, _, let stage) = request else { continue }
                out[request] = secret.version(in: stage ?? "AWSCURRENT")
            }
        }
        return out
    }
}

extension AWSContext {
    /// Calls a JSON 1.1 operation and returns the answer's bytes unparsed.
    func callBytes(_ service: AWSService, _ operation: String, region: String, body: Value, names: Int, subject: String) async throws -> [UInt8] {
        let endpoint = try config.endpoint(for: service, region: region)
        let call = AWSCall.json(service, operation, region: region, endpoint: endpoint, body: body, names: names, subject: subject)
        return try await transport.send(call, signing: .chain(chain))
    }
}
