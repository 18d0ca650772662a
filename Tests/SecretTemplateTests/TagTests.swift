@testable import SecretTemplate
import Testing

@Suite struct TagTests {
    let user: [String: Value?] = ["ssm:/docker/registry/username": .string("deploy<&>\"")]

    @Test(arguments: [
        "{{ ssm:/docker/registry/username }}",
        "{{ssm:/docker/registry/username}}",
        "{{{ ssm:/docker/registry/username }}}",
        "{{{ssm:/docker/registry/username}}}",
        "{{& ssm:/docker/registry/username }}",
        "{{&ssm:/docker/registry/username}}",
        "{{\n  ssm:/docker/registry/username\n}}",
    ])
    func everyValueTagFormInsertsWithoutEscaping(source: String) throws {
        #expect(try render("[" + source + "]", user) == "[deploy<&>\"]")
    }

    @Test func quotedReferenceWithSpacesPipesAndBraces() throws {
        let values: [String: Value?] = ["file:/srv/my app/s|x}}.json": json(#"{"key": "v"}"#)]
        #expect(try render(#"{{ "file:/srv/my app/s|x}}.json#key" }}"#, values) == "v")
        #expect(try render(#"{{"file:/srv/my app/s|x}}.json#key"|upper}}"#, values) == "V")
    }

    @Test func quotedEscapes() throws {
        let values: [String: Value?] = [#"file:/a"b\c"#: .string("ok")]
        #expect(try render(#"{{ "file:/a\"b\\c" }}"#, values) == "ok")
        #expect(try render(#"{{ sm:x | default "say \"hi\" \\o/" }}"#, ["sm:x": nil]) == #"say "hi" \o/"#)
    }

    @Test func textAndUnicodeArePassedThrough() throws {
        let source = "héllo ✓ {{ env:X }} 🎉\r\n{ single } braces }}\n"
        #expect(try render(source, ["env:X": .string("wörld")]) == "héllo ✓ wörld 🎉\r\n{ single } braces }}\n")
    }

    @Test func contextKeysDottedAndCurrent() throws {
        let context = json(#"{"a": {"b": {"c": "deep"}}, "n": 3.10, "t": true, "z": null, "list": [1, "x"]}"#)
        #expect(try render("{{a.b.c}} {{n}} {{t}} [{{z}}] {{list}} {{list.1}}", context: context) == "deep 3.10 true [] [1,\"x\"] x")
        #expect(try render("{{.}}", context: .string("here")) == "here")
    }

    @Test func quotedKeyIsOneKey() throws {
        #expect(try render(#"{{ "app.config" }}"#, context: json(#"{"app.config": "dotted"}"#)) == "dotted")
    }

    @Test func mapValueRendersAsCompactJSONButJSONTextIsKept() throws {
        let values: [String: Value?] = [
            "ssm-path:/app/": .map(["b": .string("2"), "a": .string("1")]),
            "sm:raw": .string("{ \"spaced\" :  true }"),
        ]
        #expect(try render("{{ ssm-path:/app/ }}|{{ sm:raw }}", values) == #"{"a":"1","b":"2"}|{ "spaced" :  true }"#)
    }

    @Test func fieldOfAJSONStringValue() throws {
        let values: [String: Value?] = ["sm:prod/db": .string(#"{"username": "app", "password": "pw", "port": 5432}"#)]
        #expect(try render("{{ sm:prod/db#username }}:{{ sm:prod/db#password }}@{{ sm:prod/db#/port }}", values) == "app:pw@5432")
    }

    @Test func binaryValueIsWrittenAsBytes() throws {
        let bytes: [UInt8] = [0x00, 0xFF, 0xFE, 0x80, 0x0A]
        #expect(try renderBytes("<{{ file:/key.bin }}>", ["file:/key.bin": .bytes(bytes)]) == [0x3C] + bytes + [0x3E])
    }

    @Test func commentsInlineAndMultiline() throws {
        #expect(try render("a{{! note }}b{{!\n multi \"line\n}}c") == "abc")
        #expect(try render("a{{ ! spaced }}b") == "ab")
    }

    @Test func setDelimitersAndBack() throws {
        let values: [String: Value?] = ["env:X": .string("x")]
        #expect(try render("{{=<% %>=}}{{ go }} <% env:X %><%={{ }}=%> {{ env:X }}", values) == "{{ go }} x x")
        #expect(try render("{{=[[ ]]=}}[[# env:X ]]in[[/ env:X ]]", values) == "in")
        #expect(failure("{{=<%=}}")?.kind == .syntax)
    }

    @Test func referencesInOrderUniqueAndLocators() throws {
        let template = try Template(source: """
            {{ sm:prod/db#username }} {{ ssm:/a }} {{ sm:prod/db#password }}
            {{# vault:secret/x }}{{ user }}{{/ vault:secret/x }} {{ ssm:/a | base64 }} {{ key }}
            """, name: "t")
        #expect(template.references.map(\.text) == ["sm:prod/db#username", "ssm:/a", "sm:prod/db#password", "vault:secret/x"])
        #expect(template.locators == [
            .secretsManager(id: "prod/db", stage: nil, versionID: nil),
            .ssm(name: "/a", selector: nil),
            .vault(path: "secret/x", version: nil, parameters: [:]),
        ])
        #expect(template.name == "t")
    }

    @Test func relativeFileReferencesUseTheBaseDirectory() throws {
        let template = try Template(source: "{{ file:s.json#k }}", name: "t", baseDirectory: "/etc/app")
        #expect(template.locators == [.file(path: "/etc/app/s.json")])
    }

    @Test func sectionsOnOneLocatorShareOneFetch() throws {
        let template = try Template(source: "{{#vault:database/creds/app}}{{username}}{{/vault:database/creds/app}} {{ vault:database/creds/app#password }}", name: "t")
        #expect(template.locators.count == 1)
        let values: [Locator: Resolution] = [.vault(path: "database/creds/app", version: nil, parameters: [:]): .found(json(#"{"username": "u", "password": "p"}"#))]
        #expect(String(decoding: try template.render(values), as: UTF8.self) == "u p")
    }
}
