import ArgumentParser
import SecretAgentCore
import SecretAgentRuntime
import SecretTemplate

/// `secret-agent check`: parse the configuration and templates and list every reference by
/// backend; `--online` also proves that each one resolves, without printing values.
struct CheckCommand: AsyncParsableCommand, AgentCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Parse configuration and templates and list every reference by backend.",
        discussion: """
            With --online, each reference is fetched and reported OK (with its version) or with
            the error; values are never printed. Exit status 0 when everything is fine.
              secret-agent check --config agent.yaml
              secret-agent check --config agent.yaml --online
            """)

    @OptionGroup var options: AgentOptions

    @Flag(name: .long, help: "Also fetch every reference (values are not printed).")
    var online = false

    func run() async throws { await execute() }

    func execute() async {
        let logger = options.logging.bootstrap()
        await reportingFailures(logger) {
            let environment = Environment.current()
            let cwd = FileBytes.currentDirectory()
            let config = try options.loadConfig(environment: environment, cwd: cwd)
            let job = try Job.compile(config: config, envFrom: options.envFrom, flagsBase: cwd)
            let references = job.references
            var lines: [String] = []
            lines.append("configuration: \(config.file ?? "(flags only)")")
            lines.append("templates: \(job.files.count), environment variables: \(job.env.count), references: \(references.count)")
            var outcomes: [Locator: FetchOutcome] = [:]
            var failure: (any Error)?
            if online {
                let backends = try await Backends.make(for: job.locators, config: config, environment: environment, logger: logger)
                do {
                    outcomes = try await StartupFetch(providers: backends.providers, timeout: config.startTimeout, logger: logger)
                        .run(job.locators)
                } catch {
                    failure = error
                }
                await backends.shutdown()
            }
            var bad = 0
            let grouped = Dictionary(grouping: references) { $0.locator.scheme }
            for scheme in Scheme.allCases {
                guard let refs = grouped[scheme] else { continue }
                lines.append("\(scheme.rawValue):")
                for ref in refs {
                    var line = "  \(ref.text)"
                    if online {
                        if let failure {
                            line += "  ERROR \(Self.describe(failure))"
                            bad += 1
                        } else {
                            switch outcomes[ref.locator] {
                            case .found(let secret)?:
                                do {
                                    if try ref.select(from: secret.value) == nil {
                                        line += "  MISSING field \(ref.selector!)"
                                        bad += 1
                                    } else {
                                        line += "  OK" + (secret.version.map { " version \($0)" } ?? "")
                                    }
                                } catch {
                                    line += "  ERROR \(Self.describe(error))"
                                    bad += 1
                                }
                            default:
                                line += "  NOT FOUND"
                                bad += 1
                            }
                        }
                    }
                    lines.append(line)
                }
            }
            Terminal.out(Array((lines.joined(separator: "\n") + "\n").utf8))
            if let failure = failure as? any AgentFailure { return failure.exitCode.rawValue }
            if failure != nil { return SecretAgentCore.ExitCode.unavailable.rawValue }
            return bad > 0 ? SecretAgentCore.ExitCode.dataError.rawValue : 0
        }
    }

    static func describe(_ error: any Error) -> String {
        (error as? any AgentFailure)?.description ?? "\(error)"
    }
}
