// libFuzzer target: the template lexer, parser and renderer. The input is the template; a
// partial named `self` is the input again (recursion stops at the depth limit), any other
// partial is a small fixed template. Every reference resolves to a value of some shape (or to
// "not found"), chosen by hashing its text, so sections, `each`, filters and selectors all run.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTemplate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    let salt = bytes.first ?? 0
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    _ = Template.mentionsReference(text)
    let template: Template
    do {
        template = try Template(source: text, name: "fuzz.mustache", baseDirectory: "/fuzz", partials: { name in
            name == "self" ? text : "[{{ file:/fuzz/partial.json#k }}|{{#file:/fuzz/partial.json}}{{k}}{{/file:/fuzz/partial.json}}]\n"
        })
    } catch {
        check(error.location != nil || !error.message.isEmpty, "a parse error says where or what")
        return 0
    }
    var values: [Locator: Resolution] = [:]
    for locator in template.locators { values[locator] = sampleValue(for: locator, salt: salt) }
    let first = try? template.render(values)
    let second = try? template.render(values)
    check(first == second, "rendering is deterministic")
    // Without any values: references that are reached are "not fetched" errors; never a crash.
    _ = try? template.render([:])
    return 0
}
