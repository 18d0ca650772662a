@testable import SecretTemplate
import Testing

/// Fetched values keyed by reference text (only the locator part counts); nil means not found.
func resolutions(_ values: [String: Value?]) -> [Locator: Resolution] {
    var result: [Locator: Resolution] = [:]
    for (text, value) in values {
        let locator = try! Reference.parse(text).locator
        result[locator] = value.map { .found($0) } ?? .notFound
    }
    return result
}

/// Parses and renders; the output as text.
func render(_ source: String, _ values: [String: Value?] = [:], partials: [String: String] = [:],
            context: Value? = nil) throws(TemplateError) -> String {
    String(decoding: try renderBytes(source, values, partials: partials, context: context), as: UTF8.self)
}

func renderBytes(_ source: String, _ values: [String: Value?] = [:], partials: [String: String] = [:],
                 context: Value? = nil) throws(TemplateError) -> [UInt8] {
    let template = try Template(source: source, name: "t", partials: { name in
        guard let text = partials[name] else { throw PartialMissing() }
        return text
    })
    return try template.render(resolutions(values), context: context)
}

struct PartialMissing: Error {}

/// The error parsing or rendering throws, or nil when both succeed.
func failure(_ source: String, _ values: [String: Value?] = [:], partials: [String: String] = [:],
             context: Value? = nil) -> TemplateError? {
    do {
        _ = try renderBytes(source, values, partials: partials, context: context)
        return nil
    } catch {
        return error
    }
}

/// The parsed JSON of a literal, for contexts and values.
func json(_ text: String) -> Value {
    try! JSON.parse(text)
}

/// One case ported from the mustache spec (github.com/mustache/spec, specs/*.yml).
struct SpecCase: Sendable, CustomTestStringConvertible {
    let name: String
    let data: String
    let template: String
    var partials: [String: String] = [:]
    let expected: String

    var testDescription: String { name }

    func run() throws(TemplateError) -> String {
        try render(template, partials: partials, context: json(data))
    }
}
