import ArgumentParser
import Logging
import SecretAgentCore

/// Runs a command body, turning any failure into a message on stderr and the documented exit status.
func reportingFailures(_ logger: Logger?, _ body: () async throws -> Int32) async -> Never {
    let status: Int32
    do {
        status = try await body()
    } catch let failure as any AgentFailure {
        Terminal.error(failure.description)
        status = failure.exitCode.rawValue
    } catch let error as ArgumentParser.ExitCode {
        status = error.rawValue
    } catch {
        Terminal.error("\(error)")
        status = SecretAgentCore.ExitCode.software.rawValue
    }
    Terminal.exit(status)
}
