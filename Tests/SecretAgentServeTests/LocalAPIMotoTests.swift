import Foundation
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentAWS
@testable import SecretAgentServe

/// The local API against moto: AWS's exact JSON, errors in AWS's shapes, refusals that never
/// reach AWS, shared first fetches, the poll and refreshNow.
@Suite(.enabled(if: Moto.enabled)) struct LocalAPIMotoTests {
    static let rotatedV1 = "11111111-1111-4111-8111-111111111111"
    static let everything = ServeAllowSettings(secretsManager: ["*"], ssm: ["*"])

    @Test func secretsManagerAnswersEqualMotosGetSecretValue() async throws {
        let backend = try Moto.require().backend()
        let cases: [(String, [String: Value])] = [
            ("/secretsmanager/get?secretId=docker/registry/password", ["SecretId": .string("docker/registry/password")]),
            ("/secretsmanager/get?secretId=sa-test%2Fjson", ["SecretId": .string("sa-test/json")]),
            ("/secretsmanager/get?secretId=sa-test/binary", ["SecretId": .string("sa-test/binary")]),
            ("/secretsmanager/get?secretId=sa-test/rotated&versionId=\(Self.rotatedV1)",
             ["SecretId": .string("sa-test/rotated"), "VersionId": .string(Self.rotatedV1)]),
            ("/secretsmanager/get?secretId=sa-test/rotated&versionStage=AWSPREVIOUS",
             ["SecretId": .string("sa-test/rotated"), "VersionStage": .string("AWSPREVIOUS")]),
            ("/v1/sa-test/rotated", ["SecretId": .string("sa-test/rotated")]),
            ("/v1/sa-test%2Fjson?versionStage=AWSCURRENT", ["SecretId": .string("sa-test/json"), "VersionStage": .string("AWSCURRENT")]),
        ]
        try await withAPI(aws: backend, allow: ServeAllowSettings(secretsManager: ["docker/registry/password", "sa-test/*"])) { api in
            for (path, body) in cases {
                let response = try await get(api, path)
                #expect(response.status == 200, "\(path)")
                let expected = try await motoAnswer(backend, .secretsManager, "GetSecretValue", body)
                let served = try #require(response.json, "\(path) is JSON")
                #expect(served == expected, "\(path): the local API's JSON is moto's GetSecretValue answer")
                guard case .map(let fields) = served else { continue }
                #expect(Set(fields.keys).isSuperset(of: ["ARN", "Name", "VersionId", "VersionStages", "CreatedDate"]), "\(path)")
                #expect(fields["SecretString"] != nil || fields["SecretBinary"] != nil, "\(path)")
            }
            // A second round comes from the cache, byte for byte the same.
            let first = try await get(api, cases[0].0), again = try await get(api, cases[0].0)
            #expect(first.body == again.body)
            #expect(api.statistics.hits >= 1)
        }
    }

    @Test func parameterAnswersEqualMotosGetParameter() async throws {
        let backend = try Moto.require().backend()
        let cases: [(String, [String: Value])] = [
            ("/systemsmanager/parameters/get?name=/sa-test/versioned", ["Name": .string("/sa-test/versioned"), "WithDecryption": .bool(false)]),
            ("/systemsmanager/parameters/get?name=%2Fsa-test%2Fversioned&version=1", ["Name": .string("/sa-test/versioned:1"), "WithDecryption": .bool(false)]),
            ("/systemsmanager/parameters/get?name=/sa-test/versioned&label=stable", ["Name": .string("/sa-test/versioned:stable"), "WithDecryption": .bool(false)]),
            ("/systemsmanager/parameters/get?name=/sa-test/secure&withDecryption=true", ["Name": .string("/sa-test/secure"), "WithDecryption": .bool(true)]),
            ("/systemsmanager/parameters/get?name=/sa-test/secure", ["Name": .string("/sa-test/secure"), "WithDecryption": .bool(false)]),
        ]
        try await withAPI(aws: backend, allow: ServeAllowSettings(ssm: ["/sa-test/versioned", "/sa-test/secure"])) { api in
            for (path, body) in cases {
                let response = try await get(api, path)
                #expect(response.status == 200, "\(path)")
                let expected = try await motoAnswer(backend, .ssm, "GetParameter", body)
                #expect(response.json == expected, "\(path): the local API's JSON is moto's GetParameter answer")
                #expect(response.json?.awsField("Parameter")?.awsField("Version") != nil, "\(path)")
            }
            let decrypted = try await get(api, cases[3].0)
            #expect(decrypted.json?.awsField("Parameter")?.awsField("Value") == .string("secure-plaintext-7f3a"))
        }
    }

    @Test func refusalsNeverReachABackend() async throws {
        let backend = try Moto.require().backend()
        try await withAPI(aws: backend, allow: ServeAllowSettings(secretsManager: ["docker/*"], ssm: ["/docker/*"])) { api in
            let path = "/secretsmanager/get?secretId=docker/registry/password"
            let missing = try await get(api, path, token: nil)
            #expect(missing.status == 403)
            #expect(missing.json?.awsField("__type") == .string("AccessDeniedException"))
            #expect(try await get(api, path, token: "wrong").status == 403)
            #expect(try await get(api, path, token: testToken + "x").status == 403)
            #expect(try await get(api, path, token: String(testToken.dropLast())).status == 403)
            #expect(try await get(api, path, token: "").status == 403)
            let forwarded = try await get(api, path, headers: [("X-Forwarded-For", "10.0.0.1")])
            #expect(forwarded.status == 400)
            #expect(try await get(api, path, method: .POST).status == 405)
            let outside = try await get(api, "/secretsmanager/get?secretId=sa-test/json")
            #expect(outside.status == 403)
            #expect(outside.json?.awsField("__type") == .string("AccessDeniedException"))
            #expect(try await get(api, "/systemsmanager/parameters/get?name=/sa-test/secure&withDecryption=true").status == 403)
            #expect(try await get(api, "/v1/ref?ref=sm:sa-test/json%23password").status == 403)
            #expect(backend.callCount(service: "secretsmanager") == 0)
            #expect(backend.callCount(service: "ssm") == 0)
            #expect(api.statistics.refusals == 10)
            // The token is also accepted in X-Vault-Token, as the Secrets Manager Agent does.
            let vaultHeader = try await get(api, path, token: nil, headers: [("X-Vault-Token", testToken)])
            #expect(vaultHeader.status == 200)
        }
    }

    @Test func unknownNamesGetAWSErrorShapes() async throws {
        let backend = try Moto.require().backend()
        try await withAPI(aws: backend, allow: Self.everything) { api in
            let secret = try await get(api, "/secretsmanager/get?secretId=sa-test/does-not-exist")
            #expect(secret.status == 400)
            #expect(secret.json?.awsField("__type") == .string("ResourceNotFoundException"))
            #expect(secret.json?.awsField("message")?.awsString?.isEmpty == false)
            #expect(secret.headers["x-amzn-errortype"] == "ResourceNotFoundException")
            let parameter = try await get(api, "/systemsmanager/parameters/get?name=/sa-test/does-not-exist")
            #expect(parameter.status == 400)
            #expect(parameter.json?.awsField("__type") == .string("ParameterNotFound"))
            let badVersion = try await get(api, "/secretsmanager/get?secretId=sa-test/rotated&versionId=33333333-3333-4333-8333-333333333333")
            #expect(badVersion.status == 400)
            #expect(badVersion.json?.awsField("__type") == .string("ResourceNotFoundException"))
            #expect(try await get(api, "/secretsmanager/get").status == 400)
            #expect(try await get(api, "/nowhere").status == 404)
            // Errors are not cached: each request asks again.
            _ = try await get(api, "/secretsmanager/get?secretId=sa-test/does-not-exist")
            #expect(backend.callCount(service: "secretsmanager", operation: "GetSecretValue") == 3)
        }
    }

    @Test func awsRefusalsKeepAWSCodes() async throws {
        let backend = try Moto.require().denied().backend()
        try await withAPI(aws: backend, allow: Self.everything) { api in
            let secret = try await get(api, "/secretsmanager/get?secretId=sa-test/json")
            // AWS's own code as it sent it (moto: AccessDenied, 403; AWS: AccessDeniedException, 400).
            let denied: Set<String> = ["AccessDenied", "AccessDeniedException"]
            #expect([400, 403].contains(secret.status))
            #expect(denied.contains(secret.json?.awsField("__type")?.awsString ?? ""))
            #expect(secret.json?.awsField("message")?.awsString?.contains("AKIA") == false, "the agent's identity is not told to the client")
            let parameter = try await get(api, "/systemsmanager/parameters/get?name=/sa-test/secure")
            #expect(denied.contains(parameter.json?.awsField("__type")?.awsString ?? ""))
        }
    }

    @Test func hundredConcurrentFirstRequestsMakeOneBackendCall() async throws {
        let backend = try Moto.require().backend()
        try await withAPI(aws: backend, allow: Self.everything) { api in
            let statuses = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        let r = try await get(api, "/secretsmanager/get?secretId=sa-test/json")
                        return (r.status, r.body)
                    }
                }
                var all: [(Int, [UInt8])] = []
                for try await result in group { all.append(result) }
                return all
            }
            #expect(statuses.count == 100)
            #expect(statuses.allSatisfy { $0.0 == 200 })
            #expect(Set(statuses.map(\.1)).count == 1)
            #expect(backend.callCount(service: "secretsmanager", operation: "GetSecretValue") == 1)
            #expect(backend.callCount(service: "secretsmanager") == 1)
            let stats = api.statistics
            #expect(stats.hits + stats.misses == 100)
        }
    }

    /// Creates or rotates a secret as the seeded user (PutSecretValue), returns the new VersionId.
    @discardableResult
    func putSecret(_ backend: AWSBackend, _ name: String, _ value: String) async throws -> String {
        do {
            let answer = try await motoAnswer(backend, .secretsManager, "PutSecretValue", ["SecretId": .string(name), "SecretString": .string(value)])
            return answer.awsField("VersionId")?.awsString ?? ""
        } catch let error as AWSError where error.code == "ResourceNotFoundException" {
            let answer = try await motoAnswer(backend, .secretsManager, "CreateSecret", ["Name": .string(name), "SecretString": .string(value)])
            return answer.awsField("VersionId")?.awsString ?? ""
        }
    }

    func value(_ response: APIResponse) -> String? {
        response.json?.awsField("SecretString")?.awsString
    }

    @Test func rotationIsServedWithinOnePoll() async throws {
        let moto = try Moto.require()
        let writer = moto.backend()
        let name = uniqueName("sa-test/serve-rotation")
        let parameter = "/" + uniqueName("sa-test/serve-rotation")
        try await putSecret(writer, name, "first")
        _ = try await motoAnswer(writer, .ssm, "PutParameter", ["Name": .string(parameter), "Value": .string("p-first"), "Type": .string("String")])
        let polled = moto.backend(), stale = moto.backend()
        let path = "/secretsmanager/get?secretId=\(name)"
        let parameterPath = "/systemsmanager/parameters/get?name=\(parameter)"
        try await withAPI(aws: polled, allow: Self.everything, poll: .seconds(1)) { api in
            try await withAPI(aws: stale, allow: Self.everything, poll: .seconds(300)) { control in
                #expect(value(try await get(api, path)) == "first")
                #expect(value(try await get(control, path)) == "first")
                #expect(try await get(api, parameterPath).json?.awsField("Parameter")?.awsField("Value") == .string("p-first"))
                let v2 = try await putSecret(writer, name, "second")
                _ = try await motoAnswer(writer, .ssm, "PutParameter", ["Name": .string(parameter), "Value": .string("p-second"),
                                                                        "Type": .string("String"), "Overwrite": .bool(true)])
                // Within one poll (1 s ±10 %); the bound is generous for a loaded machine.
                let deadline = ContinuousClock.now + .seconds(20)
                var served = try await get(api, path)
                while value(served) != "second" && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                    served = try await get(api, path)
                }
                #expect(value(served) == "second")
                #expect(served.json?.awsField("VersionId") == .string(v2))
                var parameterServed = try await get(api, parameterPath)
                while parameterServed.json?.awsField("Parameter")?.awsField("Value") != .string("p-second") && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                    parameterServed = try await get(api, parameterPath)
                }
                #expect(parameterServed.json?.awsField("Parameter")?.awsField("Value") == .string("p-second"))
                // What a 300 s TTL cache does: the old value, still.
                #expect(value(try await get(control, path)) == "first")
                // The poll asks for versions (ListSecrets), not values: one GetSecretValue per version.
                #expect(polled.callCount(service: "secretsmanager", operation: "GetSecretValue") == 2)
                #expect(polled.callCount(service: "secretsmanager", operation: "ListSecrets") >= 1)
                #expect(api.statistics.refreshes >= 2)
            }
        }
        _ = try? await motoAnswer(writer, .secretsManager, "DeleteSecret", ["SecretId": .string(name), "ForceDeleteWithoutRecovery": .bool(true)])
        _ = try? await motoAnswer(writer, .ssm, "DeleteParameter", ["Name": .string(parameter)])
    }

    @Test func refreshNowFetchesAtOnceButNotTooOften() async throws {
        let moto = try Moto.require()
        let writer = moto.backend(), backend = moto.backend()
        let name = uniqueName("sa-test/serve-refresh")
        try await putSecret(writer, name, "first")
        let path = "/secretsmanager/get?secretId=\(name)"
        try await withAPI(aws: backend, allow: Self.everything, settings: ServeSettings(refreshNowInterval: .seconds(600))) { api in
            #expect(value(try await get(api, path)) == "first")
            try await putSecret(writer, name, "second")
            #expect(value(try await get(api, path)) == "first")
            #expect(value(try await get(api, path + "&refreshNow=true")) == "second")
            #expect(value(try await get(api, path)) == "second")
            #expect(backend.callCount(service: "secretsmanager", operation: "GetSecretValue") == 2)
            // Another refreshNow within refresh_now_interval is answered from the cache.
            try await putSecret(writer, name, "third")
            #expect(value(try await get(api, path + "&refreshNow=true")) == "second")
            #expect(backend.callCount(service: "secretsmanager", operation: "GetSecretValue") == 2)
            #expect(api.statistics.refreshes == 1)
        }
        _ = try? await motoAnswer(writer, .secretsManager, "DeleteSecret", ["SecretId": .string(name), "ForceDeleteWithoutRecovery": .bool(true)])
    }

    @Test func valuesNeverReachTheLogAtTrace() async throws {
        let backend = try Moto.require().backend()
        let capture = LogCapture()
        try await withAPI(aws: backend, allow: Self.everything, poll: .seconds(1), logger: capture.logger()) { api in
            _ = try await get(api, "/secretsmanager/get?secretId=docker/registry/password")
            _ = try await get(api, "/secretsmanager/get?secretId=docker/registry/password&refreshNow=true")
            _ = try await get(api, "/systemsmanager/parameters/get?name=/sa-test/secure&withDecryption=true")
            _ = try await get(api, "/secretsmanager/get?secretId=docker/registry/password", token: "wrong-\(testToken)")
            await api.pollOnce()
        }
        let text = capture.text
        #expect(text.contains("docker/registry/password"), "the log names references")
        for secret in ["Dr0ck3r-Regi5try-Pa55!", "secure-plaintext-7f3a", testToken] {
            #expect(!text.contains(secret), "a value or the token reached the log")
        }
    }
}
