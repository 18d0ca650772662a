/// A request target split into its path and its decoded query parameters.
struct RequestTarget {
    var path: Substring
    var parameters: [(String, String)]

    init(_ uri: String) {
        guard let mark = uri.firstIndex(of: "?") else {
            path = Substring(uri)
            parameters = []
            return
        }
        path = uri[..<mark]
        parameters = uri[uri.index(after: mark)...].split(separator: "&").map { pair in
            guard let equals = pair.firstIndex(of: "=") else { return (Self.decode(pair) ?? "", "") }
            return (Self.decode(pair[..<equals]) ?? "", Self.decode(pair[pair.index(after: equals)...]) ?? "")
        }
    }

    /// The first value of a parameter; nil when absent.
    func value(_ name: String) -> String? {
        parameters.first { $0.0 == name }?.1
    }

    /// True for `refreshNow=true` (as the AWS agents spell it; any case of `true`).
    var refreshNow: Bool {
        value("refreshNow")?.lowercased() == "true"
    }

    /// Percent-decoding. A `+` stays a `+`: secret and parameter names may contain one and
    /// never a space. Nil for a malformed escape or bytes that are not UTF-8.
    static func decode(_ text: Substring) -> String? {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hex), let low = iterator.next().flatMap(hex) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
