import ArgumentParser
import CSecretAgent
import SecretAgentCore
import SecretAgentProcess

/// The root command: `secret-agent <command>`.
@main
struct SecretAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret-agent",
        abstract: "Put secrets from SSM, Secrets Manager, Vault or files into processes and files.",
        version: "0.1.0",
        subcommands: [ExecCommand.self, RunCommand.self, RenderCommand.self, GetCommand.self, CheckCommand.self, PlanCommand.self])

    /// Prepares the process before any thread exists, then parses and runs the command.
    static func main() async {
        // Block the handled signals first, so the signal thread sees them all.
        SignalHub.installAtStartup()
        // No core dumps: the agent's memory holds secrets.
        _ = csa_disable_core_dumps()
        // Keep pages that hold secrets out of swap where the lock cannot run out.
        SecretMemory.lockAll()
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
