@testable import SecretTemplate
import Testing

/// Cases from the mustache spec's comments.yml.
let specComments: [SpecCase] = [
    SpecCase(name: "Inline", data: "{}", template: "12345{{! Comment Block! }}67890", expected: "1234567890"),
    SpecCase(name: "Multiline", data: "{}", template: "12345{{!\n  This is a\n  multi-line comment...\n}}67890\n", expected: "1234567890\n"),
    SpecCase(name: "Standalone", data: "{}", template: "Begin.\n{{! Comment Block! }}\nEnd.\n", expected: "Begin.\nEnd.\n"),
    SpecCase(name: "Indented Standalone", data: "{}", template: "Begin.\n  {{! Indented Comment Block! }}\nEnd.\n", expected: "Begin.\nEnd.\n"),
    SpecCase(name: "Standalone Line Endings", data: "{}", template: "|\r\n{{! Standalone Comment }}\r\n|", expected: "|\r\n|"),
    SpecCase(name: "Standalone Without Previous Line", data: "{}", template: "  {{! I'm Still Standalone }}\n!", expected: "!"),
    SpecCase(name: "Standalone Without Newline", data: "{}", template: "!\n  {{! I'm Still Standalone }}", expected: "!\n"),
    SpecCase(name: "Multiline Standalone", data: "{}", template: "Begin.\n{{!\nSomething's going on here...\n}}\nEnd.\n", expected: "Begin.\nEnd.\n"),
    SpecCase(name: "Indented Multiline Standalone", data: "{}", template: "Begin.\n  {{!\n    Something's going on here...\n  }}\nEnd.\n", expected: "Begin.\nEnd.\n"),
    SpecCase(name: "Indented Inline", data: "{}", template: "  12 {{! 34 }}\n", expected: "  12 \n"),
    SpecCase(name: "Surrounding Whitespace", data: "{}", template: "12345 {{! Comment Block! }} 67890", expected: "12345  67890"),
]

