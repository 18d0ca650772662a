import SecretTemplate

/// A fetched secret: its value, the version it was at, and its lease if it is a dynamic secret.
///
/// Printing a `Secret` never shows the value.
public struct Secret: Sendable, CustomStringConvertible {
    public var value: Value
    /// The backend's version: SSM `Version`, Secrets Manager `VersionId`, KV v2 `version`;
    /// nil where the backend has none (KV v1, files), in which case content is compared.
    public var version: String?
    /// The lease of a dynamic secret (Vault), nil otherwise.
    public var lease: Lease?

    public init(value: Value, version: String? = nil, lease: Lease? = nil) {
        self.value = value
        self.version = version
        self.lease = lease
    }

    public var description: String {
        "Secret(version: \(version ?? "-"), value: <redacted>\(lease.map { ", lease: \($0.id)" } ?? ""))"
    }
}

/// A Vault lease on a dynamic secret.
public struct Lease: Sendable, Equatable {
    public var id: String
    /// How long the lease lasts from `obtained`.
    public var duration: Duration
    public var renewable: Bool
    /// When the lease was granted or last renewed.
    public var obtained: ContinuousClock.Instant

    public init(id: String, duration: Duration, renewable: Bool, obtained: ContinuousClock.Instant = .now) {
        self.id = id
        self.duration = duration
        self.renewable = renewable
        self.obtained = obtained
    }
}

/// What fetching one locator produced.
public enum FetchOutcome: Sendable {
    case found(Secret)
    /// No such parameter, secret, path or file: the only outcome `default` and `{{^…}}` accept.
    case notFound
}
