// libFuzzer target: the reference parser (`ssm:/a:3`, `sm:x?stage=…`, `vault:p?version=2#/a/b`,
// ARNs, `file:`…) and field selection on values of every shape.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReference(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: fuzzBytes(data, size), as: UTF8.self)
    _ = Reference.looksLikeReference(text)
    guard let reference = try? Reference.parse(text, baseDirectory: "/fuzz/base") else { return 0 }
    let locator = reference.locator
    _ = locator.scheme
    _ = locator.isPinned
    check(!locator.text.isEmpty, "a parsed locator has a text")
    _ = reference.selector?.description
    // Parsing the same text again gives the same reference (no hidden state).
    check((try? Reference.parse(text, baseDirectory: "/fuzz/base")) == reference, "parse is deterministic")
    for value in sampleValues {
        if case .found(let v) = value { _ = try? reference.select(from: v) }
    }
    return 0
}
