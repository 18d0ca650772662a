import SecretAgentCore

/// The one error type of the AWS module.
///
/// Messages name the reference, the AWS action and the identity (an abbreviated access key id and
/// where it came from), and say what to do. They never contain a secret value, a secret access
/// key or a session token.
public struct AWSError: AgentFailure, Equatable {
    /// What went wrong: compare with `==`. A struct, so that new kinds break no caller.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: String, Hashable, Sendable {
            case config, denied, unavailable, failed, reference
        }

        private let code: Code

        private init(_ code: Code) {
            self.code = code
        }

        /// Missing or broken configuration (no region, a profile that does not exist): exit 78.
        public static let config = Kind(.config)
        /// Authentication or permission failure: exit 77.
        public static let denied = Kind(.denied)
        /// The service could not be reached or kept failing: exit 69, worth retrying.
        public static let unavailable = Kind(.unavailable)
        /// An answer that makes no sense or a request AWS refused for a reason other than
        /// permission: exit 69, not retried.
        public static let failed = Kind(.failed)
        /// A reference AWS cannot serve as written (an ARN whose region is not a region name): exit 65.
        public static let reference = Kind(.reference)

        /// The exit status this kind maps to.
        public var exitCode: ExitCode {
            switch code {
            case .config: .config
            case .denied: .noPermission
            case .unavailable, .failed: .unavailable
            case .reference: .dataError
            }
        }

        /// True for the kind worth retrying: unavailable.
        public var isTransient: Bool { code == .unavailable }

        public var description: String { code.rawValue }
    }

    public let kind: Kind
    public let message: String
    /// The AWS error code (`AccessDeniedException`, `ThrottlingException`, …) when AWS sent one.
    public let code: String?
    /// The HTTP status when the error came from an AWS response.
    public let status: Int?

    public init(_ kind: Kind, _ message: String, code: String? = nil, status: Int? = nil) {
        self.kind = kind
        self.message = message
        self.code = code
        self.status = status
    }

    public var description: String { message }
    public var exitCode: ExitCode { kind.exitCode }
    public var isTransient: Bool { kind.isTransient }

    static func config(_ message: String) -> AWSError { AWSError(.config, message) }

    static func denied(_ message: String, code: String? = nil, status: Int? = nil) -> AWSError {
        AWSError(.denied, message, code: code, status: status)
    }

    static func unavailable(_ message: String, code: String? = nil, status: Int? = nil) -> AWSError {
        AWSError(.unavailable, message, code: code, status: status)
    }

    static func failed(_ message: String, code: String? = nil, status: Int? = nil) -> AWSError {
        AWSError(.failed, message, code: code, status: status)
    }

    static func reference(_ message: String) -> AWSError { AWSError(.reference, message) }
}

/// AWS error codes grouped by what the agent does with them.
enum AWSErrorCodes {
    /// Credentials or permissions: exit 77, never retried.
    static let auth: Set<String> = [
        "AccessDenied", "AccessDeniedException", "UnrecognizedClientException", "InvalidClientTokenId",
        "SignatureDoesNotMatch", "IncompleteSignature", "MissingAuthenticationToken", "InvalidSignatureException",
        "ExpiredToken", "ExpiredTokenException", "RequestExpired", "AuthFailure", "NotAuthorized",
        "KMSAccessDeniedException", "DecryptionFailure", "InvalidIdentityToken", "IDPRejectedClaim",
    ]
    /// Credentials that expired: refreshed once before giving up.
    static let expired: Set<String> = ["ExpiredToken", "ExpiredTokenException", "RequestExpired"]
    /// Retried with backoff.
    static let throttling: Set<String> = [
        "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
        "ProvisionedThroughputExceededException", "RequestThrottled", "RequestThrottledException",
        "SlowDown", "PriorRequestNotComplete", "ThrottledException", "LimitExceededException",
        "InternalServerError", "InternalFailure", "ServiceUnavailable", "InternalServiceError",
        "IDPCommunicationError",
    ]

    /// Throttling proper (not 5xx): lowers the client-side rate in `adaptive` retry mode
    /// (botocore's list of throttling codes).
    static let rateLimited: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
    ]

    /// What the user should check for an authentication or permission failure.
    static func advice(for code: String, action: String) -> String {
        switch code {
        case "SignatureDoesNotMatch", "IncompleteSignature", "InvalidSignatureException":
            return "the secret access key does not match the access key id (check AWS_SECRET_ACCESS_KEY or the profile's aws_secret_access_key) or the clock is wrong"
        case "UnrecognizedClientException", "InvalidClientTokenId":
            return "AWS does not know this access key id or session token; check the credentials the agent uses (environment, profile, role)"
        case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
            return "the session token has expired; refresh the credentials (for AWS_SESSION_TOKEN: get new ones)"
        case "KMSAccessDeniedException", "DecryptionFailure":
            return "the identity may read the secret but not decrypt it: allow kms:Decrypt on its KMS key"
        case "InvalidIdentityToken", "IDPRejectedClaim":
            return "STS rejected the web identity token; check AWS_WEB_IDENTITY_TOKEN_FILE and the role's trust policy"
        case "MissingAuthenticationToken":
            return "the request was not signed; provide AWS credentials"
        default:
            return "allow \(action) for this identity in its IAM policy (and kms:Decrypt for encrypted values)"
        }
    }
}
