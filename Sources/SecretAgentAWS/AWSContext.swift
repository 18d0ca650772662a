import SecretTemplate

/// The region when no ARN names one: settings and environment, else instance metadata; cached.
actor RegionResolver {
    private let config: AWSConfig
    private let metadata: MetadataClient
    private var cached: String?

    init(config: AWSConfig, metadata: MetadataClient) {
        self.config = config
        self.metadata = metadata
    }

    func region() async throws -> String {
        if let cached { return cached }
        if let region = config.staticRegion {
            cached = region
            return region
        }
        if let endpoint = config.metadataEndpoint, let region = await metadata.instanceRegion(endpoint) {
            cached = region
            return region
        }
        throw AWSError.config("no AWS region: set AWS_REGION, or aws.region in the configuration, or region in the AWS profile")
    }
}

/// What both service providers share: configuration, credentials, region and the transport.
struct AWSContext: Sendable {
    let config: AWSConfig
    let transport: AWSTransport
    let chain: CredentialChain
    let regions: RegionResolver

    /// The region a locator is signed for: its ARN's, else the agent's.
    func region(for locator: Locator) async throws -> String {
        if let region = try ARN.region(of: locator) { return region }
        return try await regions.region()
    }

    /// Calls a JSON 1.1 operation and parses the answer.
    func call(_ service: AWSService, _ operation: String, region: String, body: Value, names: Int, subject: String) async throws -> Value {
        let bytes = try await callBytes(service, operation, region: region, body: body, names: names, subject: subject)
        do {
            return try JSON.parse(String(decoding: bytes, as: UTF8.self))
        } catch {
            // A proxy's error page or a cut-off answer: transient, retried until the start deadline.
            throw AWSError.unavailable("AWS \(service.signingName):\(operation) for \(subject) answered with something that is not JSON")
        }
    }

    /// `a, b, c (+7 more)`: the names a call is about, for messages.
    static func subject(_ texts: [String]) -> String {
        texts.count <= 3 ? texts.joined(separator: ", ") : texts.prefix(3).joined(separator: ", ") + " (+\(texts.count - 3) more)"
    }
}

extension Sequence where Element == Locator {
    /// Sorted by canonical text, each text built once (not once per comparison: on the poll path).
    func sortedByText() -> [Locator] {
        map { ($0.text, $0) }.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
