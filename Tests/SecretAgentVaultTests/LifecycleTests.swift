import Foundation
import SecretAgentCore
import SecretTemplate
import Synchronization
import Testing
@testable import SecretAgentVault

/// Collects what a backend yields on `replacements`, with when.
final class ReplacementLog: Sendable {
    private let items = Mutex<[(Locator, ContinuousClock.Instant)]>([])

    init(_ vault: VaultBackend) {
        let stream = vault.replacements
        Task { [self] in
            for await locator in stream { add(locator) }
        }
    }

    private func add(_ locator: Locator) {
        items.withLock { $0.append((locator, .now)) }
    }

    var all: [(Locator, ContinuousClock.Instant)] {
        items.withLock { $0 }
    }

    /// Waits until `count` replacements arrived or `timeout` passed.
    func wait(count: Int, timeout: Duration) async -> [(Locator, ContinuousClock.Instant)] {
        let deadline = ContinuousClock.now + timeout
        while all.count < count && .now < deadline { try? await Task.sleep(for: .milliseconds(100)) }
        return all
    }
}

/// An AppRole at its own mount whose tokens read `policy`.
func makeAppRole(policy: String, ttl: String, maxTTL: String, dir: TempDir) async throws -> VaultSettings {
    let mount = TestBao.unique("approle")
    try await TestBao.call(.POST, "sys/auth/\(mount)", ["type": "approle"])
    try await TestBao.call(.POST, "auth/\(mount)/role/short", ["token_policies": [policy], "token_ttl": ttl, "token_max_ttl": maxTTL])
    let roleID = try await TestBao.call(.GET, "auth/\(mount)/role/short/role-id").data["role_id"] as! String
    let secretID = try await TestBao.call(.POST, "auth/\(mount)/role/short/secret-id").data["secret_id"] as! String
    var settings = VaultSettings(auth: VaultAuthSettings(method: .approle))
    settings.auth.mount = mount
    settings.auth.roleIDFile = try dir.write("role-id", roleID)
    settings.auth.secretIDFile = try dir.write("secret-id", secretID)
    return settings
}

@Suite("token renewal, re-login and leases against OpenBao", .enabled(if: TestBao.available))
struct LifecycleTests {
    @Test(.timeLimit(.minutes(2)))
    func aTenSecondTokenStaysValidThroughASixtySecondRun() async throws {
        let seeded = try await Seeded.make("renew")
        let token = try await TestBao.token(policies: [seeded.policy], ttl: "10s")
        let logs = LogCapture()
        let vault = try TestBao.backend(environment: ["VAULT_TOKEN": token], logger: logs.logger(level: .debug))
        try await vault.start()
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(60) {
            try await Task.sleep(for: .seconds(5))
            #expect(try await vault.value(seeded.reference)?.text == seeded.password)
        }
        await vault.shutdown()
        #expect(logs.count("Vault token renewed", "ttl=10s") >= 7, "renewals: \(logs.count("Vault token renewed"))")
        let lookup = try await TestBao.call(.POST, "auth/token/lookup", ["token": token])
        #expect((lookup.data["ttl"] as? Int ?? 0) > 0)
        #expect(logs.leaks(["token": token, "value": seeded.password]).isEmpty)
    }

    @Test(.timeLimit(.minutes(1)))
    func logsInAgainWhenTheTokenReachesItsMaxTTL() async throws {
        let seeded = try await Seeded.make("maxttl")
        let dir = try TempDir()
        let settings = try await makeAppRole(policy: seeded.policy, ttl: "3s", maxTTL: "6s", dir: dir)
        let logs = LogCapture()
        let vault = try TestBao.backend(settings, logger: logs.logger(level: .debug))
        try await vault.start()
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(16) {
            #expect(try await vault.value(seeded.reference)?.text == seeded.password)
            try await Task.sleep(for: .seconds(2))
        }
        await vault.shutdown()
        #expect(logs.count("logged in to Vault") >= 3, "\(logs.text)")
        #expect(logs.count("max TTL reached") >= 2)
        #expect(logs.leaks(["value": seeded.password]).isEmpty)
    }

    /// A PKI mount whose role issues certificates with a non-renewable lease.
    func makePKI(ttl: String) async throws -> String {
        let mount = TestBao.unique("pki")
        try await TestBao.call(.POST, "sys/mounts/\(mount)", ["type": "pki", "config": ["max_lease_ttl": "87600h"]])
        try await TestBao.call(.POST, "\(mount)/root/generate/internal", ["common_name": "test root", "ttl": "8760h"])
        try await TestBao.call(.POST, "\(mount)/roles/web", ["allowed_domains": ["example.test"], "allow_subdomains": true,
                                                             "generate_lease": true, "ttl": ttl, "max_ttl": "2h"])
        return mount
    }

