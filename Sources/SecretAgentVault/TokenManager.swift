import Logging
import SecretAgentCore

/// Holds the agent's Vault token and keeps it alive: `renew-self` at about 2/3 of its TTL, and a
/// new login when renewal no longer extends it (max TTL), is refused (403) or the token is not
/// renewable. With `token` auth "login" re-reads the token's sources, so a token file rewritten by
/// someone else is picked up; otherwise the agent keeps failing loudly.
actor TokenManager {
    /// The current token and its generation (bumped by every new token).
    struct Handle: Sendable {
        let token: String
        let generation: Int
    }

    let auth: Authenticator
    private let logger: Logger
    private var current: AuthToken?
    private var generation = 0
    /// Renewal stopped extending the TTL (max TTL reached): log in again instead.
    private var capped = false
    private var pendingLogin: Task<AuthToken, any Error>?
    private var loop: Task<Void, Never>?
    private let relay: LeaseRelay
    private var stopped = false

    init(auth: Authenticator, logger: Logger, relay: LeaseRelay) {
        self.auth = auth
        self.logger = logger
        self.relay = relay
    }

    /// For messages: the auth method and role behind the current token, and its policies.
    /// Time left on the current token; nil without one or for a token that does not expire.
    func timeLeft(now: ContinuousClock.Instant = .now) -> Duration? {
        guard let current, current.ttl > .zero else { return nil }
        return max(.zero, current.obtained + current.ttl - now)
    }

    var describe: String {
        let policies = current.map { $0.policies.isEmpty ? "" : " with policies \($0.policies.joined(separator: ", "))" } ?? ""
        return auth.describe(role: current?.role) + policies
    }

    /// The token to use, logging in first if there is none.
    func token() async throws(VaultError) -> Handle {
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
    }

    /// A request made with `generation`'s token was denied: if the token itself is no longer
    /// valid, log in again. True when there is a new token worth retrying with.
    func rejected(generation rejected: Int) async -> Bool {
        if rejected != generation { return true }  // a newer token is already there
        guard let current,
              let check = try? await auth.client.send(.GET, "auth/token/lookup-self", token: current.token),
              check.status == 403 else {
            return false  // the token is fine: the policy denies the path
        }
        logger.warning("the Vault token was rejected (expired or revoked); logging in again")
        guard let handle = try? await login(reason: "token rejected", oldExpiry: .now) else { return false }
        return handle.generation != rejected
    }

    @discardableResult
    private func login(reason: String, oldExpiry: ContinuousClock.Instant? = nil) async throws(VaultError) -> Handle {
        if let pendingLogin {
            _ = try? await pendingLogin.value
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
        capped = false
        if loop == nil && !stopped {
            loop = Task { [weak self] in await self?.run() }
        }
        if old?.token == fresh.token {
            return Handle(token: fresh.token, generation: generation)
        }
        let oldGeneration = generation
        generation += 1
        let ttl = fresh.ttl > .zero ? DurationParser.format(fresh.ttl) : "none"
        logger.info("logged in to Vault at \(auth.client.address) with \(auth.describe(role: fresh.role)) (\(reason)); token accessor \(fresh.accessor ?? "-"), ttl \(ttl)\(fresh.renewable ? ", renewable" : "")")
        if let old, let leases = relay.leases {
            await leases.tokenRotated(oldGeneration: oldGeneration, oldExpiry: oldExpiry ?? old.expiry ?? .now)
        }
        return Handle(token: fresh.token, generation: generation)
    }

    private func run() async {
        var failures = 0
        while !Task.isCancelled && !stopped {
            guard let token = current, let expiry = token.expiry else {
                logger.debug("the Vault token does not expire; no renewal needed")
                loop = nil  // a later login with an expiring token starts it again
                return
            }
            let renew = token.renewable && (!capped || auth.method == .token)
            var at = token.obtained + token.ttl * (2.0 / 3.0)
            if failures > 0 {
                let left = expiry - .now
                at = .now + max(.seconds(1), min(.seconds(30), left > .zero ? left / 4 : .seconds(30))) * Double.random(in: 0.8...1.0)
            }
            at = max(at, token.obtained + .milliseconds(500))
            do { try await Task.sleep(until: at, clock: .continuous) } catch { return }
            if Task.isCancelled || stopped { return }
            guard current?.token == token.token else { continue }  // a new login happened meanwhile
            let ok = renew ? await renewOnce(token) : await reloginOnce(reason: "the token cannot be renewed further")
            failures = ok ? 0 : failures + 1
        }
    }

    /// True when the token is good for a while longer (renewed, or replaced by a new login).
    private func renewOnce(_ token: AuthToken) async -> Bool {
        let increment = token.increment > .zero ? token.increment : token.ttl
        let response: VaultResponse
        do {
            response = try await auth.client.send(.POST, "auth/token/renew-self", body: .map(["increment": .string("\(Int(increment.seconds.rounded()))s")]), token: token.token)
        } catch {
            logger.warning("Vault token renewal failed: \(error.description); retrying")
            return false
        }
        if response.isSuccess, let a = response.body?["auth"], let seconds = a["lease_duration"]?.intValue {
            let ttl = Duration.seconds(seconds)
            current?.ttl = ttl
            current?.obtained = .now
            current?.renewable = a["renewable"]?.boolValue ?? token.renewable
            if ttl < increment {
                capped = true
                logger.debug("Vault token renewed, ttl \(DurationParser.format(ttl)) (max TTL reached\(auth.method == .token ? "" : "; will log in again")), accessor \(token.accessor ?? "-")")
            } else {
                logger.debug("Vault token renewed, ttl \(DurationParser.format(ttl)), accessor \(token.accessor ?? "-")")
            }
            return ttl > .zero
        }
        if let failure = VaultErrors.common(response, client: auth.client) {
            logger.warning("Vault token renewal failed: \(failure.message)")
            return false
        }
        logger.info("Vault token renewal refused (HTTP \(response.status)); logging in again")
        capped = true
        return await reloginOnce(reason: "renewal refused", oldExpiry: response.status == 403 ? .now : nil)
    }

    private func reloginOnce(reason: String, oldExpiry: ContinuousClock.Instant? = nil) async -> Bool {
        do {
            let before = generation
            try await login(reason: reason, oldExpiry: oldExpiry)
            if auth.method == .token && generation == before, let token = current {
                let left = token.expiry.map { DurationParser.format(max(.zero, $0 - .now)) } ?? "never"
                logger.warning("the Vault token cannot be renewed and expires in \(left); supply a new token (VAULT_TOKEN, token_file) or use another auth method")
                return false
            }
            return true
        } catch {
            logger.error("Vault login failed: \(error.message)")
            return false
        }
    }
}

/// Lets the token manager tell the lease manager about a new token (leases die with the token
/// that obtained them). Set once in `VaultBackend.init`, before any task can read it.
final class LeaseRelay: @unchecked Sendable {
    var leases: LeaseManager?
}
