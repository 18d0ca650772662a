import Foundation
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentAWS

/// The poll (`changes(since:)`): versions checked in batches, values moved only for what changed.
@Suite(.enabled(if: Moto.enabled)) struct PollTests {
    func known(_ backend: AWSBackend, _ references: [String]) async throws -> [Locator: FetchOutcome] {
        let outcomes = try await fetch(backend, references)
        return Dictionary(uniqueKeysWithValues: try references.map { (try Reference.parse($0).locator, outcomes[$0]!) })
    }

    func poll(_ backend: AWSBackend, _ known: [Locator: FetchOutcome]) async throws -> [Locator: FetchOutcome] {
        var out: [Locator: FetchOutcome] = [:]
        for provider in backend.providers {
            let mine = known.filter { provider.schemes.contains($0.key.scheme) }
            guard !mine.isEmpty else { continue }
            out.merge(try await provider.changes(since: mine)) { a, _ in a }
        }
        return out
    }

    @Test("a quiet poll of 25 parameters and 25 secrets: 3 GetParameters and 3 ListSecrets, no values moved")
    func quietPoll() async throws {
        let moto = try Moto.require()
        let backend = makeBackend(moto.environment())
        let refs = (1...25).map { String(format: "ssm:/sa-test/batch/p%02d", $0) } + (1...25).map { String(format: "sm:sa-test/batch/s%02d", $0) }
        let state = try await known(backend, refs)
        backend.resetCallCounts()
        let changes = try await poll(backend, state)
        #expect(changes.isEmpty)
        #expect(backend.callCount(service: "ssm", operation: "GetParameters") == 3)
        #expect(backend.callCount(service: "ssm") == 3)
        #expect(backend.callCount(service: "secretsmanager", operation: "ListSecrets") == 3)
        #expect(backend.callCount(service: "secretsmanager") == 3, "no BatchGetSecretValue or GetSecretValue on a quiet poll")
    }

    @Test("a rotation in each service is found by the poll, and only it is fetched")
    func rotation() async throws {
        let moto = try Moto.require()
        let rotation = RotationTests()
        let id = UUID().uuidString
        let param = "/sa-test/poll/\(id)", secret = "sa-test/poll/\(id)"
        try rotation.put(moto, "ssm", param, "first")
        try rotation.put(moto, "sm", secret, "first")
        let backend = makeBackend(moto.environment())
        let refs = ["ssm:\(param)", "sm:\(secret)", "ssm:/docker/registry/username", "sm:docker/registry/password", "ssm-path:/sa-test/poll/"]
        let state = try await known(backend, refs)
        #expect(try await poll(backend, state).isEmpty)
        try rotation.put(moto, "ssm", param, "second")
        try rotation.put(moto, "sm", secret, "second")
        backend.resetCallCounts()
        let changes = try await poll(backend, state)
        #expect(Set(changes.keys) == [.ssm(name: param, selector: nil), .secretsManager(id: secret, stage: nil, versionID: nil),
                                      .ssmPath(path: "/sa-test/poll/")])
        #expect(changes[.ssm(name: param, selector: nil)].string == "second", "a changed SecureString is fetched decrypted")
        #expect(changes[.secretsManager(id: secret, stage: nil, versionID: nil)].string == "second")
        #expect(backend.callCount(service: "secretsmanager", operation: "ListSecrets") == 1)
        #expect(backend.callCount(service: "secretsmanager", operation: "GetSecretValue") == 1, "only the changed secret's value moves")
    }

    @Test("ListSecrets name prefixes: names, full ARNs and partial ARNs")
    func namePrefixes() {
        #expect(SecretsManagerProvider.namePrefix("prod/db") == "prod/db")
        #expect(SecretsManagerProvider.namePrefix("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf") == "prod/db")
        #expect(SecretsManagerProvider.namePrefix("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db") == "prod/db")
    }
}
