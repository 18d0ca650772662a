@testable import SecretTemplate
import Testing

@Suite struct FilterTests {
    func apply(_ filters: String, to value: Value?) throws(TemplateError) -> String {
        try render("{{ env:V | \(filters) }}", ["env:V": value])
    }

    @Test func base64() throws {
        #expect(try apply("base64", to: .string("")) == "")
        #expect(try apply("base64", to: .string("f")) == "Zg==")
        #expect(try apply("base64", to: .string("fo")) == "Zm8=")
        #expect(try apply("base64", to: .string("foo")) == "Zm9v")
        #expect(try apply("base64", to: .string("user:pässword")) == "dXNlcjpww6Rzc3dvcmQ=")
    }

    @Test func binaryRoundTripsThroughBase64() throws {
        let bytes: [UInt8] = (0...255).map { UInt8($0) } + [0xFF, 0x00]
        let encoded = try apply("base64", to: .bytes(bytes))
        #expect(encoded.hasPrefix("AAECAwQF"))
        #expect(try renderBytes("{{ env:V | base64 | base64decode }}", ["env:V": .bytes(bytes)]) == bytes)
    }

    @Test func base64decodeAcceptsPaddedUnpaddedAndURLSafe() throws {
        #expect(try apply("base64decode", to: .string("dXNlcjpww6Rzc3dvcmQ=")) == "user:pässword")
        #expect(try apply("base64decode", to: .string("dXNlcjpww6Rzc3dvcmQ")) == "user:pässword")
        #expect(try apply("base64decode", to: .string("Zm9v\nYmFy\n")) == "foobar")
        #expect(try renderBytes("{{ env:V | base64decode }}", ["env:V": .string("-_8=")]) == [0xFB, 0xFF])
        #expect(try renderBytes("{{ env:V | base64decode }}", ["env:V": .string("+/8")]) == [0xFB, 0xFF])
    }

    @Test(arguments: ["not base64!", "Zm9vY", "Zg=x", "Zg===", "Zm9=v", "Zm9vY==="])
    func base64decodeRejectsInvalidWithoutQuotingTheValue(input: String) {
        let error = failure("{{ env:V | base64decode }}", ["env:V": .string(input)])
        #expect(error?.kind == .data)
        #expect(error?.message.contains("env:V") == true)
        #expect(error?.message.contains(input) == false)
    }

    @Test func jsonFilter() throws {
        #expect(try apply("json", to: .string("a\"b\\c\nd")) == #""a\"b\\c\nd""#)
        #expect(try apply("json", to: .string(#"{"k":1}"#)) == #""{\"k\":1}""#)
        #expect(try apply("json", to: json(#"{"b": [1, true, null], "a": "x"}"#)) == #"{"a":"x","b":[1,true,null]}"#)
        #expect(try apply("json", to: .number("3.10")) == "3.10")
        #expect(try apply("json", to: .bool(false)) == "false")
        #expect(try apply("json", to: .null) == "null")
    }

    @Test func shell() throws {
        #expect(try apply("shell", to: .string("it's $HOME")) == #"'it'\''s $HOME'"#)
        #expect(try apply("shell", to: .string("")) == "''")
        #expect(try apply("shell", to: .string("''")) == #"''\'''\'''"#)
    }

    @Test func dotenv() throws {
        #expect(try apply("dotenv", to: .string("a\\b\"c$d\ne\rf")) == #""a\\b\"c\$d\ne\rf""#)
        #expect(try apply("dotenv", to: .string("plain 'q'")) == #""plain 'q'""#)
    }

    @Test func urlencode() throws {
        #expect(try apply("urlencode", to: .string("AZaz09-._~")) == "AZaz09-._~")
        #expect(try apply("urlencode", to: .string("p@ss w/rd+é%")) == "p%40ss%20w%2Frd%2B%C3%A9%25")
        #expect(try renderBytes("{{ env:V | urlencode }}", ["env:V": .bytes([0xFF, 0x00])]) == Array("%FF%00".utf8))
    }

