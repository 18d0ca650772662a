import Foundation
import Testing

/// The product stays Foundation-free (FoundationEssentials and the standard library only): the
/// full Foundation drags in ICU's ~38 MB of data. A dependency that starts importing Foundation
/// fails this test before it reaches a release.
@Suite("footprint")
struct FootprintTests {
    static func output(_ tool: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(tool) \(arguments)")
        return text
    }

    @Test("the binary needs neither Foundation nor ICU, and calls nothing of theirs")
    func noFoundation() throws {
        let needed = try Self.output("readelf", ["-d", Agent.binary])
        #expect(needed.contains("NEEDED"), "readelf lists the libraries")
        for library in ["libFoundation.so", "libFoundationInternationalization.so", "lib_FoundationICU.so", "libFoundationNetworking.so"] {
            #expect(!needed.contains("[\(library)]"), "secret-agent links \(library)")
        }
        let undefined = try Self.output("nm", ["-u", Agent.binary])
        let foundation = undefined.split(separator: "\n").filter { $0.contains("$s10Foundation") || $0.contains("_FoundationICU") }
        #expect(foundation.isEmpty, "symbols of Foundation: \(foundation.prefix(5))")
    }

    @Test("the binary asks for glibc 2.34 at most (RHEL 9, Amazon Linux 2023), whatever glibc it was linked on")
    func glibcVersion() throws {
        let symbols = try Self.output("objdump", ["-T", Agent.binary])
        let versions = symbols.matches(of: /GLIBC_(\d+)\.(\d+)/).map { (Int($0.1)!, Int($0.2)!) }
        #expect(!versions.isEmpty, "objdump lists versioned glibc symbols")
        let newest = versions.max { $0 < $1 } ?? (0, 0)
        #expect(newest <= (2, 34), "needs GLIBC_\(newest.0).\(newest.1): \(symbols.split(separator: "\n").filter { $0.contains("GLIBC_\(newest.0).\(newest.1)") }.prefix(3))")
    }
}
