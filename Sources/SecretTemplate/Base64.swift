/// Base64 (RFC 4648) without Foundation: the `base64` and `base64decode` filters, Vault's aws
/// login, Secrets Manager's `SecretBinary` — the one implementation in the agent.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard alphabet, padded.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i]
            let b1 = i + 1 < bytes.count ? bytes[i + 1] : 0
            let b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Standard or URL-safe alphabet, padded or not; ASCII whitespace is ignored.
    /// Nil for anything else (a bad character, data after padding, a wrong length).
    public static func decode(_ bytes: [UInt8]) -> [UInt8]? {
        var sextets: [UInt8] = []
        sextets.reserveCapacity(bytes.count)
        var padding = 0
        for b in bytes {
            if Ascii.isSpace(b) { continue }
            if b == UInt8(ascii: "=") { padding += 1; continue }
            guard padding == 0, let v = sextet(b) else { return nil }
            sextets.append(v)
        }
        let remainder = sextets.count % 4
        guard remainder != 1, padding <= 2, padding == 0 || (sextets.count + padding) % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(sextets.count * 3 / 4)
        var i = 0
        while i + 4 <= sextets.count {
            let (a, b, c, d) = (sextets[i], sextets[i + 1], sextets[i + 2], sextets[i + 3])
            out += [a << 2 | b >> 4, b << 4 | c >> 2, c << 6 | d]
            i += 4
        }
        if remainder >= 2 { out.append(sextets[i] << 2 | sextets[i + 1] >> 4) }
        if remainder == 3 { out.append(sextets[i + 1] << 4 | sextets[i + 2] >> 2) }
        return out
    }

    private static func sextet(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return b - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return b - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): return 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): return 63
        default: return nil
        }
    }
}
