import SecretAgentCore
import Testing

/// The libyaml reader: the tree, positions, styles, and what it refuses.
@Suite("YAML reader")
struct YAMLTests {
    func compose(_ text: String) throws -> YAMLNode? { try YAML.compose(text) }

    @Test("mappings keep key order, scalars their style, every node its line and column")
    func tree() throws {
        let node = try #require(try compose("b: 1\na: \"2\"\nlist:\n  - x\n  - 'y'\nblock: |\n  text\n"))
        let mapping = try #require(node.mapping)
        #expect(mapping.keys.compactMap { $0.scalar?.string } == ["b", "a", "list", "block"])
        #expect(mapping[0].value.scalar?.style == .plain)
        #expect(mapping[1].value.scalar?.style == .doubleQuoted)
        #expect(mapping[1].value.scalar?.string == "2")
        #expect(mapping[1].key.mark == YAMLNode.Mark(line: 2, column: 1))
        guard case .sequence(let list) = mapping[2].value else {
            Issue.record("list is a sequence")
            return
        }
        #expect(list.count == 2)
        #expect(list[1].scalar?.style == .singleQuoted)
        #expect(list[1].mark == YAMLNode.Mark(line: 5, column: 5))
        #expect(mapping[3].value.scalar?.string == "text\n")
        #expect(mapping[3].value.scalar?.style == .literal)
    }

    @Test("an empty text is no document; CRLF line ends count lines like LF")
    func emptyAndCRLF() throws {
        #expect(try compose("") == nil)
        let node = try #require(try compose("a: 1\r\nb: 2\r\n"))
        #expect(node.mapping?[1].key.mark?.line == 2)
    }

    @Test("a duplicate key is refused at its own line, naming the first")
    func duplicateKey() {
        #expect(throws: YAMLError(problem: "duplicate key 'poll' (first at line 1)", mark: .init(line: 3, column: 1))) {
            try YAML.compose("poll: 5m\noutput_dir: /x\npoll: 1m\n")
        }
        let config = #expect(throws: AgentError.self) {
            try AgentConfig.parse(yaml: "templates:\n  - contents: x\n    destination: a\n    destination: b\n", file: "/x/agent.yaml",
                                  environment: [:])
        }
        #expect(config?.message == "/x/agent.yaml:4:5: not valid YAML: duplicate key 'destination' (first at line 3)")
    }

    @Test("aliases expand, within a budget; an unknown alias and a second document are errors")
    func aliasesAndDocuments() throws {
        let node = try #require(try compose("a: &x [1, 2]\nb: *x\n"))
        guard case .sequence(let b) = node.mapping?[1].value else {
            Issue.record("b is the anchored list")
            return
        }
        #expect(b.compactMap { $0.scalar?.string } == ["1", "2"])
        #expect(throws: YAMLError.self) { try YAML.compose("a: *nope\n") }
        #expect(throws: YAMLError.self) { try YAML.compose("a: 1\n---\na: 2\n") }
        // Nine levels of nine aliases: 9^9 nodes if expanded.
        var laughs = "l0: &l0 [x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 {
            let previous = Array(repeating: "*l\(i - 1)", count: 9).joined(separator: ", ")
            laughs += "l\(i): &l\(i) [\(previous)]\n"
        }
        let error = #expect(throws: YAMLError.self) { try YAML.compose(laughs) }
        #expect(error?.problem.contains("aliases expand to more than") == true)
    }

    @Test("a syntax error carries libyaml's problem and position, never the text")
    func syntaxError() {
        let secret = "hunter2-not-a-value"
        let error = #expect(throws: YAMLError.self) { try YAML.compose("password: \(secret)\nlist: [a\n") }
        #expect(error?.mark?.line == 3)
        #expect(error?.problem.contains(secret) == false)
    }
}
