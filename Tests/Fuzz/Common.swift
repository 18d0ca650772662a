// Shared by the libFuzzer targets. Each target is compiled together with the SecretTemplate
// sources into one module (scripts/fuzz.sh), so internal API is reachable.

/// The input as bytes.
@inline(__always)
func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// A property that must hold; a violation is a crash libFuzzer records.
@inline(__always)
func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("property violated: \(message())") }
}

/// Values of every shape, for rendering and selecting.
let sampleValues: [Resolution] = [
    .notFound,
    .found(.string("plain-value")),
    .found(.string(#"{"user": "u", "password": "p", "list": [1, "two", {"three": 3}], "nested": {"a": {"b": "c"}}, "empty": {}, "no": false}"#)),
    .found(.string("[1, 2, 3]")),
    .found(.bytes([0x00, 0xFF, 0xFE, 0x41])),
    .found(.map(["a": .string("1"), "b": .list([.number("2"), .null]), "c": .map(["d": .bool(true)])])),
    .found(.list([.string("x"), .string("y")])),
    .found(.bool(false)),
    .found(.null),
    .found(.number("3.10")),
    .found(.string("")),
]

/// A deterministic choice of value for a locator (the same locator always gets the same value).
func sampleValue(for locator: Locator, salt: UInt8) -> Resolution {
    var h: UInt64 = 1469598103934665603 &+ UInt64(salt)
    for b in locator.text.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
    return sampleValues[Int(h % UInt64(sampleValues.count))]
}
