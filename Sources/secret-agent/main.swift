import ArgumentParser
import CSecretAgent
import SecretAgentCore
import SecretAgentProcess

// First, before any thread exists: block the handled signals so the signal thread sees them all.
SignalHub.installAtStartup()
// No core dumps: the agent's memory holds secrets.
_ = csa_disable_core_dumps()
// Keep pages that hold secrets out of swap where the lock cannot run out (CAP_IPC_LOCK or no limit).
SecretMemory.lockAll()

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
