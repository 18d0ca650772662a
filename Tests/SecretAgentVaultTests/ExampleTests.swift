import Foundation
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentVault

@Suite("examples/vault")
struct ExampleTests {
    static let directory = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples/vault").path

    static func settings(directory: String = directory) throws -> VaultSettings {
        let yaml = try String(contentsOfFile: directory + "/agent.yaml", encoding: .utf8)
        let root = try ConfigNode.parse(yaml: yaml, file: directory + "/agent.yaml")
        return try VaultSettings(node: try #require(try root.block("vault")), baseDirectory: directory)
    }

    @Test func theExampleVaultBlockParses() throws {
        let settings = try Self.settings()
        #expect(settings.auth.method == .approle)
        #expect(settings.auth.roleIDFile == Self.directory + "/role-id")
        #expect(settings.auth.secretIDWrapped)
        #expect(settings.timeout == .seconds(30))
        for template in ["docker-config.json.mustache", "web.pem.mustache"] {
            #expect(FileManager.default.fileExists(atPath: Self.directory + "/" + template))
        }
    }
}
