import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentAWS

/// Every reference form against moto with signature checking on.
@Suite(.enabled(if: Moto.enabled)) struct MotoFetchTests {
    static let rotatedV1 = "11111111-1111-4111-8111-111111111111"
    static let rotatedV2 = "22222222-2222-4222-8222-222222222222"

    @Test func ssmReferences() async throws {
        let moto = try Moto.require()
        let backend = makeBackend(moto.environment())
        let eu = try Moto.value("SECRET_AGENT_TEST_SSM_EU_ARN")
        let refs = ["ssm:/docker/registry/url", "ssm:/docker/registry/username", "ssm:/sa-test/secure",
                    "ssm:/sa-test/versioned", "ssm:/sa-test/versioned:1", "ssm:/sa-test/versioned:stable",
                    "ssm:/sa-test/app/hosts", eu, "arn:aws:ssm:us-east-1:123456789012:parameter/docker/registry/username",
                    "ssm:/sa-test/nope", "ssm:/sa-test/versioned:9"]
        let out = try await fetch(backend, refs)
        #expect(out["ssm:/docker/registry/url"].string == "registry.example.com:5000")
        #expect(out["ssm:/docker/registry/username"].string == "ci-deployer")
        #expect(out["ssm:/sa-test/secure"].string == "secure-plaintext-7f3a")
        #expect(out["ssm:/sa-test/versioned"].string == "version-three")
        #expect(out["ssm:/sa-test/versioned"]?.secret?.version == "3")
        #expect(out["ssm:/sa-test/versioned:1"].string == "version-one")
        #expect(out["ssm:/sa-test/versioned:stable"].string == "version-two")
        #expect(out["ssm:/sa-test/versioned:stable"]?.secret?.version == "2")
        #expect(out["ssm:/sa-test/app/hosts"].string == "a.example,b.example")
        #expect(out[eu].string == "from-eu-west-1")
        #expect(out["arn:aws:ssm:us-east-1:123456789012:parameter/docker/registry/username"].string == "ci-deployer")
        #expect(out["ssm:/sa-test/nope"]?.isNotFound == true)
        #expect(out["ssm:/sa-test/versioned:9"]?.isNotFound == true)
    }

    @Test func ssmPathFollowsEveryPage() async throws {
        let moto = try Moto.require()
        let backend = makeBackend(moto.environment())
        let out = try await fetch(backend, ["ssm-path:/sa-test/app/", "ssm-path:/sa-test/nothing-here/"])
        guard case .found(let secret)? = out["ssm-path:/sa-test/app/"], case .map(let map) = secret.value else {
            Issue.record("ssm-path did not resolve to a map")
            return
        }
        #expect(map.count == 13)
        #expect(map["db/password"] == .string("app-db-pa55"))
        #expect(map["db/user"] == .string("app-user"))
        #expect(map["hosts"] == .string("a.example,b.example"))
        #expect(map["k10"] == .string("app-value-10"))
        #expect(secret.version != nil)
        #expect(backend.callCount(service: "ssm", operation: "GetParametersByPath") == 3) // 2 pages + the empty path
        #expect(out["ssm-path:/sa-test/nothing-here/"]?.isNotFound == true)
        // The same listing gives the same version.
        let again = try await fetch(backend, ["ssm-path:/sa-test/app"])
        #expect(again["ssm-path:/sa-test/app"]?.secret?.version == secret.version)
    }

    @Test func secretsManagerReferences() async throws {
        let moto = try Moto.require()
        let backend = makeBackend(moto.environment())
        let arn = try Moto.value("SECRET_AGENT_TEST_SM_PASSWORD_ARN")
        let partial = String(arn.dropLast(7))
        let refs = ["sm:docker/registry/password", "sm:sa-test/json#password", "sm:sa-test/json#/nested/port", "sm:sa-test/binary",
                    "sm:sa-test/rotated", "sm:sa-test/rotated?stage=AWSPREVIOUS", "sm:sa-test/rotated?version-id=\(Self.rotatedV1)",
                    arn, partial, "sm:sa-test/nope", "sm:sa-test/rotated?version-id=33333333-3333-4333-8333-333333333333"]
        let out = try await fetch(backend, refs)
        #expect(out["sm:docker/registry/password"].string == "Dr0ck3r-Regi5try-Pa55!")
        #expect(out["sm:docker/registry/password"]?.secret?.version?.isEmpty == false)
        let json = try #require(out["sm:sa-test/json#password"]?.secret)
        #expect(try Reference.parse("sm:sa-test/json#password").select(from: json.value) == .string("json-pa55"))
        #expect(try Reference.parse("sm:sa-test/json#/nested/port").select(from: json.value) == .number("5432"))
        let binary: [UInt8] = [0, 1, 2, 0xFE, 0xFF] + Array("binary".utf8) + [0x80] + Array("secret".utf8)
        #expect(out["sm:sa-test/binary"]?.secret?.value == .bytes(binary))
        #expect(out["sm:sa-test/rotated"].string == "rotated-new-value")
        #expect(out["sm:sa-test/rotated"]?.secret?.version == Self.rotatedV2)
        #expect(out["sm:sa-test/rotated?stage=AWSPREVIOUS"].string == "rotated-old-value")
        #expect(out["sm:sa-test/rotated?stage=AWSPREVIOUS"]?.secret?.version == Self.rotatedV1)
        #expect(out["sm:sa-test/rotated?version-id=\(Self.rotatedV1)"].string == "rotated-old-value")
        #expect(out[arn].string == "Dr0ck3r-Regi5try-Pa55!")
        #expect(out[partial].string == "Dr0ck3r-Regi5try-Pa55!")
        #expect(out["sm:sa-test/nope"]?.isNotFound == true)
        #expect(out["sm:sa-test/rotated?version-id=33333333-3333-4333-8333-333333333333"]?.isNotFound == true)
    }

    @Test func twentyFiveOfEachCostThreeSSMCallsAndTwoSecretsManagerCalls() async throws {
        let moto = try Moto.require()
        let backend = makeBackend(moto.environment())
        let params = (1...25).map { String(format: "ssm:/sa-test/batch/p%02d", $0) }
        let secrets = (1...25).map { String(format: "sm:sa-test/batch/s%02d", $0) }
        async let ssm = fetch(backend, params)
        async let sm = fetch(backend, secrets)
        let (a, b) = try await (ssm, sm)
        for (i, ref) in params.enumerated() { #expect(a[ref].string == String(format: "batch-param-%02d", i + 1)) }
        for (i, ref) in secrets.enumerated() { #expect(b[ref].string == String(format: "batch-secret-%02d", i + 1)) }
        #expect(backend.callCount(service: "ssm") == 3)
        #expect(backend.callCount(service: "ssm", operation: "GetParameters") == 3)
        #expect(backend.callCount(service: "secretsmanager") == 2)
        #expect(backend.callCount(service: "secretsmanager", operation: "BatchGetSecretValue") == 2)
        #expect(backend.peakConcurrency(service: "ssm") >= 2, "the three SSM batches should run concurrently")
    }

    @Test func deniedBatchFallsBackToOneCallPerSecret() async throws {
        let moto = try Moto.require()
        let backend = makeBackend(moto.environment([
            "AWS_ACCESS_KEY_ID": try Moto.value("SECRET_AGENT_TEST_AWS_NOBATCH_ACCESS_KEY_ID"),
            "AWS_SECRET_ACCESS_KEY": try Moto.value("SECRET_AGENT_TEST_AWS_NOBATCH_SECRET_ACCESS_KEY"),
        ]))
        let refs = ["sm:sa-test/batch/s01", "sm:sa-test/batch/s02", "sm:sa-test/nope"]
        let out = try await fetch(backend, refs)
        #expect(out["sm:sa-test/batch/s01"].string == "batch-secret-01")
        #expect(out["sm:sa-test/batch/s02"].string == "batch-secret-02")
        #expect(out["sm:sa-test/nope"]?.isNotFound == true)
        #expect(backend.callCount(service: "secretsmanager", operation: "BatchGetSecretValue") == 1)
        #expect(backend.callCount(service: "secretsmanager", operation: "GetSecretValue") == 3)
        _ = try await fetch(backend, refs)
        #expect(backend.callCount(service: "secretsmanager", operation: "BatchGetSecretValue") == 1, "a denied batch call is not tried again")
    }

    @Test func wrongSecretKeyIsExit77NamingTheProblem() async throws {
        let moto = try Moto.require()
        let wrong = "wrongSecretKeyWrongSecretKeyWrongSecret0"
        let backend = makeBackend(moto.environment(["AWS_SECRET_ACCESS_KEY": wrong]))
        for ref in ["ssm:/docker/registry/url", "sm:docker/registry/password"] {
            do {
                _ = try await fetch(backend, [ref])
                Issue.record("\(ref) resolved with a wrong secret key")
            } catch let error as AWSError {
                #expect(error.exitCode == .noPermission)
                #expect(error.code == "SignatureDoesNotMatch")
                #expect(error.message.contains("SignatureDoesNotMatch") && error.message.contains("AWS_SECRET_ACCESS_KEY"))
                #expect(error.message.contains(String(moto.accessKeyID.suffix(4))))
                #expect(!error.message.contains(wrong) && !error.message.contains(moto.accessKeyID))
                #expect(!error.isTransient)
            }
        }
    }

    @Test func unknownAccessKeyAndMissingPermissionAreExit77() async throws {
        let moto = try Moto.require()
        let unknown = makeBackend(moto.environment(["AWS_ACCESS_KEY_ID": "AKIAUNKNOWNKEY000000"]))
        await #expect { try await fetch(unknown, ["ssm:/docker/registry/url"]) } throws: { error in
            guard let e = error as? AWSError else { return false }
            return e.exitCode == .noPermission && ["InvalidClientTokenId", "UnrecognizedClientException"].contains(e.code ?? "")
        }
        let denied = makeBackend(moto.environment([
            "AWS_ACCESS_KEY_ID": try Moto.value("SECRET_AGENT_TEST_AWS_DENIED_ACCESS_KEY_ID"),
            "AWS_SECRET_ACCESS_KEY": try Moto.value("SECRET_AGENT_TEST_AWS_DENIED_SECRET_ACCESS_KEY"),
        ]))
        do {
            _ = try await fetch(denied, ["ssm:/docker/registry/url"])
            Issue.record("expected AccessDenied")
        } catch let error as AWSError {
            #expect(error.exitCode == .noPermission)
            #expect(error.message.contains("ssm:GetParameters") && error.message.contains("ssm:/docker/registry/url"))
            #expect(error.message.contains("AccessDenied"))
        }
    }

    @Test func unreachableEndpointIsTransient() async throws {
        let quick = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50), timeout: .seconds(1))
        let backend = AWSBackend(settings: AWSSettings(), environment: ["AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE00", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1",
                                   "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true"],
                                 httpClient: testHTTPClient, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), retry: quick)
        do {
            _ = try await fetch(backend, ["ssm:/docker/registry/url"])
            Issue.record("expected a transport error")
        } catch let error as AWSError {
            #expect(error.isTransient && error.exitCode == .unavailable)
            #expect(error.message.contains("127.0.0.1:9"))
        }
        #expect(backend.callCount(service: "ssm") == 2, "transport failures are tried twice")
    }

    @Test func vaultLoginRequestReplaysToSTS() async throws {
        let moto = try Moto.require()
        let backend = makeBackend(moto.environment())
        let signed = try await backend.vaultLoginRequest(serverID: "vault.example.com")
        #expect(signed.url == moto.endpoint + "/")
        let auth = try #require(signed.headers.first { $0.0 == "authorization" }?.1)
        #expect(auth.contains("x-vault-aws-iam-server-id"))
        #expect(signed.headers.contains { $0 == ("x-vault-aws-iam-server-id", "vault.example.com") })
        // What Vault does with it: replay it to STS, which must accept the signature.
        var request = HTTPClientRequest(url: signed.url)
        request.method = .POST
        for (name, value) in signed.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: signed.body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        #expect(response.status.code == 200)
        #expect(body.contains("user/secret-agent-test"))
    }
}
