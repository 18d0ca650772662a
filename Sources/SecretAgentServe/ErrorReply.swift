import NIOCore
import SecretAgentAWS
import SecretAgentOps
import SecretTemplate

/// Error answers in the shape AWS's JSON services use: `{"__type":"Code","message":"…"}` with
/// AWS's status, and the `x-amzn-ErrorType` header SDKs read the code from. The message says
/// what is wrong in general terms: never a value, the agent's identity or a token.
enum ErrorReply {
    static func make(_ status: Int, _ code: String, _ message: String) -> HTTPListener.Reply {
        let body = JSON.serialize(.map(["__type": .string(code), "message": .string(message)]))
        return HTTPListener.Reply(status: status, contentType: "application/x-amz-json-1.1", bytes: Array(body.utf8),
                                  headers: [("x-amzn-ErrorType", code)])
    }

    static let missingToken = make(403, "AccessDeniedException",
                                   "missing or wrong X-Aws-Parameters-Secrets-Token header")
    static let forwarded = make(400, "InvalidRequestException",
                                "requests forwarded through a proxy (X-Forwarded-For) are refused")
    static let starting = make(503, "ServiceUnavailableException", "the agent is starting; try again shortly")
    static let method = make(405, "MethodNotAllowedException", "only GET is served")
    static let notAllowed = make(403, "AccessDeniedException",
                                 "the agent's local API does not serve this name (serve.allow)")

    static func notFound(route: String) -> HTTPListener.Reply {
        make(404, "UnknownOperationException",
             "no such route \(route): use /secretsmanager/get, /v1/SECRET_ID, /systemsmanager/parameters/get or /v1/ref")
    }

    static func badRequest(_ message: String) -> HTTPListener.Reply {
        make(400, "ValidationException", message)
    }

    /// The answer for a failed fetch: AWS's code, with the status AWS documents for it (400 for
    /// the JSON services' client errors, even where a stand-in such as moto says 404), else the
    /// status AWS sent.
    static func failure(_ error: any Error, key: CacheKey) -> HTTPListener.Reply {
        if let aws = error as? AWSError, let code = aws.code {
            return make(documentedStatus[code] ?? aws.status ?? 400, code, message(for: code))
        }
        if case .reference = key {
            return make(503, "ServiceUnavailableException", "the backend could not be read; the agent's log says why")
        }
        return make(503, "ServiceUnavailableException", "AWS could not be reached; the agent's log says why")
    }

    /// The statuses of the Secrets Manager and SSM API references.
    static let documentedStatus: [String: Int] = [
        "ResourceNotFoundException": 400, "ParameterNotFound": 400, "ParameterVersionNotFound": 400,
        "ParameterVersionLabelNotFound": 400, "ThrottlingException": 400, "InvalidParameterException": 400,
        "InvalidRequestException": 400, "DecryptionFailure": 400, "InvalidKeyId": 400,
    ]

    /// AWS's own wording for the common codes.
    static func message(for code: String) -> String {
        switch code {
        case "ResourceNotFoundException": return "Secrets Manager can't find the specified secret."
        case "ParameterNotFound": return "The parameter could not be found."
        case "ParameterVersionNotFound": return "The specified parameter version was not found."
        case "ParameterVersionLabelNotFound": return "The specified parameter version label was not found."
        case "AccessDeniedException", "AccessDenied": return "The agent's identity is not allowed to read this."
        case "ThrottlingException", "Throttling", "TooManyRequestsException": return "Rate exceeded"
        case "DecryptionFailure", "KMSAccessDeniedException": return "The value could not be decrypted."
        default: return "The request failed: \(code)."
        }
    }

    /// `/v1/ref` for a reference that does not exist (or a field it does not have).
    static func referenceNotFound(_ reference: Reference) -> HTTPListener.Reply {
        make(404, "ResourceNotFoundException", "\(reference.text) was not found")
    }
}
