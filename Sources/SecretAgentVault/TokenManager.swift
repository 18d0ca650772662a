import Logging
import SecretAgentCore

/// What the token manager tells the lease manager (leases die with the token that obtained them).
enum TokenChange: Sendable, Hashable {
    /// A login replaced the token of `generation` (and every older one) with a new token. The
    /// leases issued under it end at `ends`: the old token's expiry, or the moment it was lost
    /// (rejected as expired or revoked, or its renewal refused).
    case replaced(generation: Int, ends: ContinuousClock.Instant)
}

/// Holds the agent's Vault token and keeps it alive, when its `TokenSchedule` says: `renew-self`
/// at about 2/3 of its TTL, and a new login when renewal no longer extends it (max TTL), is
/// refused (403) or the token is not renewable. With `token` auth "login" re-reads the token's
/// sources, so a token file rewritten by someone else is picked up; otherwise the agent keeps
/// failing loudly. Every new token is announced on the `TokenChange` stream it was given.
actor TokenManager {
    /// The current token and its generation (bumped by every new token).
    struct Handle: Sendable {
        let token: String
        let generation: Int
    }

    let auth: Authenticator
    let logger: Logger
    private let clock: any VaultClock
    private var current: AuthToken?
    private var generation = 0
    private var schedule: TokenSchedule
    private var pendingLogin: Task<AuthToken, any Error>?
    private var loop: Task<Void, Never>?
    private let changes: AsyncStream<TokenChange>.Continuation
    private var stopped = false
    /// The token file's stamp when last read (`TokenManager+File.swift`).
    var tokenFileStamp: FileStamp?

    /// The token in use, for comparisons (never logged).
    var currentToken: String? { current?.token }

    /// - Parameter changes: where new tokens are announced; finished by `shutdown()`.
    init(auth: Authenticator, logger: Logger, changes: AsyncStream<TokenChange>.Continuation,
         clock: any VaultClock = ContinuousClock(), jitter: Jitter = .random) {
        self.auth = auth
        self.logger = logger
        self.changes = changes
        self.clock = clock
        schedule = TokenSchedule(method: auth.method, jitter: jitter)
    }

    /// Time left on the current token; nil without one or for a token that does not expire.
    func timeLeft() -> Duration? {
        guard let current, current.ttl > .zero else { return nil }
        return max(.zero, current.obtained + current.ttl - clock.now)
    }

    /// For messages: the auth method and role behind the current token, and its policies.
    var describe: String {
        let policies = current.map { $0.policies.isEmpty ? "" : " with policies \($0.policies.joined(separator: ", "))" } ?? ""
        return auth.describe(role: current?.role) + policies
    }

    /// The token to use, logging in first if there is none.
    func token() async throws(VaultError) -> Handle {
        if current != nil { await refreshFromTokenFile(force: false) }
        if let current { return Handle(token: current.token, generation: generation) }
        return try await login(reason: "first use")
    }

    /// Logs in (if needed); the renewal loop starts with the first token.
    func start() async throws(VaultError) {
        _ = try await token()
    }

    func shutdown() {
        stopped = true
        loop?.cancel()
        loop = nil
        pendingLogin?.cancel()
        changes.finish()
    }

    /// A request made with `generation`'s token was denied: if the token itself is no longer
    /// valid, log in again. True when there is a new token worth retrying with.
    func rejected(generation rejected: Int) async -> Bool {
        if rejected != generation { return true }  // a newer token is already there
        await refreshFromTokenFile(force: true)
        if rejected != generation { return true }  // the token file held a new token
        guard let current,
              let check = try? await auth.client.send(.GET, "auth/token/lookup-self", token: current.token),
              check.status == 403 else {
            return false  // the token is fine: the policy denies the path
        }
        logger.warning("the Vault token was rejected (expired or revoked); logging in again")
        guard let handle = try? await login(reason: "token rejected", oldExpiry: clock.now) else { return false }
        return handle.generation != rejected
    }

    @discardableResult
    func login(reason: String, oldExpiry: ContinuousClock.Instant? = nil) async throws(VaultError) -> Handle {
        if let pending = pendingLogin {
            _ = try? await pending.value
            // The caller that started the login takes its token when it resumes; until it has,
            // wait for it rather than log in again (ten first reads made ten logins).
            while current == nil && pendingLogin == pending { await Task.yield() }
            if let current { return Handle(token: current.token, generation: generation) }
        }
        let auth = self.auth
        let task = Task { try await auth.login() }
        pendingLogin = task
        defer { pendingLogin = nil }
        let fresh: AuthToken
        do {
            fresh = try await task.value
        } catch let error as VaultError {
            throw error
        } catch {
            throw VaultError(.unavailable, "Vault login was interrupted")
        }
        let old = current
        current = fresh
        if let file = watchedTokenFile { tokenFileStamp = FileStamp(file) }
        schedule.loggedIn()
        if loop == nil && !stopped {
            loop = Task { [weak self] in await self?.run() }
        }
        if old?.token == fresh.token {
            return Handle(token: fresh.token, generation: generation)
        }
        let oldGeneration = generation
        generation += 1
        logger.info("logged in to Vault", metadata: [
            "address": "\(auth.client.address)", "auth": "\(auth.describe(role: fresh.role))", "reason": "\(reason)",
            "accessor": "\(fresh.accessor ?? "-")", "ttl": "\(fresh.ttl > .zero ? DurationParser.format(fresh.ttl) : "none")",
            "renewable": "\(fresh.renewable)",
        ])
        if let old {
            changes.yield(.replaced(generation: oldGeneration, ends: oldExpiry ?? old.expiry ?? clock.now))
        }
        return Handle(token: fresh.token, generation: generation)
    }

    private func run() async {
        while !Task.isCancelled && !stopped {
            guard let token = current, let step = schedule.next(token.lifetime, now: clock.now) else {
                logger.debug("the Vault token does not expire; no renewal needed")
                loop = nil  // a later login with an expiring token starts it again
                return
            }
            do { try await clock.sleep(until: step.at, tolerance: nil) } catch { return }
            if Task.isCancelled || stopped { return }
            guard current?.token == token.token else { continue }  // a new login happened meanwhile
            let ok = switch step.action {
            case .renew: await renewOnce(token)
            case .login: await reloginOnce(reason: "the token cannot be renewed further")
            }
            schedule.finished(ok: ok)
        }
    }

    /// True when the token is good for a while longer (renewed, or replaced by a new login).
    private func renewOnce(_ token: AuthToken) async -> Bool {
        let increment = token.increment > .zero ? token.increment : token.ttl
        let response: VaultResponse
        do {
            response = try await auth.client.send(.POST, "auth/token/renew-self", body: .map(["increment": .string("\(Int(increment.seconds.rounded()))s")]), token: token.token)
        } catch {
            logger.warning("Vault token renewal failed; retrying", metadata: ["error": "\(error.description)"])
            return false
        }
        if response.isSuccess, let a = response.body?["auth"], let seconds = a["lease_duration"]?.intValue {
            let ttl = Duration.seconds(seconds)
            current?.ttl = ttl
            current?.obtained = clock.now
            current?.renewable = a["renewable"]?.boolValue ?? token.renewable
            let metadata: Logger.Metadata = ["ttl": "\(DurationParser.format(ttl))", "accessor": "\(token.accessor ?? "-")"]
            if !schedule.renewed(ttl: ttl, increment: increment) {
                logger.debug("Vault token renewed", metadata: metadata)
            } else if auth.method == .token {
                logger.debug("Vault token renewed; max TTL reached", metadata: metadata)
            } else {
                logger.debug("Vault token renewed; max TTL reached, will log in again", metadata: metadata)
            }
            return ttl > .zero
        }
        if let failure = VaultErrors.common(response, client: auth.client) {
            logger.warning("Vault token renewal failed; retrying", metadata: ["error": "\(failure.message)"])
            return false
        }
        logger.info("Vault token renewal refused; logging in again", metadata: ["status": "\(response.status)"])
        schedule.refused()
        return await reloginOnce(reason: "renewal refused", oldExpiry: response.status == 403 ? clock.now : nil)
    }

    private func reloginOnce(reason: String, oldExpiry: ContinuousClock.Instant? = nil) async -> Bool {
        do {
            let before = generation
            try await login(reason: reason, oldExpiry: oldExpiry)
            if auth.method == .token && generation == before, let token = current {
                let left = token.expiry.map { DurationParser.format(max(.zero, $0 - clock.now)) } ?? "never"
                logger.warning("the Vault token cannot be renewed; supply a new token (VAULT_TOKEN, token_file) or use another auth method",
                               metadata: ["expires_in": "\(left)"])
                return false
            }
            return true
        } catch {
            logger.error("Vault login failed", metadata: ["error": "\(error.message)"])
            return false
        }
    }
}

extension AuthToken {
    /// What the schedule needs to know of the token (never the token itself).
    var lifetime: TokenSchedule.Lifetime {
        TokenSchedule.Lifetime(obtained: obtained, ttl: ttl, renewable: renewable)
    }
}
