import FoundationEssentials
import Logging

/// A set of AWS credentials. Printing it shows only an abbreviated access key id and its source.
struct AWSCredentials: Sendable, CustomStringConvertible {
    var accessKeyID: String
    var secretAccessKey: String
    var sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    var expiration: Date?
    /// Where they came from ("environment", "profile ci", "web identity role …"), for messages.
    var source: String

    /// `AKIA…MPLE`: enough to tell keys apart in a message, not the whole id.
    var keyHint: String {
        guard accessKeyID.count > 8 else { return "…" }
        return "\(accessKeyID.prefix(4))…\(accessKeyID.suffix(4))"
    }

    /// The identity for error messages.
    var identity: String { "access key \(keyHint) (from \(source))" }

    var description: String { "AWSCredentials(\(identity))" }

    /// True when the credentials should be replaced now: temporary ones within `margin` of expiry.
    func needsRefresh(now: Date = Date(), margin: TimeInterval = 300) -> Bool {
        guard let expiration else { return false }
        return expiration.timeIntervalSince(now) < margin
    }

    func isExpired(now: Date = Date()) -> Bool {
        guard let expiration else { return false }
        return expiration <= now
    }
}

/// What the chain loads credentials from: `CredentialSources`, or a twin in tests.
protocol CredentialLoader: Sendable {
    /// Credentials from the first configured source, trying `known` (the one that worked last) first.
    func load(preferring known: CredentialSource?) async throws -> (AWSCredentials, CredentialSource)
}

/// The credential chain in the AWS SDKs' order, cached and refreshed before expiry.
///
/// The first source that is configured wins and is kept for later refreshes: environment,
/// web identity, the shared files' profile, container (ECS) credentials, then EC2 instance
/// metadata. Concurrent callers share one load. When a refresh fails while the cached
/// credentials have not expired yet (they are only inside the refresh window), every caller,
/// those that waited for the refresh included, gets the cached ones and the failure is logged
/// once; the error reaches callers only once the cached credentials have expired.
actor CredentialChain {
    private let sources: any CredentialLoader
    private let logger: Logger
    private var cached: AWSCredentials?
    private var chosen: CredentialSource?
    private var pending: Task<(AWSCredentials, CredentialSource), any Error>?
    /// Callers waiting for a load another caller started (for tests).
    private(set) var waiting = 0

    init(sources: any CredentialLoader, logger: Logger) {
        self.sources = sources
        self.logger = logger
    }

    /// Valid credentials, loading or refreshing them when needed.
    func credentials() async throws -> AWSCredentials {
        if let cached, !cached.needsRefresh() { return cached }
        if let pending {
            waiting += 1
            defer { waiting -= 1 }
            do {
                return try await pending.value.0
            } catch {
                // The caller that started the load logged the failure.
                if let cached, !cached.isExpired() { return cached }
                throw error
            }
        }
        let sources = self.sources
        let known = chosen
        let task = Task { try await sources.load(preferring: known) }
        pending = task
        defer { pending = nil }
        do {
            let (credentials, source) = try await task.value
            if cached == nil || chosen != source {
                logger.info("AWS credentials loaded", metadata: ["source": "\(credentials.source)", "access_key": "\(credentials.keyHint)"])
            } else {
                logger.debug("AWS credentials refreshed", metadata: ["source": "\(credentials.source)"])
            }
            cached = credentials
            chosen = source
            return credentials
        } catch {
            if let cached, !cached.isExpired() {
                logger.warning("refreshing AWS credentials failed; using the current ones until they expire",
                               metadata: ["source": "\(cached.source)", "error": "\(error)"])
                return cached
            }
            throw error
        }
    }

    /// Forgets cached credentials (after AWS said they expired), so the next call reloads them.
    func invalidate() {
        cached = nil
    }
}
