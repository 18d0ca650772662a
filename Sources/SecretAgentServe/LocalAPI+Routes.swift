import NIOCore
import NIOHTTP1
import SecretAgentAWS
import SecretAgentCore
import SecretAgentOps
import SecretTemplate

extension LocalAPI {
    /// What to do with a request: an answer now (a refusal, a malformed request, a cached
    /// answer), or a fetch.
    enum Decision {
        case reply(HTTPListener.Reply)
        case fetch(CacheKey, refreshNow: Bool)
    }

    /// Method, token, X-Forwarded-For, route, allow-list (none of which reaches a backend when it
    /// refuses), then the cache. Never waits: this runs on the connection's event loop.
    func decide(_ request: HTTPListener.Request) -> Decision {
        guard request.method == .GET else {
            metrics.refuse(.method)
            return .reply(ErrorReply.method)
        }
        guard tokenMatches(request.headers) else {
            metrics.refuse(.token)
            logger.debug("local API request refused: missing or wrong token")
            return .reply(ErrorReply.missingToken)
        }
        guard !request.headers.contains(name: "x-forwarded-for") else {
            metrics.refuse(.forwarded)
            logger.debug("local API request refused: X-Forwarded-For")
            return .reply(ErrorReply.forwarded)
        }
        let target = RequestTarget(request.uri)
        let key: CacheKey
        switch route(target) {
        case .failure(let refusal): return .reply(refusal.reply)
        case .success(let k): key = k
        }
        let allowed: Bool? = sources.withLock { sources in
            guard let sources else { return nil }
            switch key {
            case .aws(let raw): return sources.allow.allows(raw)
            case .reference(let reference): return sources.allow.allows(reference.locator)
            }
        }
        guard let allowed else { return .reply(ErrorReply.starting) }
        guard allowed else {
            metrics.refuse(.allowList)
            logger.notice("local API request refused: not on the allow-list", metadata: ["reference": "\(key.text)"])
            return .reply(ErrorReply.notAllowed)
        }
        let refreshNow = target.refreshNow
        if !refreshNow, let entry = cache.hit(key) {
            metrics.hit()
            logger.trace("local API hit", metadata: ["reference": "\(key.text)"])
            return .reply(reply(entry))
        }
        return .fetch(key, refreshNow: refreshNow)
    }

    /// The listener's fast path: everything but a fetch is answered on the event loop.
    func respondAtOnce(_ request: HTTPListener.Request) -> HTTPListener.Reply? {
        if case .reply(let reply) = decide(request) { return reply }
        return nil
    }

    /// One request, fetching when it must.
    func respond(_ request: HTTPListener.Request) async -> HTTPListener.Reply {
        switch decide(request) {
        case .reply(let reply): return reply
        case .fetch(let key, let refreshNow): return await answer(key, refreshNow: refreshNow)
        }
    }

    func tokenMatches(_ headers: HTTPHeaders) -> Bool {
        for name in AccessToken.headers {
            if let given = headers.first(name: name) { return token.matches(given) }
        }
        return false
    }

    /// The cache key a request names, or the error answer for a malformed one.
    func route(_ target: RequestTarget) -> Result<CacheKey, ReplyError> {
        switch target.path {
        case "/secretsmanager/get":
            guard let id = target.value("secretId"), !id.isEmpty else {
                return .failure(ReplyError(ErrorReply.badRequest("secretId is required")))
            }
            return secretKey(id, target)
        case "/systemsmanager/parameters/get":
            guard let name = target.value("name"), !name.isEmpty else {
                return .failure(ReplyError(ErrorReply.badRequest("name is required")))
            }
            let version = target.value("version"), label = target.value("label")
            if version != nil && label != nil {
                return .failure(ReplyError(ErrorReply.badRequest("give version or label, not both")))
            }
            if let version, Int(version) == nil {
                return .failure(ReplyError(ErrorReply.badRequest("version must be a number")))
            }
            let decrypt = target.value("withDecryption")?.lowercased() == "true"
            return .success(.aws(.parameter(name: name, selector: version ?? label, decrypt: decrypt)))
        case "/v1/ref" where target.value("ref") != nil:
            do {
                return .success(.reference(try Reference.parse(target.value("ref") ?? "")))
            } catch {
                return .failure(ReplyError(ErrorReply.badRequest("ref: \(error.description)")))
            }
        default:
            guard target.path.hasPrefix("/v1/"), target.path.count > 4,
                  let id = RequestTarget.decode(target.path.dropFirst(4)) else {
                return .failure(ReplyError(ErrorReply.notFound(route: String(target.path.prefix(100)))))
            }
            return secretKey(id, target)
        }
    }

    private func secretKey(_ id: String, _ target: RequestTarget) -> Result<CacheKey, ReplyError> {
        let versionID = target.value("versionId"), stage = target.value("versionStage")
        if versionID?.isEmpty == true || stage?.isEmpty == true {
            return .failure(ReplyError(ErrorReply.badRequest("versionId and versionStage must not be empty")))
        }
        return .success(.aws(.secret(id: id, versionID: versionID, stage: stage)))
    }

    /// Fetched (shared with concurrent requests for the same key); for `refreshNow`, the cached
    /// answer when the key was refreshed less than `refresh_now_interval` ago.
    func answer(_ key: CacheKey, refreshNow: Bool) async -> HTTPListener.Reply {
        if refreshNow, let entry = cache.recentlyForced(key) {
            metrics.hit()
            return reply(entry)
        }
        let fetcher = fetcher(for: key)
        do {
            let (entry, started) = try await cache.load(key, fetch: fetcher)
            if refreshNow { metrics.refresh() } else { metrics.miss() }
            if started {
                logger.debug(refreshNow ? "local API refreshed" : "local API fetched",
                             metadata: ["reference": "\(key.text)", "version": "\(entry.version ?? "-")"])
            }
            return reply(entry)
        } catch let notFound as ReferenceNotFound {
            return ErrorReply.referenceNotFound(notFound.reference)
        } catch let error as TemplateError {
            return ErrorReply.badRequest(error.description)
        } catch {
            logger.warning("local API fetch failed", metadata: [
                "reference": "\(key.text)", "error": "\((error as? any AgentFailure)?.description ?? "\(type(of: error))")",
            ])
            return ErrorReply.failure(error, key: key)
        }
    }
}

/// A route's refusal, carried through `Result`.
struct ReplyError: Error {
    let reply: HTTPListener.Reply
    init(_ reply: HTTPListener.Reply) { self.reply = reply }
}

/// `/v1/ref` for a reference that is not there (or a field it lacks).
struct ReferenceNotFound: Error {
    let reference: Reference
}
