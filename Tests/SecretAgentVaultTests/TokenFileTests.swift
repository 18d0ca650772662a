import Foundation
import SecretAgentCore
import Testing
@testable import SecretAgentVault

/// `token_file` that another process refreshes (`bao agent`'s token sink), against the test OpenBao.
@Suite("token_file re-read when it changes", .enabled(if: TestBao.available || TestBao.required))
struct TokenFileTests {
    /// Replaces the file the way a token sink does: a new file renamed over the old one.
    func replace(_ file: String, with text: String) throws {
        try text.write(toFile: file + ".new", atomically: false, encoding: .utf8)
        _ = rename(file + ".new", file)
    }

    @Test("a new token in the file is used before the next request, while the old one is still valid; an emptied file keeps the last token")
    func newTokenIsPickedUp() async throws {
        let a = TestBao.unique("tokfile-a"), b = TestBao.unique("tokfile-b")
        try await TestBao.putKV2("secret", a, ["k": "value-a"])
        try await TestBao.putKV2("secret", b, ["k": "value-b"])
        try await TestBao.policy(a, "path \"secret/data/\(a)\" { capabilities = [\"read\"] }")
        try await TestBao.policy(b, "path \"secret/data/\(b)\" { capabilities = [\"read\"] }")
        let onlyA = try await TestBao.token(policies: [a])
        let onlyB = try await TestBao.token(policies: [b])
        let dir = try TempDir()
        let file = try dir.write("token", onlyA + "\n")
        var settings = VaultSettings()
        settings.auth.tokenFile = file
        let logs = LogCapture()
        let vault = try TestBao.backend(settings, logger: logs.logger(level: .trace))
        #expect(try await vault.value("vault:secret/\(a)#k")?.text == "value-a")

        // The old token still works (and may read a): only the file tells that b's token is current.
        try replace(file, with: onlyB + "\n")
        #expect(try await vault.value("vault:secret/\(b)#k")?.text == "value-b")
        #expect(logs.count("logged in to Vault", "token file changed") == 1)

        // Emptied (a sink between writes) or gone: the last token stays, with a warning.
        try replace(file, with: "")
        #expect(try await vault.value("vault:secret/\(b)#k")?.text == "value-b")
        #expect(logs.count("[warning]", "token file is empty or cannot be read") == 1)
        try FileManager.default.removeItem(atPath: file)
        #expect(try await vault.value("vault:secret/\(b)#k")?.text == "value-b")
        #expect(logs.count("[warning]", "token file is empty or cannot be read") == 2)

        // A token the server refuses: the last one stays.
        try replace(file, with: "s.not-a-real-token-at-all\n")
        #expect(try await vault.value("vault:secret/\(b)#k")?.text == "value-b")
        #expect(logs.count("[warning]", "new token in the Vault token file was not accepted") == 1)
        await vault.shutdown()
        #expect(logs.leaks(["token a": onlyA, "token b": onlyB, "bad token": "s.not-a-real-token-at-all", "a": "value-a", "b": "value-b"]).isEmpty)
    }

    @Test("VAULT_TOKEN wins over token_file, which is then not watched")
    func environmentWins() async throws {
        let path = TestBao.unique("tokfile-env")
        try await TestBao.putKV2("secret", path, ["k": "v"])
        let dir = try TempDir()
        let file = try dir.write("token", "s.unused-token-file\n")
        var settings = VaultSettings()
        settings.auth.tokenFile = file
        let logs = LogCapture()
        let vault = try TestBao.backend(settings, environment: ["VAULT_TOKEN": TestBao.rootToken], logger: logs.logger())
        #expect(try await vault.value("vault:secret/\(path)#k")?.text == "v")
        try replace(file, with: "s.another-unused-token\n")
        #expect(try await vault.value("vault:secret/\(path)#k")?.text == "v")
        #expect(logs.count("token file") == 0)
        await vault.shutdown()
    }
}
