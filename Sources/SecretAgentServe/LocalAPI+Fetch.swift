import NIOCore
import SecretAgentAWS
import SecretAgentCore
import SecretAgentOps
import SecretTemplate

extension LocalAPI {
    /// A cached answer as the listener sends it (the bytes are shared, not copied).
    func reply(_ entry: CacheEntry) -> HTTPListener.Reply {
        HTTPListener.Reply(status: 200, contentType: entry.contentType, body: entry.body, headers: entry.headers)
    }

    /// How a key is fetched, from the sources of the moment.
    func fetcher(for key: CacheKey) -> @Sendable () async throws -> CacheEntry {
        guard let sources = self.sources.withLock({ $0 }) else { return { throw ServeError.unavailable("the agent is starting") } }
        switch key {
        case .aws(let request):
            return {
                guard let aws = sources.aws else {
                    throw ServeError.config("no AWS backend is configured for \(request.locator.text)")
                }
                return Self.entry(try await aws.fetchRaw(request))
            }
        case .reference(let reference):
            return {
                let outcomes = try await sources.providers.fetch([reference.locator])
                return try Self.entry(reference, outcomes[reference.locator] ?? .notFound)
            }
        }
    }

    /// AWS's JSON, as AWS sent it.
    static func entry(_ answer: AWSRawAnswer) -> CacheEntry {
        CacheEntry(body: ByteBuffer(bytes: answer.body), contentType: "application/x-amz-json-1.1", version: answer.version,
                   outcome: nil, headers: [])
    }

    /// The value a reference selects: text as it is, bytes as octets, maps and lists as JSON;
    /// the version in `X-Secret-Agent-Version`.
    static func entry(_ reference: Reference, _ outcome: FetchOutcome) throws -> CacheEntry {
        guard case .found(let secret) = outcome, let value = try reference.select(from: secret.value) else {
            throw ReferenceNotFound(reference: reference)
        }
        let contentType: String
        switch value {
        case .map, .list: contentType = "application/json"
        case .bytes: contentType = "application/octet-stream"
        default: contentType = "text/plain; charset=utf-8"
        }
        return CacheEntry(body: ByteBuffer(bytes: value.renderedBytes), contentType: contentType, version: secret.version,
                          outcome: outcome, headers: secret.version.map { [(versionHeader, $0)] } ?? [])
    }

    /// The response header of `/v1/ref` that carries the backend's version.
    public static let versionHeader = "X-Secret-Agent-Version"
}

