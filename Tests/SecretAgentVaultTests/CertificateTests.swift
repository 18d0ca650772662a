import Foundation
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentVault

/// Write-style references answered without a lease (a PKI role without `generate_lease`).
@Suite("certificates without a lease against OpenBao", .enabled(if: TestBao.available))
struct CertificateTests {
    /// A PKI mount whose role `web` issues certificates without a lease.
    func makePKI() async throws -> String {
        let mount = TestBao.unique("pki")
        try await TestBao.call(.POST, "sys/mounts/\(mount)", ["type": "pki", "config": ["max_lease_ttl": "87600h"]])
        try await TestBao.call(.POST, "\(mount)/root/generate/internal", ["common_name": "test root", "ttl": "8760h"])
        try await TestBao.call(.POST, "\(mount)/roles/web", ["allowed_domains": ["example.test"], "allow_subdomains": true,
                                                             "ttl": "1h", "max_ttl": "2h"])
        return mount
    }

    func serial(_ outcome: FetchOutcome?) -> String? {
        guard case .found(let secret)? = outcome else { return nil }
        return secret.value["serial_number"]?.stringValue
    }

    @Test(.timeLimit(.minutes(1)))
    func aWriteStyleReferenceIsNotIssuedAgainAtEveryPoll() async throws {
        let mount = try await makePKI()
        let logs = LogCapture()
        let vault = try TestBao.backend(environment: ["VAULT_TOKEN": TestBao.rootToken], logger: logs.logger())
        let certificate = try Reference.parse("vault:\(mount)/issue/web?common_name=poll.example.test").locator
        let random = try Reference.parse("vault:sys/tools/random/16?format=hex").locator
        var known = try await vault.provider.fetch([certificate, random])
        guard case .found(let first)? = known[certificate] else { Issue.record("not found"); return }
        #expect(first.lease == nil)
        let firstSerial = try #require(serial(known[certificate]))
        // Polled every second for five seconds: nothing is issued again, nothing changes.
        for _ in 0..<5 {
            try await Task.sleep(for: .seconds(1))
            let changes = try await vault.provider.changes(since: known)
            #expect(changes.isEmpty, "changed: \(changes.keys.map(\.text))")
            known.merge(changes) { $1 }
        }
        #expect(serial(known[certificate]) == firstSerial)
        // A fetch (the agent's refresh of a template) answers from what is held.
        #expect(serial(try await vault.provider.fetch([certificate])[certificate]) == firstSerial)
        #expect(logs.count("POST \(mount)/issue/web") == 1, "\(logs.count("POST \(mount)/issue/web")) issues")
        #expect(logs.count("POST sys/tools/random/16") == 1)
        // Not a lease: no lease gauge for it.
        #expect(await vault.timeLeft().leases.isEmpty)
        await vault.shutdown()
        let key = first.value["private_key"]?.stringValue ?? "missing"
        #expect(logs.leaks(["private key": key]).isEmpty)
    }

    @Test(.timeLimit(.minutes(1)))
    func aCertificateIsIssuedAgainAtAboutTwoThirdsOfItsLife() async throws {
        let mount = try await makePKI()
        let logs = LogCapture()
        let vault = try TestBao.backend(environment: ["VAULT_TOKEN": TestBao.rootToken], logger: logs.logger())
        let replaced = ReplacementLog(vault)
        let reference = "vault:\(mount)/issue/web?common_name=short.example.test&ttl=6s"
        let locator = try Reference.parse(reference).locator
        let fetched = ContinuousClock.now
        let first = try #require(serial(try await vault.get(reference)))
        let seen = await replaced.wait(count: 1, timeout: .seconds(10))
        let (yielded, at) = try #require(seen.first)
        #expect(yielded == locator)
        #expect(at - fetched > .milliseconds(2500) && at - fetched < .milliseconds(5500), "issued again after \(at - fetched)")
        let second = try #require(serial(try await vault.get(reference)))
        #expect(second != first)
        #expect(logs.count("POST \(mount)/issue/web") == 2)  // the fetch after the replacement sent nothing
        await vault.shutdown()
    }

    @Test func notAfterIsReadFromTheCertificate() async throws {
        let mount = try await makePKI()
        let issued = try await TestBao.call(.POST, "\(mount)/issue/web", ["common_name": "der.example.test", "ttl": "90m"])
        let pem = try #require(issued.data["certificate"] as? String)
        let expiration = try #require(issued.data["expiration"] as? Int)
        #expect(Certificate.notAfter(pem: pem) == expiration)
        // Without `expiration`, the certificate says when.
        let left = try #require(Expiry.timeLeft(of: .map(["certificate": .string(pem)])))
        #expect(left > .seconds(80 * 60) && left <= .seconds(90 * 60))
        #expect(Expiry.timeLeft(of: .map(["certificate": .string("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")])) == nil)
        #expect(Expiry.timeLeft(of: .map(["expiration": .number("3600")])) == nil)  // a TTL, not a time
        #expect(Expiry.timeLeft(of: .map(["value": .string("x")])) == nil)

        // A certificate past 2049 has a GeneralizedTime NotAfter.
        let dir = try TempDir()
        for days in [1, 10_000] {
            try shell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days \(days) -subj /CN=t -keyout \(dir.path)/k.pem -out \(dir.path)/c.pem 2>/dev/null")
            let expected = Int(try shell("date -u -d \"$(openssl x509 -in \(dir.path)/c.pem -noout -enddate | cut -d= -f2)\" +%s")
                .trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(Certificate.notAfter(pem: try String(contentsOfFile: "\(dir.path)/c.pem", encoding: .utf8)) == expected, "\(days) days")
        }
    }
}