/// Cases from partials.yml. Left out: "Failed Lookup" (a missing partial is an error here) and
/// "Recursion" (partials expand at parse time, so data-driven recursion is a depth error).
let specPartials: [SpecCase] = [
    SpecCase(name: "Basic Behavior", data: "{}", template: "\"{{>text}}\"", partials: ["text": "from partial"], expected: "\"from partial\""),
    SpecCase(name: "Context", data: #"{"text": "content"}"#, template: "\"{{>partial}}\"", partials: ["partial": "*{{text}}*"], expected: "\"*content*\""),
    SpecCase(name: "Surrounding Whitespace", data: "{}", template: "| {{>partial}} |", partials: ["partial": "\t|\t"], expected: "| \t|\t |"),
    SpecCase(name: "Inline Indentation", data: #"{"data": "|"}"#, template: "  {{data}}  {{> partial}}\n", partials: ["partial": ">\n>"], expected: "  |  >\n>\n"),
    SpecCase(name: "Standalone Line Endings", data: "{}", template: "|\r\n{{>partial}}\r\n|", partials: ["partial": ">"], expected: "|\r\n>|"),
    SpecCase(name: "Standalone Without Previous Line", data: "{}", template: "  {{>partial}}\n>", partials: ["partial": ">\n>"], expected: "  >\n  >>"),
    SpecCase(name: "Standalone Without Newline", data: "{}", template: ">\n  {{>partial}}", partials: ["partial": ">\n>"], expected: ">\n  >\n  >"),
    SpecCase(name: "Standalone Indentation", data: #"{"content": "<\n->"}"#, template: "\\\n {{>partial}}\n/\n",
             partials: ["partial": "|\n{{{content}}}\n|\n"], expected: "\\\n |\n <\n->\n |\n/\n"),
    SpecCase(name: "Padding Whitespace", data: #"{"boolean": true}"#, template: "|{{> partial }}|", partials: ["partial": "[]"], expected: "|[]|"),
]

/// Cases from delimiters.yml.
let specDelimiters: [SpecCase] = [
    SpecCase(name: "Pair Behavior", data: #"{"text": "Hey!"}"#, template: "{{=<% %>=}}(<%text%>)", expected: "(Hey!)"),
    SpecCase(name: "Special Characters", data: #"{"text": "It worked!"}"#, template: "({{=[ ]=}}[text])", expected: "(It worked!)"),
    SpecCase(name: "Sections", data: #"{"section": true, "data": "I got interpolated."}"#,
             template: "[\n{{#section}}\n  {{data}}\n  |data|\n{{/section}}\n\n{{= | | =}}\n|#section|\n  {{data}}\n  |data|\n|/section|\n]\n",
             expected: "[\n  I got interpolated.\n  |data|\n\n  {{data}}\n  I got interpolated.\n]\n"),
    SpecCase(name: "Inverted Sections", data: #"{"section": false, "data": "I got interpolated."}"#,
             template: "[\n{{^section}}\n  {{data}}\n  |data|\n{{/section}}\n\n{{= | | =}}\n|^section|\n  {{data}}\n  |data|\n|/section|\n]\n",
             expected: "[\n  I got interpolated.\n  |data|\n\n  {{data}}\n  I got interpolated.\n]\n"),
    SpecCase(name: "Partial Inheritence", data: #"{"value": "yes"}"#, template: "[ {{>include}} ]\n{{= | | =}}\n[ |>include| ]\n",
             partials: ["include": ".{{value}}."], expected: "[ .yes. ]\n[ .yes. ]\n"),
    SpecCase(name: "Post-Partial Behavior", data: #"{"value": "yes"}"#, template: "[ {{>include}} ]\n[ .{{value}}.  .|value|. ]\n",
             partials: ["include": ".{{value}}. {{= | | =}} .|value|."], expected: "[ .yes.  .yes. ]\n[ .yes.  .|value|. ]\n"),
    SpecCase(name: "Surrounding Whitespace", data: "{}", template: "| {{=@ @=}} |", expected: "|  |"),
    SpecCase(name: "Outlying Whitespace (Inline)", data: "{}", template: " | {{=@ @=}}\n", expected: " | \n"),
    SpecCase(name: "Standalone Tag", data: "{}", template: "Begin.\n{{=@ @=}}\nEnd.\n", expected: "Begin.\nEnd.\n"),
    SpecCase(name: "Indented Standalone Tag", data: "{}", template: "Begin.\n  {{=@ @=}}\nEnd.\n", expected: "Begin.\nEnd.\n"),
    SpecCase(name: "Standalone Line Endings", data: "{}", template: "|\r\n{{= @ @ =}}\r\n|", expected: "|\r\n|"),
    SpecCase(name: "Standalone Without Previous Line", data: "{}", template: "  {{=@ @=}}\n=", expected: "="),
    SpecCase(name: "Standalone Without Newline", data: "{}", template: "=\n  {{=@ @=}}", expected: "=\n"),
    SpecCase(name: "Pair with Padding", data: "{}", template: "|{{= @   @ =}}|", expected: "||"),
]

@Suite struct SpecOtherTests {
    @Test(arguments: specComments)
    func comments(_ spec: SpecCase) throws {
        #expect(try spec.run() == spec.expected)
    }

    @Test(arguments: specPartials)
    func partials(_ spec: SpecCase) throws {
        #expect(try spec.run() == spec.expected)
    }

    @Test(arguments: specDelimiters)
    func delimiters(_ spec: SpecCase) throws {
        #expect(try spec.run() == spec.expected)
    }

    @Test func standaloneTagsWithCRLFKeepOtherLineEndings() throws {
        let source = "a: 1\r\n{{#sm:x}}\r\n  b: {{ sm:x#b }}\r\n{{/sm:x}}\r\n{{! done }}\r\nc: 3\r\n"
        #expect(try render(source, ["sm:x": json(#"{"b": 2}"#)]) == "a: 1\r\n  b: 2\r\nc: 3\r\n")
    }

    @Test func standaloneEachAndClosingAtEndOfFile() throws {
        let source = "list:\n  {{#each sm:l}}\n  - {{.}}\n  {{/each}}"
        #expect(try render(source, ["sm:l": json(#"["a", "b"]"#)]) == "list:\n  - a\n  - b\n")
    }

    @Test func valueTagsAreNeverStandalone() throws {
        #expect(try render("a\n  {{ env:X }}  \nb", ["env:X": .string("")]) == "a\n    \nb")
    }

    @Test func indentedPartialWithSectionsAndReferences() throws {
        let partials = ["creds": "{{#vault:secret/db}}\nuser: {{username}}\npass: {{password}}\n{{/vault:secret/db}}\n"]
        let source = "db:\n  {{> creds }}\nend\n"
        let values: [String: Value?] = ["vault:secret/db": json(#"{"username": "u", "password": "p"}"#)]
        #expect(try render(source, values, partials: partials) == "db:\n  user: u\n  pass: p\nend\n")
    }
}
