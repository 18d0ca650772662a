import SecretAgentCore

/// The one error type of the AWS module.
///
/// Messages name the reference, the AWS action and the identity (an abbreviated access key id and
/// where it came from), and say what to do. They never contain a secret value, a secret access
/// key or a session token.
public struct AWSError: AgentFailure, Equatable {
    public let exitCode: ExitCode
    public let message: String
    public let isTransient: Bool
    /// The AWS error code (`AccessDeniedException`, `ThrottlingException`, …) when AWS sent one.
    public let code: String?
    /// The HTTP status when the error came from an AWS response.
    public let status: Int?

    public init(_ exitCode: ExitCode, _ message: String, transient: Bool = false, code: String? = nil, status: Int? = nil) {
        self.exitCode = exitCode
        self.message = message
        self.isTransient = transient
        self.code = code
        self.status = status
    }

    public var description: String { message }

    /// Missing or broken configuration (no region, a profile that does not exist): exit 78.
    static func config(_ message: String) -> AWSError { AWSError(.config, message) }

    /// Authentication or permission failure: exit 77.
    static func denied(_ message: String, code: String? = nil, status: Int? = nil) -> AWSError {
        AWSError(.noPermission, message, code: code, status: status)
    }

    /// The service could not be reached or kept failing: exit 69, worth retrying.
    static func unavailable(_ message: String, code: String? = nil, status: Int? = nil) -> AWSError {
        AWSError(.unavailable, message, transient: true, code: code, status: status)
    }

    /// An answer that makes no sense or a request AWS refused for a reason other than permission.
    static func failed(_ message: String, code: String? = nil, status: Int? = nil) -> AWSError {
        AWSError(.unavailable, message, code: code, status: status)
    }
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
