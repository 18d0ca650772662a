/// SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104): all SigV4 needs.
///
/// The agent's only other use of a cryptographic library is TLS, which swift-nio-ssl's BoringSSL
/// does; a second copy of BoringSSL (swift-crypto) for two functions cost the binary more than
/// these hundred lines. The compression function uses only additions, rotations and bitwise
/// operations on 32-bit words, so its time does not depend on the data. Tested against the NIST
/// examples, RFC 4231 and the AWS SigV4 test suite.
enum SHA256 {
    /// The digest of `bytes` (32 bytes).
    static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var state = initial
        let total = bytes.count
        var block = [UInt32](repeating: 0, count: 64)
        var offset = 0
        bytes.withUnsafeBufferPointer { input in
            while offset + 64 <= total {
                compress(&state, UnsafeBufferPointer(rebasing: input[offset..<offset + 64]), &block)
                offset += 64
            }
        }
        // The last block(s): the rest, a 1 bit, zeros, and the length in bits (big-endian).
        var tail = Array(bytes[offset...])
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        let bits = UInt64(total) &* 8
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        tail.withUnsafeBufferPointer { input in
            var at = 0
            while at < input.count {
                compress(&state, UnsafeBufferPointer(rebasing: input[at..<at + 64]), &block)
                at += 64
            }
        }
        wipe(&tail)
        wipe(&block)
        var digest = [UInt8]()
        digest.reserveCapacity(32)
        for word in state {
            digest.append(UInt8(truncatingIfNeeded: word >> 24))
            digest.append(UInt8(truncatingIfNeeded: word >> 16))
            digest.append(UInt8(truncatingIfNeeded: word >> 8))
            digest.append(UInt8(truncatingIfNeeded: word))
        }
        return digest
    }

    /// HMAC-SHA-256 of `message` under `key` (32 bytes). The padded key copies are wiped.
    static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var padded = key.count > 64 ? hash(key) : key
        padded += [UInt8](repeating: 0, count: 64 - padded.count)
        var inner = padded.map { $0 ^ 0x36 }
        var outer = padded.map { $0 ^ 0x5c }
        wipe(&padded)
        inner += message
        outer += hash(inner)
        wipe(&inner)
        defer { wipe(&outer) }
        return hash(outer)
    }

    /// Overwrites a buffer that held key material or message bytes before it is freed.
    static func wipe<T: FixedWidthInteger>(_ buffer: inout [T]) {
        for index in buffer.indices { buffer[index] = 0 }
    }

    private static let initial: [UInt32] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    /// One 64-byte block into `state`; `w` is the message schedule's scratch space.
    private static func compress(_ state: inout [UInt32], _ chunk: UnsafeBufferPointer<UInt8>, _ w: inout [UInt32]) {
        for t in 0..<16 {
            let i = t * 4
            w[t] = UInt32(chunk[i]) << 24 | UInt32(chunk[i + 1]) << 16 | UInt32(chunk[i + 2]) << 8 | UInt32(chunk[i + 3])
        }
        for t in 16..<64 {
            let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
            let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
            w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
        }
        var a = state[0], b = state[1], c = state[2], d = state[3]
        var e = state[4], f = state[5], g = state[6], h = state[7]
        for t in 0..<64 {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let choice = (e & f) ^ (~e & g)
            let t1 = h &+ s1 &+ choice &+ k[t] &+ w[t]
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let majority = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ majority
            h = g; g = f; f = e; e = d &+ t1
            d = c; c = b; b = a; a = t1 &+ t2
        }
        state[0] &+= a; state[1] &+= b; state[2] &+= c; state[3] &+= d
        state[4] &+= e; state[5] &+= f; state[6] &+= g; state[7] &+= h
    }
}
