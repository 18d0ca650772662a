// libFuzzer target: the JSON parser that reads every secret value (backends return JSON the
// agent does not control), and the serialiser behind `| json` and maps inserted as strings:
// whatever parses must serialise to JSON that parses back to the same value.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: fuzzBytes(data, size), as: UTF8.self)
    let value = Value.string(text)
    _ = value.structured
    _ = value.isFalsy
    guard let parsed = try? JSON.parse(text) else { return 0 }
    let serialized = JSON.serialize(parsed)
    guard let again = try? JSON.parse(serialized) else {
        fatalError("serialised JSON does not parse back (\(serialized.utf8.count) bytes)")
    }
    check(again == parsed, "JSON round trip changes the value")
    check(JSON.serialize(again) == serialized, "serialisation is stable")
    _ = parsed.renderedBytes
    // The `json` filter quotes any text as a JSON string literal that reads back as the text.
    let quoted = JSON.quote(text)
    check((try? JSON.parse(quoted)) == .string(text), "JSON.quote round trip")
    return 0
}
