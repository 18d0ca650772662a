import Foundation
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentVault

@Test("the test OpenBao is there when SECRET_AGENT_REQUIRE_SERVERS=1")
func openBaoPresentWhenRequired() {
    if TestBao.required {
        #expect(TestBao.available, "SECRET_AGENT_REQUIRE_SERVERS=1 but SECRET_AGENT_TEST_VAULT_ADDR is not set: run scripts/test-servers.sh start and source its env")
    }
}

@Suite("KV v1 and v2 against OpenBao", .enabled(if: TestBao.available))
struct KVTests {
    @Test func kv2ReadsTheCurrentVersionAndKeepsItsNumber() async throws {
        let path = TestBao.unique("docker")
        try await TestBao.putKV2("secret", "\(path)/registry", ["username": "ci", "password": "hunter2-v1"])
        try await TestBao.putKV2("secret", "\(path)/registry", ["username": "ci", "password": "hunter2-v2"])
        let vault = try TestBao.backend(environment: ["VAULT_TOKEN": TestBao.rootToken])
        try await vault.start()
        defer { Task { await vault.shutdown() } }

        guard case .found(let secret) = try await vault.get("vault:secret/\(path)/registry") else {
            Issue.record("not found"); return
        }
        #expect(secret.version == "2")
        #expect(secret.lease == nil)
        #expect(try await vault.value("vault:secret/\(path)/registry#password")?.text == "hunter2-v2")
        #expect(try await vault.value("vault:secret/\(path)/registry?version=1#password")?.text == "hunter2-v1")
        guard case .found(let pinned) = try await vault.get("vault:secret/\(path)/registry?version=1") else {
            Issue.record("version 1 not found"); return
        }
        #expect(pinned.version == "1")
    }

    @Test func nonStringValuesKeepTheirJSONTypes() async throws {
        let path = TestBao.unique("typed")
        try await TestBao.putKV2("secret", path, ["port": 5432, "tls": true, "hosts": ["a", "b"], "ratio": 3.10])
        let vault = try TestBao.backend(environment: ["VAULT_TOKEN": TestBao.rootToken])
        guard case .found(let secret) = try await vault.get("vault:secret/\(path)") else { Issue.record("missing"); return }
        guard case .map(let map) = secret.value else { Issue.record("not a map"); return }
        #expect(map["port"] == .number("5432"))
        #expect(map["tls"] == .bool(true))
        #expect(map["hosts"] == .list([.string("a"), .string("b")]))
        await vault.shutdown()
    }

    @Test func missingSoftDeletedAndDestroyedAreNotFound() async throws {
        let path = TestBao.unique("gone")
        let vault = try TestBao.backend(environment: ["VAULT_TOKEN": TestBao.rootToken])
        defer { Task { await vault.shutdown() } }
        #expect(try await vault.get("vault:secret/\(path)/never").isNotFound)

        try await TestBao.putKV2("secret", "\(path)/soft", ["k": "v"])
        try await TestBao.call(.DELETE, "secret/data/\(path)/soft")
        #expect(try await vault.get("vault:secret/\(path)/soft").isNotFound)

        try await TestBao.putKV2("secret", "\(path)/hard", ["k": "v1"])
        try await TestBao.putKV2("secret", "\(path)/hard", ["k": "v2"])
        try await TestBao.call(.POST, "secret/destroy/\(path)/hard", ["versions": [2]])
        #expect(try await vault.get("vault:secret/\(path)/hard").isNotFound)
        // The older version is still there when pinned.
        #expect(try await vault.value("vault:secret/\(path)/hard?version=1#k")?.text == "v1")
        #expect(try await vault.get("vault:secret/\(path)/hard?version=9").isNotFound)
        // A path on no mount at all.
        #expect(try await vault.get("vault:\(TestBao.unique("nomount"))/x").isNotFound)
    }

