import AsyncHTTPClient
import FoundationEssentials
import Logging
import NIOCore
import NIOHTTP1
import SecretAgentCore
import SecretTemplate

/// How a request is signed.
enum Signing: Sendable {
    /// With the agent's credential chain (refreshed once if AWS says they expired).
    case chain(CredentialChain)
    /// With given credentials (STS AssumeRole with a source profile's keys).
    case fixed(AWSCredentials)
    /// Not at all (STS AssumeRoleWithWebIdentity).
    case none
}

/// One AWS API call.
struct AWSCall: Sendable {
    var service: AWSService
    var operation: String
    var region: String
    var endpoint: Endpoint
    var contentType: String
    var body: [UInt8]
    /// How many names (parameters, secrets, paths) the call carries, for the debug log.
    var nameCount: Int
    /// What the call is about, for messages: `ssm:/a, ssm:/b`.
    var subject: String

    /// A JSON 1.1 call (`X-Amz-Target: AmazonSSM.GetParameters`).
    static func json(_ service: AWSService, _ operation: String, region: String, endpoint: Endpoint,
                     body: Value, names: Int, subject: String) -> AWSCall {
        AWSCall(service: service, operation: operation, region: region, endpoint: endpoint,
                contentType: "application/x-amz-json-1.1", body: Array(JSON.serialize(body).utf8),
                nameCount: names, subject: subject)
    }

    var headers: [(String, String)] {
        var h = [("content-type", contentType)]
        if !service.targetPrefix.isEmpty { h.append(("x-amz-target", "\(service.targetPrefix).\(operation)")) }
        return h
    }
}

/// Retries and timeouts for AWS calls.
struct RetryPolicy: Sendable {
    /// Attempts per call, the first included.
    var maxAttempts = 4
    var baseDelay: Duration = .milliseconds(200)
    var maxDelay: Duration = .seconds(5)
    /// Per attempt, from sending to the last byte of the answer.
    var timeout: Duration = .seconds(10)
    /// `aws.retry_mode` (adaptive by default from the settings; standard for a bare policy).
    var mode: RetryMode = .standard
    /// The adaptive rate's curve (tests shorten it).
    var adaptive = AdaptiveRate.Parameters()
    /// The longest `Retry-After` honoured (the start deadline cuts a wait shorter).
    var maxRetryAfter: Duration = .seconds(30)

    /// Exponential backoff with full jitter: uniformly 0…min(max, base·2^(attempt-1)).
    func delay(afterAttempt attempt: Int) -> Duration {
        Backoff.delay(attempt: attempt, base: baseDelay, cap: maxDelay)
    }
}

extension RetryPolicy {
    /// The defaults with `aws.request_timeout`, and the retry mode and attempts as botocore
    /// resolves them (`AWSConfig.retrySettings`).
    init(config: AWSConfig) throws(AWSError) {
        self.init()
        if let timeout = config.settings.requestTimeout { self.timeout = timeout }
        let (mode, attempts) = try config.retrySettings()
        self.mode = mode
        if let attempts { maxAttempts = max(1, attempts) }
    }
}

/// Sends signed AWS calls over the backend's HTTP clients (direct or through the proxy the
/// endpoint's URL calls for), with retries, counting and error mapping.
struct AWSTransport: Sendable {
    let network: AWSNetwork
    let logger: Logger
    let stats: CallStats
    let retry: RetryPolicy
    /// The client-side rate per service and region (`aws.retry_mode: adaptive`).
    let limiter: RateLimiter
    /// A retry setting that cannot be read (`AWS_RETRY_MODE=often`): every call fails with it.
    let settingsProblem: AWSError?

    init(network: AWSNetwork, logger: Logger, stats: CallStats, retry: RetryPolicy, settingsProblem: AWSError? = nil) {
        self.network = network
        self.logger = logger
        self.stats = stats
        self.retry = retry
        self.limiter = RateLimiter(mode: retry.mode, parameters: retry.adaptive)
        self.settingsProblem = settingsProblem
    }

