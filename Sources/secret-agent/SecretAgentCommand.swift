import ArgumentParser

/// The root command: `secret-agent <command>`.
struct SecretAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret-agent",
        abstract: "Put secrets from SSM, Secrets Manager, Vault or files into processes and files.",
        version: "0.1.0",
        subcommands: [ExecCommand.self, RunCommand.self, RenderCommand.self, GetCommand.self, CheckCommand.self, PlanCommand.self])
}

/// A command's body. (`main.swift` calls this rather than `run()`: from top-level code Swift
/// picks ParsableCommand's synchronous `run()`, which only prints help.)
protocol AgentCommand {
    func execute() async
}
