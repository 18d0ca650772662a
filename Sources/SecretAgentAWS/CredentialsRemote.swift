import AsyncHTTPClient
import FoundationEssentials
import NIOCore
import NIOHTTP1
import SecretAgentCore
import SecretTemplate

/// STS (query protocol: form body, XML answer) for AssumeRole and AssumeRoleWithWebIdentity.
struct STSClient: Sendable {
    let config: AWSConfig
    let transport: AWSTransport

    func assumeRole(roleARN: String, sessionName: String, externalID: String?, durationSeconds: String?,
                    with source: AWSCredentials, label: String) async throws -> AWSCredentials {
        var form = [("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", roleARN), ("RoleSessionName", sessionName)]
        if let externalID { form.append(("ExternalId", externalID)) }
        if let durationSeconds { form.append(("DurationSeconds", durationSeconds)) }
        return try await call("AssumeRole", form: form, role: roleARN, signing: .fixed(source), label: label)
    }

    func assumeRoleWithWebIdentity(roleARN: String, sessionName: String, token: String, label: String) async throws -> AWSCredentials {
        let form = [("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
                    ("RoleSessionName", sessionName), ("WebIdentityToken", token)]
        return try await call("AssumeRoleWithWebIdentity", form: form, role: roleARN, signing: .none, label: label)
    }

    private func call(_ operation: String, form: [(String, String)], role: String, signing: Signing, label: String) async throws -> AWSCredentials {
        let (endpoint, region) = try config.stsEndpoint()
        let call = AWSCall(service: .sts, operation: operation, region: region, endpoint: endpoint,
                           contentType: "application/x-www-form-urlencoded; charset=utf-8",
                           body: SigV4.formBody(form), nameCount: 1, subject: "role \(role)")
        let xml = String(decoding: try await transport.send(call, signing: signing), as: UTF8.self)
        guard let key = XMLText.first("AccessKeyId", in: xml), let secret = XMLText.first("SecretAccessKey", in: xml) else {
            throw AWSError.failed("STS \(operation) for role \(role) answered without credentials")
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: XMLText.first("SessionToken", in: xml),
                              expiration: XMLText.first("Expiration", in: xml).flatMap(AWSDate.parse), source: label)
    }
}

/// Plain HTTP credential endpoints: ECS container credentials and EC2 instance metadata (IMDSv2).
struct MetadataClient: Sendable {
    let http: HTTPClient

    struct Answer { var status: Int; var body: [UInt8] }

    func request(_ method: HTTPMethod, _ url: String, headers: [(String, String)], timeout: Duration) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (n, v) in headers { request.headers.add(name: n, value: v) }
        let response = try await http.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
        let body = try await response.body.collect(upTo: 1024 * 1024)
        // As in `AWSTransport`: a redirect a misconfigured client followed still counts as one.
        let status = response.history.count > 1 ? Int(response.history[0].responseHead.status.code) : Int(response.status.code)
        return Answer(status: status, body: Array(body.readableBytesView))
    }

    /// The error for a 3xx answer from a credentials endpoint: redirects are refused (never
    /// followed, the `Location` never named).
    static func redirectRefused(_ label: String, status: Int, check: String) -> AWSError {
        AWSError.failed("\(label) answered with a redirect (HTTP \(status)); redirects are refused, so the endpoint is probably misconfigured: check \(check)",
                        status: status)
    }

    /// Credentials from the JSON that ECS and IMDS serve (`AccessKeyId`, `SecretAccessKey`,
    /// `Token`, `Expiration`).
    static func credentials(fromJSON body: [UInt8], label: String) throws -> AWSCredentials {
        guard case .map(let map)? = try? JSON.parse(String(decoding: body, as: UTF8.self)),
              let key = map["AccessKeyId"]?.awsString, let secret = map["SecretAccessKey"]?.awsString else {
            throw AWSError.denied("\(label) answered without AccessKeyId and SecretAccessKey")
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: map["Token"]?.awsString.flatMap { $0.isEmpty ? nil : $0 },
                              expiration: map["Expiration"]?.awsText.flatMap(AWSDate.parse), source: label)
    }

    /// ECS/EKS container credentials: GET the URI with the authorization token.
    func container(url: String, token: String?) async throws -> AWSCredentials {
        let label = "container credentials \(Endpoint(url)?.description ?? "endpoint")" // without a query
        let answer: Answer
        do {
            answer = try await request(.GET, url, headers: token.map { [("Authorization", $0)] } ?? [], timeout: .seconds(5))
        } catch {
            throw AWSError.unavailable("cannot reach \(label): \(AWSTransport.describe(error, timeout: .seconds(5)))")
        }
        guard answer.status == 200 else {
            if (300..<400).contains(answer.status) {
                throw Self.redirectRefused(label, status: answer.status, check: "AWS_CONTAINER_CREDENTIALS_FULL_URI or AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            }
            let problem = "\(label) answered HTTP \(answer.status)"
            if answer.status >= 500 { throw AWSError.unavailable(problem) }
            throw AWSError.denied("\(problem); check AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)")
        }
        return try Self.credentials(fromJSON: answer.body, label: label)
    }

    /// An IMDSv2 session token, or nil when there is no instance metadata service.
    func imdsToken(_ endpoint: Endpoint) async -> String? {
        guard let answer = try? await request(.PUT, base(endpoint) + "/latest/api/token",
                                              headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")], timeout: .seconds(2)),
              answer.status == 200 else { return nil }
        return String(decoding: answer.body, as: UTF8.self)
    }

    /// The instance role's credentials, or nil when there is no metadata service or no role.
    func instanceCredentials(_ endpoint: Endpoint) async throws -> AWSCredentials? {
        guard let token = await imdsToken(endpoint) else { return nil }
        let path = base(endpoint) + "/latest/meta-data/iam/security-credentials/"
        let headers = [("X-aws-ec2-metadata-token", token)]
        let roles = try await request(.GET, path, headers: headers, timeout: .seconds(2))
        guard roles.status == 200,
              let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first else { return nil }
        let label = "instance metadata role \(role)"
        let answer = try await request(.GET, path + role, headers: headers, timeout: .seconds(2))
        guard answer.status == 200 else {
            if (300..<400).contains(answer.status) {
                throw Self.redirectRefused(label, status: answer.status, check: "AWS_EC2_METADATA_SERVICE_ENDPOINT")
            }
            throw AWSError.unavailable("\(label) answered HTTP \(answer.status)")
        }
        return try Self.credentials(fromJSON: answer.body, label: label)
    }

    /// The instance's region from `placement/region`, or nil.
    func instanceRegion(_ endpoint: Endpoint) async -> String? {
        guard let token = await imdsToken(endpoint),
              let answer = try? await request(.GET, base(endpoint) + "/latest/meta-data/placement/region",
                                              headers: [("X-aws-ec2-metadata-token", token)], timeout: .seconds(2)),
              answer.status == 200 else { return nil }
        let region = String(String(decoding: answer.body, as: UTF8.self).trimmingWhitespace)
        return region.isEmpty ? nil : region
    }

    private func base(_ endpoint: Endpoint) -> String {
        let url = endpoint.url
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}
