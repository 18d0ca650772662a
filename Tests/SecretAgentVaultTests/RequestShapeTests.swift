import AsyncHTTPClient
import Foundation
import Logging
import SecretAgentCore
import SecretTemplate
import Synchronization
import Testing
@testable import SecretAgentVault

/// Auth methods that need a cluster or AWS, retries and error statuses, against a loopback fake.
@Suite("request shapes against a loopback fake")
struct RequestShapeTests {
    static let token = "hvs.FAKE-token-7c1f9d"

    func backend(_ fake: FakeVault, _ settings: VaultSettings = VaultSettings(), environment: [String: String] = [:],
                 logs: LogCapture = LogCapture(), signer: (any VaultAWSLoginSigner)? = nil) throws -> VaultBackend {
        var env = environment
        env["VAULT_ADDR"] = fake.address
        return try VaultBackend(settings: settings, environment: env, httpClient: TestBao.http, logger: logs.logger(), awsSigner: signer)
    }

    @Test func kubernetesLoginSendsTheRoleAndTheServiceAccountToken() async throws {
        let fake = try await FakeVault.start { request in
            request.uri.hasSuffix("/login") ? FakeVault.loginAnswer(token: Self.token) : (404, #"{"errors":[]}"#)
        }
        defer { Task { await fake.stop() } }
        let dir = try TempDir()
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJl"
        var settings = VaultSettings(namespace: "team1", auth: VaultAuthSettings(method: .kubernetes))
        settings.auth.role = "app"
        settings.auth.mount = "k8s-prod"
        settings.auth.jwtFile = try dir.write("token", jwt + "\n")
        let logs = LogCapture()
        let vault = try backend(fake, settings, logs: logs)
        try await vault.start()
        await vault.shutdown()
        let login = try #require(fake.requests.first)
        #expect(login.method == "POST")
        #expect(login.uri == "/v1/auth/k8s-prod/login")
        #expect(login.header("X-Vault-Namespace") == "team1")
        #expect(login.header("X-Vault-Token") == nil)
        #expect(login.json["role"] as? String == "app")
        #expect(login.json["jwt"] as? String == jwt)
        #expect(logs.leaks(["jwt": jwt, "token": Self.token]).isEmpty)
        #expect(logs.count("kubernetes login (auth/k8s-prod/, role 'app')") == 1)

        // The default service-account token path, named when it is missing.
        var defaults = VaultSettings(auth: VaultAuthSettings(method: .kubernetes))
        defaults.auth.role = "app"
        let missing = try backend(fake, defaults)
        let error = await #expect(throws: VaultError.self) { try await missing.start() }
        #expect(error?.message.contains("/var/run/secrets/kubernetes.io/serviceaccount/token") == true)
    }

    struct FakeSigner: VaultAWSLoginSigner {
        func signedGetCallerIdentity(serverID: String?) async throws -> SignedRequest {
            var headers = [("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc123"),
                           ("X-Amz-Date", "20260101T000000Z"),
                           ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]
            if let serverID { headers.append(("X-Vault-AWS-IAM-Server-ID", serverID)) }
            return SignedRequest(method: "POST", url: "https://sts.us-east-1.amazonaws.com/", headers: headers,
                                         body: Array("Action=GetCallerIdentity&Version=2011-06-15".utf8))
        }
    }

    @Test func awsIAMLoginSendsTheSignedRequestBase64Encoded() async throws {
        let fake = try await FakeVault.start { request in
            request.uri.hasSuffix("/login") ? FakeVault.loginAnswer(token: Self.token) : (404, #"{"errors":[]}"#)
        }
        defer { Task { await fake.stop() } }
        var settings = VaultSettings(auth: VaultAuthSettings(method: .aws))
        settings.auth.role = "ec2-app"
        settings.auth.awsServerID = "vault.example.com"
        let logs = LogCapture()
        let vault = try backend(fake, settings, logs: logs, signer: FakeSigner())
        try await vault.start()
        await vault.shutdown()
        let login = try #require(fake.requests.first)
        #expect(login.uri == "/v1/auth/aws/login")
        let body = login.json
        #expect(body["role"] as? String == "ec2-app")
        #expect(body["iam_http_request_method"] as? String == "POST")
        func decoded(_ key: String) -> String? {
            (body[key] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(decoded("iam_request_url") == "https://sts.us-east-1.amazonaws.com/")
        #expect(decoded("iam_request_body") == "Action=GetCallerIdentity&Version=2011-06-15")
        let headers = try #require(decoded("iam_request_headers").flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: [String]])
        #expect(headers["X-Vault-AWS-IAM-Server-ID"] == ["vault.example.com"])
        #expect(headers["X-Amz-Date"] == ["20260101T000000Z"])
        #expect(headers["Authorization"]?.first?.hasPrefix("AWS4-HMAC-SHA256") == true)
        #expect(logs.leaks(["signature": "Signature=abc123", "token": Self.token]).isEmpty)

        let unsigned = try backend(fake, settings)
        let error = await #expect(throws: VaultError.self) { try await unsigned.start() }
        #expect(error?.exitCode == .config)
    }

    @Test func fiveHundredsAreRetriedAndFourHundredsAreNot() async throws {
        let counter = Counter()
        let fake = try await FakeVault.start { request in
            let n = counter.next()
            if request.uri.contains("lookup-self") {
                return n <= 2 ? (502, #"{"errors":["bad gateway"]}"#)
                    : (200, #"{"data":{"accessor":"a","ttl":0,"renewable":false,"policies":["root"]}}"#)
            }
            if request.uri.contains("sys/internal/ui/mounts") { return (403, #"{"errors":["preflight capability check returned 403"]}"#) }
            return (400, #"{"errors":["something is wrong"]}"#)
        }
        defer { Task { await fake.stop() } }
        let vault = try backend(fake, environment: ["VAULT_TOKEN": Self.token])
        try await vault.start()
        #expect(fake.requests.count == 3)
        let error = await #expect(throws: VaultError.self) { try await vault.get("vault:transit/random/32?format=hex") }
        #expect(error?.exitCode == .dataError)
        #expect(fake.requests.count == 5)  // the mount lookup, then one write, not retried
        let write = fake.requests[4]
        #expect(write.method == "POST")
        #expect(write.uri == "/v1/transit/random/32")
        #expect(write.json["format"] as? String == "hex")
        await vault.shutdown()
    }

    @Test func sealedAndUnreachableAreTransientAndSayWhatToDo() async throws {
        let fake = try await FakeVault.start { _ in (503, #"{"errors":["Vault is sealed"]}"#) }
        defer { Task { await fake.stop() } }
        let sealed = try backend(fake, environment: ["VAULT_TOKEN": Self.token, "VAULT_MAX_RETRIES": "0"])
        let error = await #expect(throws: VaultError.self) { try await sealed.start() }
        #expect(error?.kind == .sealed)
        #expect(error?.exitCode == .unavailable)
        #expect(error?.isTransient == true)
        #expect(error?.message.contains("unseal") == true)

        let env = ["VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": Self.token, "VAULT_MAX_RETRIES": "1"]
        let down = try VaultBackend(settings: VaultSettings(), environment: env, httpClient: TestBao.http, logger: Logger(label: "t"))
        let refused = await #expect(throws: VaultError.self) { try await down.start() }
        #expect(refused?.kind == .unavailable)
        #expect(refused?.isTransient == true)
        #expect(refused?.message.contains("VAULT_ADDR") == true)
        #expect(refused?.message.contains(Self.token) == false)
    }

    @Test func configurationErrors() throws {
        #expect(throws: VaultError.self) {
            try VaultBackend(settings: VaultSettings(), environment: [:], httpClient: TestBao.http, logger: Logger(label: "t"))
        }
        #expect(throws: VaultError.self) {
            try VaultBackend(settings: VaultSettings(address: "vault:8200"), environment: [:], httpClient: TestBao.http, logger: Logger(label: "t"))
        }
        #expect(throws: VaultError.self) {
            try VaultBackend(settings: VaultSettings(address: "https://vault:8200", caCert: "/nonexistent/ca.pem"), environment: [:],
                             httpClient: TestBao.http, logger: Logger(label: "t"))
        }
    }

    @Test func environmentPrecedence() throws {
        let settings = VaultSettings(address: "http://file:8200", namespace: "file-ns", caCert: "/file/ca.pem", timeout: .seconds(7))
        let options = try VaultOptions(settings: settings, environment: [
            "VAULT_ADDR": "http://env:8200/", "BAO_ADDR": "http://bao:8200", "VAULT_NAMESPACE": "/env-ns/",
            "VAULT_CACERT": "/env/ca.pem", "VAULT_CLIENT_TIMEOUT": "3s",
        ])
        #expect(options.address == "http://env:8200")
        #expect(options.namespace == "env-ns")
        #expect(options.caCert == "/env/ca.pem")
        #expect(options.timeout == .seconds(3))
        #expect(!options.skipVerify)
        let bao = try VaultOptions(settings: settings, environment: ["BAO_ADDR": "http://bao:8200"])
        #expect(bao.address == "http://bao:8200")
        #expect(bao.namespace == "file-ns")
        #expect(bao.timeout == .seconds(7))
        #expect(try VaultOptions(settings: VaultSettings(address: "http://x", tlsSkipVerify: true), environment: [:]).skipVerify)
    }

    @Test func helpers() {
        #expect(Base64.encode(Array("".utf8)) == "")
        #expect(Base64.encode(Array("f".utf8)) == "Zg==")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(VaultClient.encodePath("secret/my app/ü") == "secret/my%20app/%C3%BC")
        #expect(Redactor(secrets: ["s3cr3t"]).clean("bad s3cr3t here") == "bad <redacted> here")
    }
}

final class Counter: Sendable {
    private let n = Mutex(0)
    func next() -> Int {
        n.withLock { n in
            n += 1
            return n
        }
    }
}
