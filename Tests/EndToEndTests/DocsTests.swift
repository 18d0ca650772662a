import Foundation
import SecretAgentCore
import Testing

/// The reference in docs/ cannot drift from the code: the lists come from the parsers themselves
/// (the configuration's key sets, the command line's own `--experimental-dump-help`, the exit
/// codes), and every link in the README and docs/ points at a file of this repository.
@Suite("docs/ matches the parsers")
struct DocsTests {
    static func read(_ relative: String) throws -> String {
        try String(contentsOfFile: Agent.repositoryRoot + "/" + relative, encoding: .utf8)
    }

    /// The first cell of each row, one backticked item ("| `aws.region` | …"), of the tables
    /// whose header's first cell is `header` ("| key |"): other tables (profile keys, examples)
    /// are prose.
    static func rowKeys(_ text: String, header: String) -> [String] {
        var inTable = false
        var keys: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("|") else {
                inTable = false
                continue
            }
            if line.hasPrefix("| \(header) |") {
                inTable = true
                continue
            }
            guard inTable, line.hasPrefix("| `") else { continue }
            let cell = line.dropFirst(3)
            if let end = cell.firstIndex(of: "`") { keys.append(String(cell[..<end])) }
        }
        return keys
    }

    @Test("every configuration key is a row of docs/configuration.md, and every row is a key")
    func configurationKeys() throws {
        let rows = Set(Self.rowKeys(try Self.read("docs/configuration.md"), header: "key"))
        let keys = AgentConfig.keyPaths
        #expect(!keys.isEmpty)
        let undocumented = keys.filter { !rows.contains($0) }
        #expect(undocumented.isEmpty, "add these keys to docs/configuration.md: \(undocumented)")
        let stale = rows.subtracting(keys)
        #expect(stale.isEmpty, "docs/configuration.md documents keys the parser does not accept: \(stale.sorted())")
    }

    struct Command {
        var name: String
        var flags: [String]
    }

    /// Each subcommand and its displayed flags (`--config`, `-n`), from the binary itself.
    static func commands() throws -> [Command] {
        let r = try Agent.run(["--experimental-dump-help"], environment: Agent.cleanEnvironment())
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let root = json?["command"] as? [String: Any]
        let subcommands = root?["subcommands"] as? [[String: Any]] ?? []
        return subcommands.compactMap { sub in
            guard let name = sub["commandName"] as? String, name != "help" else { return nil }
            let flags: [String] = (sub["arguments"] as? [[String: Any]] ?? []).compactMap { argument in
                guard argument["shouldDisplay"] as? Bool != false else { return nil }
                let names = argument["names"] as? [[String: Any]] ?? []
                if let long = names.first(where: { $0["kind"] as? String == "long" })?["name"] as? String { return "--" + long }
                if let short = names.first(where: { $0["kind"] as? String == "short" })?["name"] as? String { return "-" + short }
                return nil
            }
            return Command(name: name, flags: flags)
        }
    }

    /// The text of `## \`secret-agent NAME\`` up to the next `## ` heading.
    static func section(_ text: String, command: String) -> String? {
        guard let start = text.range(of: "## `secret-agent \(command)`\n") else { return nil }
        let rest = text[start.upperBound...]
        let end = rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    @Test("every command has a section in docs/cli.md naming each of its flags")
    func commandLineFlags() throws {
        let text = try Self.read("docs/cli.md")
        let commands = try Self.commands()
        #expect(commands.count >= 6, "the dump lists the commands: \(commands.map(\.name))")
        for command in commands {
            guard let section = Self.section(text, command: command.name) else {
                Issue.record("docs/cli.md has no section ## `secret-agent \(command.name)`")
                continue
            }
            let missing = command.flags.filter { !section.contains("`\($0)`") && !section.contains("`\($0) ") }
            #expect(missing.isEmpty, "docs/cli.md, secret-agent \(command.name): add \(missing)")
        }
        let documented = text.split(separator: "\n").filter { $0.hasPrefix("## `secret-agent ") }
        #expect(documented.count == commands.count, "one section per command: \(documented)")
    }

    @Test("every exit status is a row of docs/cli.md")
    func exitCodes() throws {
        let rows = Set(Self.rowKeys(try Self.read("docs/cli.md"), header: "code"))
        let missing = ExitCode.all.map(\.description).filter { !rows.contains($0) }
        #expect(missing.isEmpty, "add these exit codes to docs/cli.md: \(missing)")
    }

    @Test("the README and docs/ link only to files of this repository, and each exists")
    func links() throws {
        let fm = FileManager.default
        var pages = ["README.md"]
        let docs = (fm.enumerator(atPath: Agent.repositoryRoot + "/docs")?.allObjects as? [String]) ?? []
        pages += docs.filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        #expect(pages.count > 5, "the docs/ pages are found: \(pages)")
        let link = /\]\(([^)\s]+)\)/
        let root = URL(fileURLWithPath: Agent.repositoryRoot).standardizedFileURL.path
        for page in pages {
            let text = try Self.read(page)
            let directory = URL(fileURLWithPath: Agent.repositoryRoot + "/" + page).deletingLastPathComponent()
            for match in text.matches(of: link) {
                let target = String(match.1)
                if target.hasPrefix("#") || target.hasPrefix("http://") || target.hasPrefix("https://") || target.hasPrefix("mailto:") { continue }
                let file = String(target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0])
                let resolved = directory.appendingPathComponent(file).standardizedFileURL.path
                #expect(resolved.hasPrefix(root + "/"), "\(page) links outside the repository: \(target)")
                #expect(fm.fileExists(atPath: resolved), "\(page) links to a file that does not exist: \(target)")
            }
        }
    }

    @Test("the man page is written from the binary's own command definitions and docs/cli.md's tables")
    func manPage() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Agent.repositoryRoot + "/scripts/manpage.py", Agent.binary]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let page = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        #expect(page.hasPrefix(".TH SECRET-AGENT 1"))
        for command in try Self.commands() {
            #expect(page.contains(".SS \"secret-agent \(command.name)\""), "\(command.name) in the man page")
            for flag in command.flags { #expect(page.contains(flag), "\(command.name) \(flag) in the man page") }
        }
        for code in ExitCode.all { #expect(page.contains(".B \(code.rawValue)\n"), "exit status \(code) in the man page") }
        #expect(page.contains("AWS_CA_BUNDLE") || page.contains("VAULT_ADDR"), "the environment section")
    }
}