    @Test func upperAndLowerAreUnicodeOnTextASCIIOnBytes() throws {
        #expect(try apply("upper", to: .string("straße déjà")) == "STRASSE DÉJÀ")
        #expect(try apply("lower", to: .string("ÉCOLE ΣΑ")) == "école σα")
        #expect(try renderBytes("{{ env:V | upper }}", ["env:V": .bytes([0x61, 0xE9, 0xFF, 0x7A])]) == [0x41, 0xE9, 0xFF, 0x5A])
        #expect(try renderBytes("{{ env:V | lower }}", ["env:V": .bytes([0x41, 0xC9, 0xFF])]) == [0x61, 0xC9, 0xFF])
    }

    @Test func trim() throws {
        #expect(try apply("trim", to: .string(" \t\r\n tok en \n\r\n")) == "tok en")
        #expect(try apply("trim", to: .string(" \n ")) == "")
        #expect(try renderBytes("{{ env:V | trim }}", ["env:V": .bytes([0x20, 0xFF, 0x0A])]) == [0xFF])
    }

    @Test func defaultOnlyReplacesNotFound() throws {
        #expect(try apply(#"default "x""#, to: nil) == "x")
        #expect(try apply(#"default "x""#, to: .string("")) == "")
        #expect(try apply(#"default "x""#, to: .null) == "")
        #expect(try apply(#"default "x""#, to: .bool(false)) == "false")
        #expect(try apply(#"default "x""#, to: .string("real")) == "real")
        // A missing #field and a missing context key are "not found" too.
        #expect(try render(#"{{ sm:db#port | default "5432" }}"#, ["sm:db": .string(#"{"host": "h"}"#)]) == "5432")
        #expect(try render(#"{{ nokey | default "d" }}"#) == "d")
        #expect(try render(#"{{#sm:db}}{{ port | default "5432" }}{{/sm:db}}"#, ["sm:db": json(#"{"host": "h"}"#)]) == "5432")
    }

    @Test func notFoundFlowsThroughFiltersUntilDefault() throws {
        #expect(try apply(#"upper | default "Fallback" | base64"#, to: nil) == "RmFsbGJhY2s=")
        #expect(try apply(#"upper | default "fallback""#, to: .string("real")) == "REAL")
        let error = failure("{{ env:V | upper | base64 }}", ["env:V": nil])
        #expect(error?.kind == .missing)
        #expect(error?.message == "missing value: env:V was not found")
    }

    @Test func defaultDoesNotCoverAbsentLocatorsOrDataErrors() {
        #expect(failure(#"{{ env:V | default "x" }}"#)?.kind == .missing)
        #expect(failure(#"{{ env:V#f | default "x" }}"#, ["env:V": .string("plain")])?.kind == .data)
    }

    @Test func chainedLeftToRight() throws {
        #expect(try apply("trim | upper | shell", to: .string("  it's \n")) == #"'IT'\''S'"#)
        #expect(try apply("base64 | json", to: .string("a")) == #""YQ==""#)
    }

    @Test(arguments: [
        ("{{ env:V | uper }}", "unknown filter 'uper'"),
        ("{{ env:V | default }}", "filter 'default' takes 1 argument, got 0"),
        (#"{{ env:V | upper "x" }}"#, "filter 'upper' takes 0 arguments, got 1"),
        ("{{ env:V | default x }}", "must be a double-quoted string"),
        ("{{ env:V | }}", "expected a filter name"),
        ("{{ env:V upper }}", "unexpected 'upper'"),
        (#"{{ env:V | default "x }}"#, "unclosed tag"),
    ])
    func filterSyntaxErrors(source: String, message: String) {
        let error = failure(source, ["env:V": .string("v")])
        #expect(error?.kind == .syntax)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
        #expect(error?.location == SourceLocation(template: "t", line: 1, column: 1))
    }
}
