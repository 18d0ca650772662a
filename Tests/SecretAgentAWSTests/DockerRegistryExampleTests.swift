import Foundation
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentAWS

/// examples/docker-registry renders, from moto, the config.json `docker login` writes.
@Suite(.enabled(if: Moto.enabled)) struct DockerRegistryExampleTests {
    static let example = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/docker-registry").path

    @Test func rendersWhatDockerLoginWrites() async throws {
        let moto = try Moto.require()
        let source = try String(contentsOfFile: Self.example + "/config.json", encoding: .utf8)
        let expected = try String(contentsOfFile: Self.example + "/expected-config.json", encoding: .utf8)
        let template = try Template(source: source, name: "config.json", baseDirectory: Self.example)
        #expect(template.locators == [.ssm(name: "/docker/registry/url", selector: nil),
                                      .ssm(name: "/docker/registry/username", selector: nil),
                                      .secretsManager(id: "docker/registry/password", stage: nil, versionID: nil)])
        let backend = makeBackend(moto.environment())
        var values: [Locator: Resolution] = [:]
        for provider in backend.providers {
            let mine = template.locators.filter { provider.schemes.contains($0.scheme) }
            for (locator, outcome) in try await provider.fetch(Array(mine)) {
                switch outcome {
                case .found(let secret): values[locator] = .found(secret.value)
                case .notFound: values[locator] = .notFound
                }
            }
        }
        let rendered = try template.render(values)
        #expect(String(decoding: rendered, as: UTF8.self) == expected)
        #expect(backend.callCount(service: "ssm") == 1 && backend.callCount(service: "secretsmanager") == 1)
    }
}
