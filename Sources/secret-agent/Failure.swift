import ArgumentParser
import Logging
import SecretAgentCore
import SecretAgentProcess

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
    } catch let error as ProcessError {  // MERGE: conforms to AgentFailure once the error shapes land
        Terminal.error(error.message)
        status = error.exitCode
    } catch let code as ArgumentParser.ExitCode {
        status = code.rawValue
    } catch {
        Terminal.error("\(error)")
        status = 70
    }
    if status != 0 { throw ArgumentParser.ExitCode(status) }
}
