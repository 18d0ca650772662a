import SecretAgentCore
import SecretTemplate

/// SSM Parameter Store: `ssm:` (GetParameters, 10 names a call, decrypted) and `ssm-path:`
/// (GetParametersByPath, recursive, every page).
final class SSMProvider: SecretProvider {
    let schemes: Set<Scheme> = [.ssm, .ssmPath]
    let name = "aws-ssm"
    let context: AWSContext
    static let batchSize = 10
    /// Errors GetParameters gives for a `:version` or `:label` that does not exist.
    static let missingVersion: Set<String> = ["ParameterVersionNotFound", "ParameterNotFound", "ParameterVersionLabelNotFound"]

    init(context: AWSContext) {
        self.context = context
    }

    /// ARNs whose region is not a region name are refused before anything is sent (exit 65).
    func validate(_ locators: [Locator]) throws {
        try ARN.validate(locators)
    }

    /// How both the fetch and the poll call SSM: parameters in batches of ten per region, paths
    /// (GetParametersByPath) in the default region.
    func grouped(_ locators: Set<Locator>) async throws -> (batches: [(String, [Locator])], paths: [Locator], pathRegion: String) {
        var byRegion: [String: [Locator]] = [:]
        var paths: [Locator] = []
        for locator in locators {
            switch locator {
            case .ssm: byRegion[try await context.region(for: locator), default: []].append(locator)
            case .ssmPath: paths.append(locator)
            default: continue
            }
        }
        let batches = byRegion.flatMap { region, group in Self.batches(group).map { (region, $0) } }
        let pathRegion = paths.isEmpty ? "" : try await context.regions.region()
        return (batches, paths, pathRegion)
    }

    func fetch(_ locators: [Locator]) async throws -> [Locator: FetchOutcome] {
        let (batches, paths, pathRegion) = try await grouped(Set(locators))
        // Each batch on its own: one throttled batch leaves the others' values (PartialFetchFailure).
        return try await BatchFetch.run(
            batches.map { region, batch in BatchFetch.Batch(covers: batch) { try await self.getParameters(batch, region: region) } }
            + paths.map { path in BatchFetch.Batch(covers: [path]) { [(path, try await self.getParametersByPath(path, region: pathRegion))] } })
    }

    /// Groups of at most 10 in which no parameter appears twice: the answer names parameters
    /// without their `:version`/`:label` selector, so two selectors of one parameter (or a
    /// selector and the plain name) must not share a call.
    static func batches(_ locators: [Locator]) -> [[Locator]] {
        var batches: [[Locator]] = []
        var keys: [Set<String>] = []
        for locator in locators.sortedByText() {
            guard case .ssm(let name, _) = locator else { continue }
            let key = parameterKey(name)
            if let i = batches.indices.first(where: { batches[$0].count < batchSize && !keys[$0].contains(key) }) {
                batches[i].append(locator)
                keys[i].insert(key)
            } else {
                batches.append([locator])
                keys.append([key])
            }
        }
        return batches
    }

    /// A parameter's identity in an answer: the name without leading `/`, from a name or an ARN.
    static func parameterKey(_ name: String) -> String {
        var bare = Substring(name)
        if name.hasPrefix("arn:"), let range = name.firstRange(of: ":parameter") {
            bare = name[range.upperBound...]
        }
        while bare.hasPrefix("/") { bare = bare.dropFirst() }
        return String(bare)
    }

    /// GetParameters for one batch; without `decrypt` only names and versions are trustworthy
    /// (a poll: SecureString values are not decrypted, so KMS is not called).
    func getParameters(_ batch: [Locator], region: String, decrypt: Bool = true) async throws -> [(Locator, FetchOutcome)] {
        let names: [String] = batch.compactMap {
            guard case .ssm(let name, let selector) = $0 else { return nil }
            return selector.map { "\(name):\($0)" } ?? name
        }
        let answer: Value
        do {
            answer = try await context.call(.ssm, "GetParameters", region: region,
                                            body: .map(["Names": .list(names.map { .string($0) }), "WithDecryption": .bool(decrypt)]),
                                            names: names.count, subject: AWSContext.subject(batch.map(\.text)))
        } catch let error as AWSError where Self.missingVersion.contains(error.code ?? "") {
            // A version or label that does not exist fails the whole call: find which one.
            guard batch.count > 1 else { return [(batch[0], .notFound)] }
            var out: [(Locator, FetchOutcome)] = []
            for locator in batch { out += try await getParameters([locator], region: region, decrypt: decrypt) }
            return out
        }
        var found: [String: Secret] = [:]
        for parameter in answer.awsField("Parameters")?.awsList ?? [] {
            guard let name = parameter.awsField("Name")?.awsString, let value = parameter.awsField("Value")?.awsString else { continue }
            found[Self.parameterKey(name)] = Secret(value: .string(value), version: parameter.awsField("Version")?.awsText)
        }
        return batch.map { locator in
            guard case .ssm(let name, _) = locator, let secret = found[Self.parameterKey(name)] else { return (locator, .notFound) }
            return (locator, .found(secret))
        }
    }

    /// Every parameter under the path, as a map from the name relative to the path to the value;
    /// the version is a digest of the names and versions, so it changes when any of them does.
    func getParametersByPath(_ locator: Locator, region: String, decrypt: Bool = true) async throws -> FetchOutcome {
        guard case .ssmPath(var path) = locator else { return .notFound }
        if path.count > 1, path.hasSuffix("/") { path.removeLast() }
        let prefix = path == "/" ? "/" : path + "/"
        var values: [String: Value] = [:]
        var versions: [String] = []
        var token: String?
        var pages = 0
        repeat {
            pages += 1
            var body: [String: Value] = ["Path": .string(path), "Recursive": .bool(true), "WithDecryption": .bool(decrypt),
                                         "MaxResults": .number("10")]
            if let token { body["NextToken"] = .string(token) }
            let answer = try await context.call(.ssm, "GetParametersByPath", region: region, body: .map(body), names: 1, subject: locator.text)
            for parameter in answer.awsField("Parameters")?.awsList ?? [] {
                guard let name = parameter.awsField("Name")?.awsString, let value = parameter.awsField("Value")?.awsString else { continue }
                let relative = name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name
                values[relative] = .string(value)
                versions.append("\(name)\u{0}\(parameter.awsField("Version")?.awsText ?? "")")
            }
            token = answer.awsField("NextToken")?.awsString
            if token?.isEmpty == true { token = nil }
        } while token != nil && pages < 10_000
        guard !values.isEmpty else { return .notFound }
        let digest = SHA256.hash(Array(versions.sorted().joined(separator: "\n").utf8))
        return .found(Secret(value: .map(values), version: "\(values.count)-" + SigV4.hex(digest).prefix(16)))
    }
}