    @Test func kv1MountsAreDetectedAndHaveNoVersion() async throws {
        let mount = TestBao.unique("kv1")
        try await TestBao.mountKV(mount, version: 1)
        try await TestBao.call(.POST, "\(mount)/app/db", ["password": "pw-v1", "user": "app"])
        let vault = try TestBao.backend(environment: ["VAULT_TOKEN": TestBao.rootToken])
        defer { Task { await vault.shutdown() } }
        guard case .found(let secret) = try await vault.get("vault:\(mount)/app/db") else { Issue.record("missing"); return }
        #expect(secret.version == nil)
        #expect(secret.lease == nil)
        #expect(try Reference.parse("vault:x#password").select(from: secret.value)?.text == "pw-v1")
        #expect(try await vault.get("vault:\(mount)/app/none").isNotFound)
        await #expect(throws: VaultError.self) { try await vault.get("vault:\(mount)/app/db?version=1") }
        let error = await #expect(throws: VaultError.self) { try await vault.get("vault:\(mount)/app/db?x=1") }
        #expect(error?.exitCode == .dataError)
    }

    @Test func manyLocatorsRunConcurrentlyAndTheMountIsLookedUpOnce() async throws {
        let mount = TestBao.unique("kv2")
        try await TestBao.mountKV(mount, version: 2)
        for i in 0..<12 { try await TestBao.putKV2(mount, "s\(i)", ["v": "value-\(i)"]) }
        let logs = LogCapture()
        let vault = try TestBao.backend(environment: ["VAULT_TOKEN": TestBao.rootToken], logger: logs.logger())
        let locators = try (0..<12).map { try Reference.parse("vault:\(mount)/s\($0)").locator }
        let outcomes = try await vault.provider.fetch(locators + locators)
        #expect(outcomes.count == 12)
        for (i, locator) in locators.enumerated() {
            guard case .found(let secret)? = outcomes[locator] else { Issue.record("s\(i) missing"); continue }
            #expect(secret.value == .map(["v": .string("value-\(i)")]))
        }
        #expect(logs.count("GET sys/internal/ui/mounts/\(mount)") == 1)
        #expect(logs.count("GET \(mount)/data/s") == 12)
        #expect(logs.leaks(["token": TestBao.rootToken, "value": "value-3"]).isEmpty)
        await vault.shutdown()
    }

    @Test func environmentWinsOverTheConfiguredAddress() async throws {
        let settings = VaultSettings(address: "http://127.0.0.1:1")
        let vault = try TestBao.backend(settings, environment: ["VAULT_ADDR": TestBao.address!, "VAULT_TOKEN": TestBao.rootToken])
        try await vault.start()
        await vault.shutdown()
        let baoOnly = try TestBao.backend(settings, environment: ["BAO_ADDR": TestBao.address!, "BAO_TOKEN": TestBao.rootToken])
        try await baoOnly.start()
        await baoOnly.shutdown()
    }
}

extension FetchOutcome {
    var isNotFound: Bool {
        if case .notFound = self { return true }
        return false
    }
}

@Suite("polling KV against OpenBao", .enabled(if: TestBao.available))
struct PollTests {
    @Test func aNewVersionIsAChangeAndPinnedVersionsAreNotPolled() async throws {
        let path = TestBao.unique("poll")
        try await TestBao.putKV2("secret", path, ["k": "one"])
        let logs = LogCapture()
        let vault = try TestBao.backend(environment: ["VAULT_TOKEN": TestBao.rootToken], logger: logs.logger())
        let current = try Reference.parse("vault:secret/\(path)").locator
        let pinned = try Reference.parse("vault:secret/\(path)?version=1").locator
        let known = try await vault.provider.fetch([current, pinned])
        #expect(try await vault.provider.changes(since: known).isEmpty)
        try await TestBao.putKV2("secret", path, ["k": "two"])
        let changed = try await vault.provider.changes(since: known)
        #expect(Array(changed.keys) == [current])
        guard case .found(let secret)? = changed[current] else { Issue.record("missing"); return }
        #expect(secret.version == "2")
        #expect(logs.count("GET secret/data/\(path)") == 4)  // 2 fetched + 2 polls of the current version only
        await vault.shutdown()
    }
}
