import ArgumentParser
import CSecretAgent
import SecretAgentProcess

// First, before any thread exists: block the handled signals so the signal thread sees them all.
SignalHub.installAtStartup()
// No core dumps: the agent's memory holds secrets.
_ = csa_disable_core_dumps()

do {
    let command = try SecretAgentCommand.parseAsRoot()
    if let agentCommand = command as? AgentCommand {
        await agentCommand.execute()
    } else {
        var command = command
        try command.run()
    }
} catch {
    SecretAgentCommand.exit(withError: error)
}
