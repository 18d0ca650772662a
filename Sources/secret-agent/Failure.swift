import ArgumentParser
import Logging
import SecretAgentCore

/// Runs a command's body and maps the result to the process's exit status: 0 returns, any other
/// status is thrown as `ExitCode` (so `main` exits with it); a failure prints its message on
/// stderr first. Every module's error is an `AgentFailure` that knows its status.
func exiting(_ body: () async throws -> Int32) async throws {
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
    if status != 0 { throw ArgumentParser.ExitCode(status) }
}
