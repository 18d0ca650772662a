import Foundation
@testable import SecretTemplate
import Testing

/// What fuzzing found, kept as tests, and the checked-in corpus (Tests/Fuzz/corpus/) replayed
/// through the same properties the libFuzzer targets check, so every `swift test` covers it.
@Suite("Fuzz regressions and corpus replay")
struct FuzzRegressionTests {
    static func nested(_ depth: Int, open: String, close: String, inner: String = "x") -> String {
        String(repeating: open, count: depth) + inner + String(repeating: close, count: depth)
    }

    // Found by exploring beyond the fuzzers' 4 KiB inputs: sections nested thousands deep
    // overflow the stack (SIGSEGV) — while rendering (Renderer.render recurses per level) and,
    // deeper still, while the node tree is freed. 5,000 levels crash the debug agent (`render`,
    // and `exec` scanning an inherited variable of 88 KB); ~20,000 levels crash a release build.
    @Test("sections nested 100,000 deep are a syntax error, not a stack overflow",
          )
    func deepSections() {
        for (open, close) in [("{{^env:NO}}", "{{/env:NO}}"), ("{{#a}}", "{{/a}}"), ("{{#each env:NO}}", "{{/each}}")] {
            let source = Self.nested(100_000, open: open, close: close)
            #expect(throws: TemplateError.self) { try Template(source: source, name: "deep") }
            do {
                _ = try Template(source: source, name: "deep")
            } catch {
                #expect(error.kind == .syntax)
                #expect(error.message.contains("nested"), "\(error.message)")
            }
        }
    }

    @Test("sections nested 60 deep still work (the limit must not bite real templates)")
    func moderatelyDeepSections() throws {
        let source = Self.nested(60, open: "{{^env:NO}}", close: "{{/env:NO}}")
        let template = try Template(source: source, name: "deep")
        #expect(try template.render([Locator.env(name: "NO"): .notFound]) == Array("x".utf8))
    }

    @Test("JSON nested 100,000 deep is refused (depth limit), not a stack overflow")
    func deepJSON() {
        for text in [String(repeating: "[", count: 100_000), Self.nested(100_000, open: "{\"a\":", close: "}", inner: "1")] {
            #expect(throws: JSONError.self) { try JSON.parse(text) }
            #expect(Value.string(text).structured == .string(text), "a value that is not JSON stays a string")
        }
    }

    @Test("a partial that includes itself stops at the depth limit")
    func selfPartial() {
        #expect(throws: TemplateError.self) {
            try Template(source: "{{> self}}{{> self}}", name: "t", partials: { _ in "{{> self}}{{> self}}" })
        }
    }

    // MARK: Corpus replay

    static let corpusRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus")

    static func corpus(_ target: String) -> [(String, [UInt8])] {
        let dir = corpusRoot.appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().compactMap { name in
            FileManager.default.contents(atPath: dir.appendingPathComponent(name).path).map { (name, [UInt8]($0)) }
        }
    }

    static let values: [Resolution] = [
        .notFound, .found(.string("plain")), .found(.string(#"{"user": "u", "list": [1, {"a": "b"}], "no": false}"#)),
        .found(.bytes([0, 0xFF])), .found(.list([.string("x")])), .found(.bool(false)), .found(.null),
    ]

    @Test("the reference corpus parses or fails cleanly; selection never traps")
    func referenceCorpus() {
        let inputs = Self.corpus("reference")
        #expect(!inputs.isEmpty, "the corpus is at \(Self.corpusRoot.path)")
        for (_, bytes) in inputs {
            let text = String(decoding: bytes, as: UTF8.self)
            guard let reference = try? Reference.parse(text, baseDirectory: "/fuzz/base") else { continue }
            #expect(!reference.locator.text.isEmpty)
            for case .found(let v) in Self.values { _ = try? reference.select(from: v) }
        }
    }

    @Test("the template corpus parses and renders deterministically, or fails with a located error")
    func templateCorpus() {
        let inputs = Self.corpus("template")
        #expect(!inputs.isEmpty)
        for (name, bytes) in inputs {
            let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
            _ = Template.mentionsReference(text)
            let template: Template
            do {
                template = try Template(source: text, name: name, baseDirectory: "/fuzz", partials: { p in
                    p == "self" ? text : "[{{ file:/fuzz/partial.json#k }}]"
                })
            } catch {
                #expect(error.location != nil || !error.message.isEmpty, "\(name)")
                continue
            }
            var values: [Locator: Resolution] = [:]
            for (i, locator) in template.locators.sorted(by: { $0.text < $1.text }).enumerated() {
                values[locator] = Self.values[(i + Int(bytes.first ?? 0)) % Self.values.count]
            }
            #expect((try? template.render(values)) == (try? template.render(values)), "\(name)")
        }
    }

    @Test("the JSON corpus round-trips through serialize and parse")
    func jsonCorpus() throws {
        let inputs = Self.corpus("json")
        #expect(!inputs.isEmpty)
        for (name, bytes) in inputs {
            let text = String(decoding: bytes, as: UTF8.self)
            guard let parsed = try? JSON.parse(text) else { continue }
            let again = try JSON.parse(JSON.serialize(parsed))
            #expect(again == parsed, "\(name)")
            #expect((try? JSON.parse(JSON.quote(text))) == .string(text), "\(name)")
        }
    }

    @Test("the filters corpus: base64 round-trips, dotenv and shell stay quoted on one line")
    func filtersCorpus() {
        let inputs = Self.corpus("filters")
        #expect(!inputs.isEmpty)
        let at = SourceLocation(template: "fuzz", line: 1, column: 1)
        for (name, bytes) in inputs {
            let value = Value(bytes: bytes)
            for filter in Filter.allCases {
                guard let out = try? filter.apply(to: value, subject: "fuzz", at: at) else {
                    #expect(filter == .base64decode, "\(name): \(filter)")
                    continue
                }
                let rendered = out.renderedBytes
                switch filter {
                case .base64: #expect(Base64.decode(rendered) == bytes, "\(name)")
                case .dotenv: #expect(!rendered.contains(0x0A) && rendered.first == 0x22 && rendered.last == 0x22, "\(name)")
                case .shell: #expect(rendered.first == 0x27 && rendered.last == 0x27, "\(name)")
                default: break
                }
            }
        }
    }
}
