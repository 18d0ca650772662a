import Foundation
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentVault

/// A throw-away Postgres on a free loopback port (run as the `postgres` user when we are root,
/// since Postgres refuses to run as root).
final class TestPostgres {
    static let binaries = "/usr/local/bin"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: binaries + "/postgres") && TestBao.available }

    let dir: String
    let port: Int
    private let asUser: String

    init() throws {
        dir = "/tmp/pg-" + UUID().uuidString.prefix(8).lowercased()
        port = Int(try shell("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'")
            .trimmingCharacters(in: .whitespacesAndNewlines))!
        asUser = getuid() == 0 ? "runuser -u postgres -- " : ""
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if getuid() == 0 { try shell("chown postgres \(dir)") }
        try shell("\(asUser)\(Self.binaries)/initdb -D \(dir)/data -U admin --auth=trust >\(dir)/initdb.log 2>&1")
        try shell("\(asUser)\(Self.binaries)/pg_ctl -D \(dir)/data -l \(dir)/server.log -w -o \"-p \(port) -k \(dir) -c listen_addresses=127.0.0.1\" start", capture: false)
    }

    func stop() {
        _ = try? shell("\(asUser)\(Self.binaries)/pg_ctl -D \(dir)/data -m immediate -w stop", capture: false)
        try? FileManager.default.removeItem(atPath: dir)
    }
}

@Suite("database engine with a renewable lease", .enabled(if: TestPostgres.available))
struct DatabaseTests {
    @Test(.timeLimit(.minutes(1)))
    func aRenewableLeaseIsRenewedThenReplacedAtItsMaxTTL() async throws {
        let postgres = try TestPostgres()
        defer { postgres.stop() }
        let mount = TestBao.unique("database")
        try await TestBao.call(.POST, "sys/mounts/\(mount)", ["type": "database"])
        try await TestBao.call(.POST, "\(mount)/config/pg", [
            "plugin_name": "postgresql-database-plugin",
            "connection_url": "postgresql://{{username}}:{{password}}@127.0.0.1:\(postgres.port)/postgres?sslmode=disable",
            "username": "admin", "password": "unused-with-trust", "allowed_roles": ["app"],
        ])
        try await TestBao.call(.POST, "\(mount)/roles/app", [
            "db_name": "pg",
            "creation_statements": ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"],
            "default_ttl": "6s", "max_ttl": "17s",
        ])
        let logs = LogCapture()
        let vault = try TestBao.backend(environment: ["VAULT_TOKEN": TestBao.rootToken], logger: logs.logger(level: .debug))
        let replaced = ReplacementLog(vault)
        try await vault.start()
        let reference = "vault:\(mount)/creds/app"
        let fetched = ContinuousClock.now
        guard case .found(let first) = try await vault.get(reference) else { Issue.record("not found"); return }
        let lease = try #require(first.lease)
        #expect(lease.renewable)
        #expect(lease.duration == .seconds(6))
        #expect(first.value["username"]?.stringValue?.isEmpty == false)

        let seen = await replaced.wait(count: 1, timeout: .seconds(22))
        let (_, at) = try #require(seen.first)
        #expect(logs.count("lease renewed", "reference=\(reference)", "ttl=6s") >= 1, "\(logs.text)")
        #expect(logs.count("max TTL reached") >= 1)
        #expect(at - fetched < .seconds(17))  // before the max TTL ends the lease
        #expect(at - fetched > .seconds(11))
        guard case .found(let second) = try await vault.get(reference) else { Issue.record("gone"); return }
        #expect(second.value["username"] != first.value["username"])
        await vault.shutdown()
        let password = first.value["password"]?.stringValue ?? "missing"
        #expect(logs.leaks(["password": password]).isEmpty)
    }
}
