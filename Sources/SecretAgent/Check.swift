import SecretAgentCore
import SecretAgentRuntime
import SecretTemplate

/// `check`: every reference by backend; online, whether each one resolves (never its value).
public struct CheckReport: Sendable {
    /// The lines to print.
    public var lines: [String]
    /// 0 when everything is fine; 65 for a missing reference or field; the failure's own status
    /// when a backend could not be asked.
    public var exitCode: ExitCode

    /// Parses the configuration's templates and, with `online`, fetches every reference.
    public static func make(config: AgentConfig, envFrom: [String], online: Bool, in context: AgentContext) async throws -> CheckReport {
        let job = try Job.compile(config: config, envFrom: envFrom, flagsBase: context.cwd)
        let references = job.references
        var lines = [
            "configuration: \(config.file ?? "(flags only)")",
            "templates: \(job.files.count), environment variables: \(job.env.count), references: \(references.count)",
        ]
        var outcomes: [Locator: FetchOutcome] = [:]
        var failure: (any Error)?
        if online {
            do {
                outcomes = try await Pipeline.fetching(job.locators, config: config, timeout: config.startTimeout, in: context) { $1 }
            } catch {
                failure = error
            }
        }
        var bad = 0
        let grouped = Dictionary(grouping: references) { $0.locator.scheme }
        for scheme in Scheme.allCases {
            guard let refs = grouped[scheme] else { continue }
            lines.append("\(scheme.rawValue):")
            for ref in refs {
                var line = "  \(ref.text)"
                if online {
                    let (status, ok) = failure.map { ("ERROR \(describe($0))", false) } ?? Self.status(of: ref, in: outcomes)
                    line += "  " + status
                    if !ok { bad += 1 }
                }
                lines.append(line)
            }
        }
        let code: ExitCode
        if let failure {
            code = (failure as? any AgentFailure)?.exitCode ?? .unavailable
        } else {
            code = bad > 0 ? .dataError : .success
        }
        return CheckReport(lines: lines, exitCode: code)
    }

    /// One reference's line: OK with its version, MISSING field, NOT FOUND or the error.
    static func status(of ref: Reference, in outcomes: [Locator: FetchOutcome]) -> (String, Bool) {
        guard case .found(let secret)? = outcomes[ref.locator] else { return ("NOT FOUND", false) }
        do {
            if try ref.select(from: secret.value) == nil { return ("MISSING field \(ref.selector!)", false) }
            return ("OK" + (secret.version.map { " version \($0)" } ?? ""), true)
        } catch {
            return ("ERROR \(describe(error))", false)
        }
    }

    static func describe(_ error: any Error) -> String {
        (error as? any AgentFailure)?.description ?? "\(error)"
    }
}
