@testable import SecretTemplate
import Testing

@Suite struct ErrorTests {
    let secret = "hunter2-do-not-print"

    @Test func missingReferenceIsLocatedOnLine3() throws {
        let source = "line one\nline two\nuser: ééé {{ sm:prod/db#password }}\n"
        let values: [String: Value?] = ["sm:prod/db": .string(#"{"username": "\#(secret)"}"#)]
        let error = try #require(failure(source, values))
        #expect(error.kind == .missing)
        #expect(error.location == SourceLocation(template: "t", line: 3, column: 11))
        #expect(error.message == "missing value: sm:prod/db#password was not found")
        #expect(error.description == "t:3:11: missing value: sm:prod/db#password was not found")
        #expect(!error.description.contains(secret))
    }

    @Test func templateNameAppearsInLocation() throws {
        let error = #expect(throws: TemplateError.self) {
            try Template(source: "{\n\n  {{ nope:x }}", name: "docker/config.json.mustache")
        }
        #expect(error?.kind == .badReference)
        #expect(error?.description.hasPrefix("docker/config.json.mustache:3:3: unknown scheme 'nope:'") == true)
    }

    @Test func notFetchedIsAnErrorEvenWithDefault() {
        let error = failure(#"{{ sm:a | default "x" }}"#)
        #expect(error?.kind == .missing)
        #expect(error?.message == "missing value: sm:a was not fetched")
    }

    @Test func missingContextKey() {
        let error = failure("{{#sm:db}}\n  {{ usr }}\n{{/sm:db}}", ["sm:db": json(#"{"user": "\#(secret)"}"#)])
        #expect(error?.kind == .missing)
        #expect(error?.message == "missing value: key 'usr' was not found")
        #expect(error?.location?.line == 2)
        #expect(error?.location?.column == 3)
    }

    @Test func fieldOfNonJSONIsADataErrorWithoutTheValue() {
        let error = failure("\n {{ sm:db#password }}", ["sm:db": .string(secret)])
        #expect(error?.kind == .data)
        #expect(error?.location == SourceLocation(template: "t", line: 2, column: 2))
        #expect(error?.description.contains(secret) == false)
        #expect(error?.message.contains("sm:db#password") == true)
    }

    @Test func dataErrorsNeverQuoteValues() {
        let values: [String: Value?] = ["sm:v": .string("\(secret)!!")]
        for source in ["{{ sm:v | base64decode }}", "{{#each sm:v}}{{/each}}"] {
            let error = failure(source, values)
            #expect(error?.kind == .data)
            #expect(error?.description.contains(secret) == false)
        }
    }

    @Test(arguments: [
        ("a\n\n{{#vault:secret/x}}\nb", "unclosed section 'vault:secret/x' opened at 3:1", 3, 1),
        ("{{#a}}\n  {{/b}}", "closing tag 'b' does not match section 'a' opened at 1:1", 2, 3),
        ("{{#each sm:x}}{{/sm:x}}", "closing tag 'sm:x' does not match section 'each' opened at 1:1", 1, 15),
        ("x {{/a}}", "closing tag 'a' without an open section", 1, 3),
        ("ab\n  {{ a.b..c }}", "bad key 'a.b..c'", 2, 3),
        ("{{ }}", "empty tag", 1, 1),
        ("{{#each}}{{/each}}", "'each' needs a name", 1, 1),
        ("{{#a | upper}}{{/a}}", "a section tag takes a name, not filters", 1, 1),
        ("{{^each a}}{{/each}}", "'each' cannot be inverted", 1, 1),
        ("{{#a b}}{{/a}}", "unexpected 'b' in section tag", 1, 1),
        ("{{ a\n", "unclosed tag", 1, 1),
        ("é{{=<% %>=}}<% a ", "unclosed tag", 1, 13),
    ])
    func syntaxErrors(source: String, message: String, line: Int, column: Int) {
        let error = failure(source)
        #expect(error?.kind == .syntax)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
        #expect(error?.location?.line == line)
        #expect(error?.location?.column == column)
    }

    @Test func partialErrors() {
        let unreadable = failure("x\n{{> missing }}")
        #expect(unreadable?.kind == .data)
        #expect(unreadable?.message.contains("partial 'missing'") == true)
        #expect(unreadable?.location?.line == 2)

        let recursive = failure("{{> self }}", partials: ["self": "a{{> self }}"])
        #expect(recursive?.kind == .syntax)
        #expect(recursive?.message.contains("nested more than 16 deep") == true)

        let withoutLoader = #expect(throws: TemplateError.self) { try Template(source: "{{> p }}", name: "t") }
        #expect(withoutLoader?.kind == .data)

        let inside = failure("{{> p }}", partials: ["p": "ok\n{{ nope:x }}"])
        #expect(inside?.location == SourceLocation(template: "p", line: 2, column: 1))
    }

    @Test func valuesAreRedactedInDescriptions() {
        let value = Value.string(secret)
        #expect(!"\(value)".contains(secret))
        #expect(!String(reflecting: value).contains(secret))
    }
}
