#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SecretTemplate

/// When an answer without a lease expires: `data.expiration` (unix seconds, as PKI's issue and
/// sign answer), else the NotAfter of the certificate in `data.certificate`.
enum Expiry {
    /// Time left until the answer expires, by this machine's clock; nil when it does not say.
    static func timeLeft(of value: Value) -> Duration? {
        guard let at = unixSeconds(of: value) else { return nil }
        return .seconds(at - Int(time(nil)))
    }

    static func unixSeconds(of value: Value) -> Int? {
        if let expiration = value["expiration"]?.intValue, expiration > 946_684_800 { return expiration }  // after 2000: a time, not a TTL
        if let pem = value["certificate"]?.stringValue { return Certificate.notAfter(pem: pem) }
        return nil
    }
}

/// Just enough DER to read a certificate's NotAfter (RFC 5280: Certificate → TBSCertificate →
/// Validity), without a certificate library.
enum Certificate {
    /// The NotAfter of the first certificate of a PEM text, in unix seconds.
    static func notAfter(pem: String) -> Int? {
        let begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----"
        guard let start = pem.firstRange(of: begin), let stop = pem[start.upperBound...].firstRange(of: end),
              let der = Base64.decode(String(pem[start.upperBound..<stop.lowerBound])) else { return nil }
        return notAfter(der: der)
    }

    static func notAfter(der: [UInt8]) -> Int? {
        guard let certificate = element(der, at: 0), certificate.tag == 0x30,
              let tbs = element(der, at: certificate.content.lowerBound), tbs.tag == 0x30,
              var field = element(der, at: tbs.content.lowerBound) else { return nil }
        if field.tag == 0xA0 {  // [0] version
            guard let next = element(der, at: field.next) else { return nil }
            field = next
        }
        // serialNumber, signature, issuer, then validity.
        for expected: UInt8 in [0x02, 0x30, 0x30] {
            guard field.tag == expected, let next = element(der, at: field.next) else { return nil }
            field = next
        }
        guard field.tag == 0x30, let notBefore = element(der, at: field.content.lowerBound),
              let notAfter = element(der, at: notBefore.next), notAfter.next <= field.content.upperBound else { return nil }
        return time(Array(der[notAfter.content]), tag: notAfter.tag)
    }

    /// One TLV: its tag, where its content is, and where the next element starts.
    static func element(_ der: [UInt8], at offset: Int) -> (tag: UInt8, content: Range<Int>, next: Int)? {
        guard offset + 2 <= der.count else { return nil }
        let tag = der[offset]
        var length = Int(der[offset + 1])
        var start = offset + 2
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard (1...4).contains(count), start + count <= der.count else { return nil }
            length = der[start..<start + count].reduce(0) { $0 << 8 | Int($1) }
            start += count
        }
        guard length >= 0, start + length <= der.count else { return nil }
        return (tag, start..<start + length, start + length)
    }

    /// UTCTime (`YYMMDDHHMMSSZ`, tag 0x17) or GeneralizedTime (`YYYYMMDDHHMMSSZ`, tag 0x18).
    static func time(_ bytes: [UInt8], tag: UInt8) -> Int? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasSuffix("Z") else { return nil }
        let digits = Array(text.dropLast().prefix { $0 != "." })
        guard digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        func number(_ from: Int, _ count: Int) -> Int { Int(String(digits[from..<from + count]))! }
        var year: Int, at: Int
        switch (tag, digits.count) {
        case (0x17, 12):
            year = number(0, 2)
            year += year >= 50 ? 1900 : 2000
            at = 2
        case (0x18, 14):
            year = number(0, 4)
            at = 4
        default:
            return nil
        }
        let (month, day, hour, minute, second) = (number(at, 2), number(at + 2, 2), number(at + 4, 2), number(at + 6, 2), number(at + 8, 2))
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        return daysFromCivil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension Base64 {
    /// Standard base64, whitespace ignored; nil for any other character.
    static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.utf8 {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="), UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): continue
            default: return nil
            }
            buffer = buffer << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return out
    }
}