    /// Sends a call and returns the body of a 2xx answer; anything else throws `AWSError`
    /// (with `code` set, so callers can turn `ParameterNotFound` into "not found").
    func send(_ call: AWSCall, signing: Signing) async throws -> [UInt8] {
        if let settingsProblem { throw settingsProblem }
        var refreshed = false
        var attempt = 0
        let rateKey = "\(call.service.signingName)|\(call.region)"
        while true {
            attempt += 1
            let credentials: AWSCredentials?
            switch signing {
            case .chain(let chain): credentials = try await chain.credentials()
            case .fixed(let c): credentials = c
            case .none: credentials = nil
            }
            let identity = credentials?.identity ?? "no credentials (unsigned)"
            let (status, errorType, retryAfter, body): (Int, String?, String?, [UInt8])
            do {
                try await limiter.acquire(rateKey)
                (status, errorType, retryAfter, body) = try await exchange(call, credentials: credentials, attempt: attempt)
            } catch let error as CancellationError {
                throw error
            } catch {
                if let failure = CertificateFailure(error) {
                    throw AWSError.failed(failure.message(service: "AWS \(call.service.signingName)",
                                                          endpoint: CertificateFailure.endpoint(ofURL: call.endpoint.url),
                                                          fix: Self.caBundleFix))
                }
                var problem = Self.describe(error, timeout: retry.timeout)
                if let proxy = network.proxy(for: call.endpoint.url) {
                    problem += " (through the proxy \(ProxyURL(host: proxy.host, port: proxy.port)); check HTTPS_PROXY, HTTP_PROXY, NO_PROXY and aws.proxy)"
                    // The proxy refused the credentials: trying again cannot help.
                    if (error as? HTTPClientError) == .proxyAuthenticationRequired {
                        throw AWSError.failed("cannot reach AWS \(call.service.rawValue) at \(call.endpoint) for \(call.operation) (\(call.subject)): \(problem)")
                    }
                }
                // The HTTP client already retries refused connections until the deadline, so a
                // transport failure is tried twice at most; the agent's start-up loop retries more.
                guard attempt < min(retry.maxAttempts, 2) else {
                    throw AWSError.unavailable("cannot reach AWS \(call.service.rawValue) at \(call.endpoint) for \(call.operation) (\(call.subject)): \(problem) after \(attempt) attempts; check the network and AWS_ENDPOINT_URL settings")
                }
                try await backoff(call, attempt: attempt, reason: problem)
                continue
            }
            if (200..<300).contains(status) {
                limiter.record(rateKey, throttled: false)
                return body
            }
            if (300..<400).contains(status) { throw Self.redirectRefused(call, status: status) }
            let fault = AWSFault(status: status, errorTypeHeader: errorType, body: body)
            let throttled = AWSErrorCodes.rateLimited.contains(fault.code) || status == 429
            let wasLimited = limiter.rate(rateKey) < .infinity
            limiter.record(rateKey, throttled: throttled)
            if throttled && !wasLimited && retry.mode == .adaptive {
                logger.notice("AWS is throttling: calls slowed down (aws.retry_mode: adaptive)", metadata: [
                    "aws_service": "\(call.service.signingName)", "region": "\(call.region)", "code": "\(fault.code)",
                ])
            }
            let action = "\(call.service.signingName):\(call.operation)"
            if AWSErrorCodes.expired.contains(fault.code), !refreshed, case .chain(let chain) = signing {
                refreshed = true
                await chain.invalidate()
                attempt -= 1
                continue
            }
            if AWSErrorCodes.auth.contains(fault.code) || status == 401 || (status == 403 && !AWSErrorCodes.throttling.contains(fault.code)) {
                let detail = fault.message.isEmpty ? "" : " (\(fault.message))"
                throw AWSError.denied("AWS refused \(action) on \(call.subject) for \(identity): \(fault.code)\(detail); \(AWSErrorCodes.advice(for: fault.code, action: action))",
                                      code: fault.code, status: status)
            }
            if AWSErrorCodes.throttling.contains(fault.code) || status == 429 || status >= 500 {
                guard attempt < retry.maxAttempts else {
                    throw AWSError.unavailable("AWS \(action) kept failing for \(call.subject): \(fault.code) (HTTP \(status)) after \(attempt) attempts",
                                               code: fault.code, status: status)
                }
                let wait = Backoff.retryAfter(retryAfter, cap: retry.maxRetryAfter)
                // Adaptive: a throttled call waits for the (lowered) rate's next token, not a backoff too.
                try await backoff(call, attempt: attempt, reason: "\(fault.code) (HTTP \(status))",
                                  atLeast: wait, skipJitter: throttled && retry.mode == .adaptive)
                continue
            }
            let detail = fault.message.isEmpty ? "" : ": \(fault.message)"
            throw AWSError.failed("AWS \(action) failed for \(call.subject): \(fault.code)\(detail)", code: fault.code, status: status)
        }
    }

