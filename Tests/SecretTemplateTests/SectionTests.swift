@testable import SecretTemplate
import Testing

@Suite struct SectionTests {
    @Test func mapIsTheContextOnce() throws {
        let values: [String: Value?] = ["vault:database/creds/app": .string(#"{"username": "u1", "password": "p1"}"#)]
        let source = "{{#vault:database/creds/app}}user={{username}} pass={{password}}{{/vault:database/creds/app}}"
        #expect(try render(source, values) == "user=u1 pass=p1")
    }

    @Test func listRepeatsPerItem() throws {
        let values: [String: Value?] = ["sm:hosts": .string(#"["a", "b", {"n": 1}]"#)]
        #expect(try render("{{#sm:hosts}}[{{.}}]{{/sm:hosts}}", values) == #"[a][b][{"n":1}]"#)
    }

    @Test(arguments: ["null", "false", "\"\"", "[]", "{}"])
    func falsyIsSkipped(literal: String) throws {
        #expect(try render("a{{#sm:x}}SHOWN{{/sm:x}}b", ["sm:x": json(literal)]) == "ab")
        #expect(try render("a{{^sm:x}}SHOWN{{/sm:x}}b", ["sm:x": json(literal)]) == "aSHOWNb")
    }

    @Test func emptyJSONTextIsFalsy() throws {
        #expect(try render("a{{#sm:x}}SHOWN{{/sm:x}}b", ["sm:x": .string(" {} ")]) == "ab")
    }

    @Test func notFoundIsSkippedAndInvertedRenders() throws {
        let source = "{{#sm:optional}}yes{{/sm:optional}}{{^sm:optional}}no{{/sm:optional}}"
        #expect(try render(source, ["sm:optional": nil]) == "no")
        let field = "{{#sm:db#replica}}{{host}}{{/sm:db#replica}}{{^sm:db#replica}}none{{/sm:db#replica}}"
        #expect(try render(field, ["sm:db": json(#"{"host": "h"}"#)]) == "none")
        #expect(try render(field, ["sm:db": json(#"{"replica": {"host": "r"}}"#)]) == "r")
    }

    @Test func truthyScalarRendersOnceWithItselfAsContext() throws {
        #expect(try render("{{#env:FLAG}}on:{{.}}{{/env:FLAG}}", ["env:FLAG": .string("1")]) == "on:1")
        #expect(try render("{{#n}}{{.}}{{/n}}", context: json(#"{"n": 0}"#)) == "0")
    }

    @Test func innerKeysFallBackToOuterContexts() throws {
        let values: [String: Value?] = ["sm:a": json(#"{"x": "inner"}"#), "sm:b": json(#"{"y": "outer"}"#)]
        #expect(try render("{{#sm:b}}{{#sm:a}}{{x}}/{{y}}{{/sm:a}}{{/sm:b}}", values) == "inner/outer")
    }

    @Test func eachOverMapInSortedKeyOrder() throws {
        let values: [String: Value?] = ["vault:secret/app": json(#"{"b": "2", "a": "1", "c": {"k": "v"}}"#)]
        let source = "{{#each vault:secret/app}}{{key}}={{value}};{{/each}}"
        #expect(try render(source, values) == #"a=1;b=2;c={"k":"v"};"#)
    }

    @Test func eachOverSSMPathGivesTheFullName() throws {
        let values: [String: Value?] = ["ssm-path:/app/prod/": .map([
            "db/password": .string("pw"),
            "db/config": .string(#"{"port": 5432}"#),
            "api_key": .string("k"),
        ])]
        let source = """
            {{#each ssm-path:/app/prod/}}
            {{name}} {{key}} {{value}}
            {{/each}}
            {{#each ssm-path:/app/prod/}}{{#value.port}}port={{value.port}}{{/value.port}}{{/each}}
            """
        #expect(try render(source, values) == """
            /app/prod/api_key api_key k
            /app/prod/db/config db/config {"port": 5432}
            /app/prod/db/password db/password pw
            port=5432
            """)
        let noSlash: [String: Value?] = ["ssm-path:/app": .map(["x": .string("1")])]
        #expect(try render("{{#each ssm-path:/app}}{{name}}{{/each}}", noSlash) == "/app/x")
    }

    @Test func eachWithoutSSMPathHasNoName() {
        let error = failure("{{#each sm:m}}{{name}}{{/each}}", ["sm:m": json(#"{"a": "1"}"#)])
        #expect(error?.kind == .missing)
        #expect(error?.message == "missing value: key 'name' was not found")
    }

    @Test func eachOverList() throws {
        #expect(try render("{{#each sm:l}}<{{.}}>{{/each}}", ["sm:l": .string(#"["x", "y"]"#)]) == "<x><y>")
        #expect(try render("{{#each items}}{{n}}{{/each}}", context: json(#"{"items": [{"n": 1}, {"n": 2}]}"#)) == "12")
        #expect(try render("a{{#each sm:l}}x{{/each}}b", ["sm:l": .list([])]) == "ab")
    }

    @Test func eachNotFoundOrScalarIsAnError() {
        let notFound = failure("{{#each sm:m}}x{{/each}}", ["sm:m": nil])
        #expect(notFound?.kind == .missing)
        #expect(notFound?.message == "missing value: sm:m was not found")
        let scalar = failure("{{#each sm:m}}x{{/each}}", ["sm:m": .string("s3cr3t-scalar")])
        #expect(scalar?.kind == .data)
        #expect(scalar?.message.contains("s3cr3t-scalar") == false)
    }

    @Test func dockerAuthIsBase64OfUserColonPassword() throws {
        let values: [String: Value?] = [
            "ssm:/docker/registry/username": .string("deploy"),
            "sm:docker/registry/password": .string("s3cr3t"),
        ]
        let source = #"{"auths": {"registry.example.com": {"auth": "{{#base64}}{{ ssm:/docker/registry/username }}:{{ sm:docker/registry/password }}{{/base64}}"}}}"#
        #expect(try render(source, values) == #"{"auths": {"registry.example.com": {"auth": "ZGVwbG95OnMzY3IzdA=="}}}"#)
    }

    @Test func otherFiltersAsSections() throws {
        #expect(try render("{{#upper}}a{{ env:X }}{{/upper}}", ["env:X": .string("b")]) == "AB")
        #expect(try render("{{#trim}}  x  {{/trim}}|{{#json}}a\"b{{/json}}|{{#shell}}it's{{/shell}}") == #"x|"a\"b"|'it'\''s'"#)
    }

    @Test func aContextKeyNamedLikeAFilterWins() throws {
        let context = json(#"{"base64": {"v": "key"}}"#)
        #expect(try render("{{#base64}}{{v}}{{/base64}}", context: context) == "key")
        #expect(try render("{{#trim}}x{{/trim}}", context: json(#"{"trim": false}"#)) == "")
    }

    @Test func invertedOverTruthy() throws {
        #expect(try render("{{^sm:x}}no{{/sm:x}}", ["sm:x": .string("v")]) == "")
        #expect(try render("{{^sm:x}}no{{/sm:x}}", ["sm:x": .number("0")]) == "")
    }
}
