import NIOHTTP1
import SecretAgentCore
import SecretTemplate

/// A secrets engine mount, as `sys/internal/ui/mounts/<path>` describes it.
struct MountInfo: Sendable, Equatable {
    /// The mount path with a trailing slash (`secret/`).
    let path: String
    /// 1 or 2 for a KV mount, nil for any other engine.
    let kvVersion: Int?
}

/// Mount lookups, done once per mount: concurrent lookups of paths that start alike wait for
/// the first one, then reuse what it learned.
actor MountCache {
    private var mounts: [MountInfo] = []
    private var pending: [String: Task<Void, Never>] = [:]

    func cached(_ path: String) -> MountInfo? {
        let slashed = path + "/"
        return mounts.filter { slashed.hasPrefix($0.path) }.max { $0.path.count < $1.path.count }
    }

    func mount(for path: String, lookup: @escaping @Sendable () async throws -> MountInfo?) async throws -> MountInfo? {
        if let hit = cached(path) { return hit }
        let key = String(path.split(separator: "/").first ?? "")
        if let waiting = pending[key] {
            await waiting.value
            if let hit = cached(path) { return hit }
        }
        let task = Task<Result<MountInfo?, any Error>, Never> {
            do { return .success(try await lookup()) } catch { return .failure(error) }
        }
        pending[key] = Task { _ = await task.value }
        defer { pending[key] = nil }
        let found = try await task.value.get()
        if let found, !mounts.contains(found) { mounts.append(found) }
        return found
    }
}

/// What one read produced.
enum ReadResult: Sendable {
    case found(Secret)
    case notFound
    /// 403 for this request path (the token may have expired, or the policy denies it).
    case denied(requestPath: String)
}

/// Reads `vault:` locators: KV v1/v2 (the `/data/` segment inserted as `vault kv get` does) and
/// any other path (GET, or a POST of the parameters when there are any).
struct SecretReader: Sendable {
    let client: VaultClient
    let mounts: MountCache

    func read(_ locator: Locator, token: String) async throws(VaultError) -> ReadResult {
        guard case .vault(let path, let version, let parameters) = locator else {
            throw VaultError(.data, "\(locator.text) is not a vault: reference")
        }
        let mount: MountInfo?
        do {
            mount = try await mounts.mount(for: path) { try await lookupMount(path, token: token) }
        } catch let error as VaultError {
            throw error
        } catch {
            throw VaultError(.unavailable, "looking up the Vault mount of \(path) was interrupted")
        }
        if let kv = mount?.kvVersion, let mount {
            guard parameters.isEmpty else {
                throw VaultError(.data, "\(locator.text) names a KV mount (\(mount.path)); KV references take no parameters other than ?version=")
            }
            if kv == 2 {
                return try await readKV2(locator, mount: mount, path: path, version: version, token: token)
            }
            guard version == nil else {
                throw VaultError(.data, "\(locator.text) pins a version, but \(mount.path) is a KV version 1 mount, which has no versions")
            }
        } else if version != nil {
            throw VaultError(.data, "\(locator.text) pins a version, but \(path) is not on a KV version 2 mount")
        }
        return try await readGeneric(locator, path: path, parameters: parameters, token: token)
    }

    private func lookupMount(_ path: String, token: String) async throws(VaultError) -> MountInfo? {
        let response = try await client.send(.GET, "sys/internal/ui/mounts/" + path, token: token)
        if let failure = VaultErrors.common(response, client: client, path: path) { throw failure }
        guard response.isSuccess, let data = response.data, let mountPath = data["path"]?.stringValue else {
            return nil  // 403: no visible mount; the read itself will tell
        }
        let type = data["type"]?.stringValue ?? ""
        let kv: Int? = (type == "kv" || type == "generic") ? (data["options"]?["version"]?.intValue ?? 1) : nil
        return MountInfo(path: mountPath.hasSuffix("/") ? mountPath : mountPath + "/", kvVersion: kv)
    }

    private func readKV2(_ locator: Locator, mount: MountInfo, path: String, version: Int?, token: String) async throws(VaultError) -> ReadResult {
        let suffix = (path + "/").hasPrefix(mount.path) ? String(path.dropFirst(min(path.count, mount.path.count))) : path
        let requestPath = mount.path + "data/" + suffix
        let query = version.map { [("version", String($0))] } ?? []
        let response = try await client.send(.GET, requestPath, query: query, token: token)
        if let outcome = try interpret(response, locator: locator, requestPath: requestPath, token: token) { return outcome }
        guard let data = response.data, let metadata = data["metadata"] else {
            throw VaultError(.request, "Vault answered \(locator.text) without data; is \(mount.path) really a KV v2 mount?")
        }
        let deleted = !(metadata["deletion_time"]?.stringValue ?? "").isEmpty || metadata["destroyed"]?.boolValue == true
        guard !deleted, let value = data["data"], !value.isNull else { return .notFound }
        return .found(Secret(value: value, version: metadata["version"]?.stringValue))
    }

    private func readGeneric(_ locator: Locator, path: String, parameters: [String: String], token: String) async throws(VaultError) -> ReadResult {
        let body: Value? = parameters.isEmpty ? nil : .map(parameters.mapValues { .string($0) })
        let response = try await client.send(parameters.isEmpty ? .GET : .POST, path, body: body, token: token)
        if let outcome = try interpret(response, locator: locator, requestPath: path, token: token) { return outcome }
        guard let data = response.data, !data.isNull else {
            throw VaultError(.request, "Vault answered \(locator.text) with no data (HTTP \(response.status)); is this a path that returns a secret?")
        }
        var lease: Lease?
        if let id = response.body?["lease_id"]?.stringValue, !id.isEmpty,
           let seconds = response.body?["lease_duration"]?.intValue, seconds > 0 {
            lease = Lease(id: id, duration: .seconds(seconds), renewable: response.body?["renewable"]?.boolValue ?? false)
        }
        return .found(Secret(value: data, version: nil, lease: lease))
    }

    /// Nil for a 2xx answer; a result or an error for the rest (with the server's text for a 4xx,
    /// the token removed from it).
    private func interpret(_ response: VaultResponse, locator: Locator, requestPath: String, token: String) throws(VaultError) -> ReadResult? {
        if response.isSuccess { return nil }
        if let failure = VaultErrors.common(response, client: client, path: locator.text) { throw failure }
        switch response.status {
        case 404: return .notFound
        case 403: return .denied(requestPath: requestPath)
        default:
            throw VaultError(.request, "Vault refused \(locator.text) (HTTP \(response.status) for \(requestPath)): \(Redactor(secrets: [token]).clean(response.errors))")
        }
    }
}
