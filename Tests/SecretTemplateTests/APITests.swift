@testable import SecretTemplate
import Testing

@Suite struct APITests {
    @Test(arguments: [
        ("{{ sm:prod/db#password }}", true),
        ("{{sm:prod/db#password}}", true),
        ("prefix-{{ ssm:/a | base64 }}-suffix", true),
        ("{{ arn:aws:secretsmanager:eu-west-1:123456789012:secret:x }}", true),
        ("{{#vault:secret/x}}{{user}}{{/vault:secret/x}}", true),
        ("{{=<% %>=}}<% env:HOME %>", true),
        (#"{{ "file:/a b" }}"#, true),
        ("{{.ID}}", false),
        ("{{ .Name }} and {{ index . 1 }}", false),
        ("{{ user }}", false),
        ("plain text", false),
        ("", false),
        ("{{ unclosed", false),
        ("{{ nope:x }}", false),
        ("{{ sm:x }} {{#open}}", false),
        ("{ sm:x }", false),
        ("{{! sm:x in a comment }}", false),
    ])
    func mentionsReference(text: String, expected: Bool) {
        #expect(Template.mentionsReference(text) == expected)
    }

    @Test func referencesIncludePartialsInOrder() throws {
        let partials = ["db": "{{ sm:prod/db#password }} {{ ssm:/shared }}", "outer": "{{ env:A }}{{> db }}"]
        let template = try Template(source: "{{ ssm:/first }}{{> outer }}{{ ssm:/shared }}{{ ssm:/last }}", name: "t",
                                    partials: { name in partials[name]! })
        #expect(template.references.map(\.text) == ["ssm:/first", "env:A", "sm:prod/db#password", "ssm:/shared", "ssm:/last"])
        #expect(template.locators.count == 5)
    }

    @Test func partialsLoadOncePerName() throws {
        final class Counter: @unchecked Sendable { var calls = 0 }
        let counter = Counter()
        _ = try Template(source: "{{> p }}{{> p }}\n  {{> p }}\n", name: "t", partials: { _ in counter.calls += 1; return "x" })
        #expect(counter.calls == 1)
    }

    @Test func partialRelativeFileReferencesUseTheBaseDirectory() throws {
        let template = try Template(source: "{{> p }}", name: "t", baseDirectory: "/etc/app", partials: { _ in "{{ file:k.txt }}" })
        #expect(template.locators == [.file(path: "/etc/app/k.txt")])
    }

    @Test func oneMebibyteValueRendersIntact() throws {
        var bytes = [UInt8](repeating: 0, count: 1 << 20)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 8) }
        let out = try renderBytes("<{{ file:/big }}>", ["file:/big": .bytes(bytes)])
        #expect(out.count == bytes.count + 2)
        #expect(Array(out[1..<(out.count - 1)]) == bytes)
        let text = String(repeating: "0123456789abcdef", count: 1 << 16)
        #expect(try render("{{ env:BIG }}", ["env:BIG": .string(text)]) == text)
        let encoded = try render("{{ env:BIG | base64 | base64decode }}", ["env:BIG": .string(text)])
        #expect(encoded == text)
    }

    @Test func manyTagsOnOneLongLineParseInLinearTime() throws {
        let source = String(repeating: "x{{ env:V }}", count: 20_000) + "{{ nokey }}"
        let error = failure(source, ["env:V": .string("v")])
        #expect(error?.location == SourceLocation(template: "t", line: 1, column: 240_001))
    }

    @Test func renderIsRepeatableWithNewValues() throws {
        let template = try Template(source: "{{ env:V }}", name: "t")
        #expect(String(decoding: try template.render(resolutions(["env:V": .string("1")])), as: UTF8.self) == "1")
        #expect(String(decoding: try template.render(resolutions(["env:V": .string("2")])), as: UTF8.self) == "2")
    }

    @Test func base64RoundTripsEveryLength() {
        for n in 0..<70 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) }
            let encoded = Base64.encode(bytes)
            #expect(encoded.utf8.count == (n + 2) / 3 * 4)
            #expect(Base64.decode(Array(encoded.utf8)) == bytes)
            let unpadded = encoded.utf8.filter { $0 != UInt8(ascii: "=") }
            #expect(Base64.decode(unpadded) == bytes)
        }
    }
}