    /// One HTTP exchange: sign, send, read the whole answer.
    private func exchange(_ call: AWSCall, credentials: AWSCredentials?, attempt: Int) async throws -> (Int, String?, String?, [UInt8]) {
        var headers = call.headers
        if let credentials {
            headers = SigV4.sign(method: "POST", endpoint: call.endpoint, headers: headers, body: call.body,
                                 credentials: credentials, region: call.region, service: call.service.signingName)
        } else {
            headers.insert(("host", call.endpoint.hostHeader), at: 0)
        }
        var request = HTTPClientRequest(url: call.endpoint.url)
        request.method = .POST
        request.tlsConfiguration = network.tls
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.add(name: "user-agent", value: "secret-agent")
        request.body = .bytes(ByteBuffer(bytes: call.body))

        let service = call.service.signingName
        stats.begin(service: service, operation: call.operation)
        defer { stats.end(service: service) }
        let started = ContinuousClock.now
        let response = try await network.client(for: call.endpoint.url).execute(request, timeout: .nanoseconds(retry.timeout.nanoseconds), logger: nil)
        let buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
        let elapsed = ContinuousClock.now - started
        logger.debug("AWS call \(service):\(call.operation) with \(call.nameCount) name\(call.nameCount == 1 ? "" : "s")", metadata: [
            "aws_service": "\(service)", "aws_operation": "\(call.operation)", "names": "\(call.nameCount)",
            "region": "\(call.region)", "status": "\(response.status.code)", "attempt": "\(attempt)",
            "ms": "\(elapsed.milliseconds)",
        ])
        if let id = response.headers.first(name: "x-amzn-requestid") {
            logger.trace("AWS request id", metadata: ["aws_operation": "\(call.operation)", "request_id": "\(id)"])
        }
        // A client that follows redirects (it should not: see `AWSBackend.init`) has already sent
        // the call on; its answer is not used either.
        let status = response.history.count > 1 ? Int(response.history[0].responseHead.status.code) : Int(response.status.code)
        return (status, response.headers.first(name: "x-amzn-errortype"), response.headers.first(name: "retry-after"),
                Array(buffer.readableBytesView))
    }

    /// The error for a 3xx answer: not retried, and naming the endpoint, never the `Location`.
    static func redirectRefused(_ call: AWSCall, status: Int) -> AWSError {
        let variables = "\(call.service.endpointVariable), AWS_ENDPOINT_URL, aws.endpoint_url or the profile's endpoint_url"
        return AWSError.failed("AWS \(call.service.signingName) at \(call.endpoint) answered \(call.operation) (\(call.subject)) with a redirect (HTTP \(status)); redirects are refused, so the endpoint is probably misconfigured: check \(variables)",
                               status: status)
    }

    /// Waits before the next attempt: the policy's jittered backoff (none when `skipJitter`),
    /// and at least `atLeast` (a `Retry-After`).
    private func backoff(_ call: AWSCall, attempt: Int, reason: String, atLeast: Duration? = nil, skipJitter: Bool = false) async throws {
        let delay = max(skipJitter ? .zero : retry.delay(afterAttempt: attempt), atLeast ?? .zero)
        guard delay > .zero else { return }
        logger.debug("retrying AWS call", metadata: [
            "aws_operation": "\(call.operation)", "reason": "\(reason)", "attempt": "\(attempt)", "delay": "\(delay)",
        ])
        try await Task.sleep(for: delay)
    }

    /// What fixes an AWS certificate that does not verify.
    static let caBundleFix = "set AWS_CA_BUNDLE (or aws.ca_bundle in the configuration, or ca_bundle in the AWS profile) to a PEM file with the CA that issued it"

    /// A transport failure in words (never a header or body).
    static func describe(_ error: any Error, timeout: Duration) -> String {
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout, .getConnectionFromPoolTimeout:
                return "no answer within \(timeout)"
            case .remoteConnectionClosed: return "the connection was closed"
            case .proxyAuthenticationRequired: return "the proxy wants credentials (HTTP 407): put them in the proxy URL, http://user:password@host:port"
            case .invalidProxyResponse: return "the proxy refused the tunnel (an answer other than 200 to CONNECT)"
            default: return "HTTP client error \(e)"
            }
        }
        let text = String(describing: error)
        return text.count > 200 ? String(text.prefix(200)) : text
    }
}