    @Test(.timeLimit(.minutes(1)))
    func aNonRenewableLeaseIsReplacedBeforeItExpires() async throws {
        let mount = try await makePKI(ttl: "8s")
        let logs = LogCapture()
        let vault = try TestBao.backend(environment: ["VAULT_TOKEN": TestBao.rootToken], logger: logs.logger())
        let replaced = ReplacementLog(vault)
        try await vault.start()
        let reference = "vault:\(mount)/issue/web?common_name=web.example.test&ttl=8s"
        let locator = try Reference.parse(reference).locator
        let fetched = ContinuousClock.now
        guard case .found(let first) = try await vault.get(reference) else { Issue.record("not found"); return }
        let lease = try #require(first.lease)
        #expect(!lease.renewable)
        #expect(lease.duration > .seconds(4) && lease.duration <= .seconds(8))  // until the certificate's NotAfter (a loaded server takes a while)
        // Every use shares the one lease: a second fetch (and a field of it) sends nothing.
        guard case .found(let again) = try await vault.get(reference + "#serial_number") else { Issue.record("gone"); return }
        #expect(again.lease?.id == lease.id)
        #expect(logs.count("POST \(mount)/issue/web") == 1)

        let seen = await replaced.wait(count: 1, timeout: .seconds(12))
        let (yielded, at) = try #require(seen.first)
        #expect(yielded == locator)
        #expect(at - fetched < .seconds(8), "replaced after \(at - fetched)")
        #expect(at - fetched > .seconds(5))
        guard case .found(let second) = try await vault.get(reference) else { Issue.record("gone"); return }
        #expect(second.lease?.id != lease.id)
        #expect(second.value["serial_number"] != first.value["serial_number"])
        #expect(logs.count("POST \(mount)/issue/web") == 2)
        await vault.shutdown()
        let key = first.value["private_key"]?.stringValue ?? "missing"
        #expect(logs.leaks(["private key": key]).isEmpty)
    }

    @Test(.timeLimit(.minutes(1)))
    func leasesOfAnOldTokenAreReplacedAfterReLogin() async throws {
        let mount = try await makePKI(ttl: "1h")
        let policy = "pki-" + mount
        try await TestBao.policy(policy, "path \"\(mount)/issue/web\" { capabilities = [\"update\"] }")
        let dir = try TempDir()
        let settings = try await makeAppRole(policy: policy, ttl: "4s", maxTTL: "9s", dir: dir)
        let logs = LogCapture()
        let vault = try TestBao.backend(settings, logger: logs.logger(level: .debug))
        let replaced = ReplacementLog(vault)
        try await vault.start()
        let fetched = ContinuousClock.now
        guard case .found(let first) = try await vault.get("vault:\(mount)/issue/web?common_name=a.example.test") else {
            Issue.record("not found"); return
        }
        #expect(first.lease.map { $0.duration > .seconds(3500) } == true)
        // The lease dies with the token that obtained it (max TTL 9s): it must be replaced before.
        let seen = await replaced.wait(count: 1, timeout: .seconds(12))
        let (_, at) = try #require(seen.first)
        #expect(at - fetched < .seconds(9))
        #expect(logs.count("logged in to Vault") == 2)
        guard case .found(let second) = try await vault.get("vault:\(mount)/issue/web?common_name=a.example.test") else {
            Issue.record("gone"); return
        }
        #expect(second.lease?.id != first.lease?.id)
        await vault.shutdown()
    }

    @Test func namespaces() async throws {
        let namespace = TestBao.unique("team")
        try await TestBao.call(.POST, "sys/namespaces/\(namespace)")
        try await TestBao.mountKV("kv", version: 2, namespace: namespace)
        try await TestBao.putKV2("kv", "app", ["password": "in-namespace"], namespace: namespace)
        let vault = try TestBao.backend(VaultSettings(namespace: namespace), environment: ["VAULT_TOKEN": TestBao.rootToken])
        #expect(try await vault.value("vault:kv/app#password")?.text == "in-namespace")
        await vault.shutdown()

        let fromEnv = try TestBao.backend(VaultSettings(namespace: "wrong"),
                                          environment: ["VAULT_TOKEN": TestBao.rootToken, "VAULT_NAMESPACE": namespace])
        #expect(try await fromEnv.value("vault:kv/app#password")?.text == "in-namespace")
        await fromEnv.shutdown()

        let unknown = try TestBao.backend(VaultSettings(namespace: TestBao.unique("nope")), environment: ["VAULT_TOKEN": TestBao.rootToken])
        let error = await #expect(throws: VaultError.self) { try await unknown.start() }
        #expect(error?.kind == .unknownNamespace)
        #expect(error?.message.contains("VAULT_NAMESPACE") == true)
    }
}
