import ArgumentParser
import SecretAgentCore
import SecretAgentRuntime
import SecretTemplate

/// `secret-agent render`: render once and exit (init containers, CI pipelines).
struct RenderCommand: AsyncParsableCommand, AgentCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render templates once and exit.",
        discussion: """
            With --config, every template of the file is written. With TEMPLATE, that one file
            is rendered to stdout, or to -o DEST (relative to the working directory).
              secret-agent render --config agent.yaml
              secret-agent render docker-config.json.mustache -o /dev/shm/docker/config.json
            """)

    @OptionGroup var options: AgentOptions

    @Argument(help: "A template file to render (to stdout unless -o).")
    var templateFile: String?

    @Option(name: .short, help: "Where to write TEMPLATE's output.")
    var output: String?

    func validate() throws {
        if output != nil && templateFile == nil { throw ValidationError("-o needs a TEMPLATE argument") }
        if templateFile == nil && options.config == nil && options.template.isEmpty {
            throw ValidationError("render needs --config FILE, --template SRC:DEST or a TEMPLATE argument")
        }
    }

    func run() async throws { await execute() }

    func execute() async {
        let logger = options.logging.bootstrap()
        await reportingFailures(logger) {
            let environment = Environment.current()
            let cwd = FileBytes.currentDirectory()
            var config = Pipeline.keepingLeases(try options.loadConfig(environment: environment, cwd: cwd))
            config.exec = nil  // render writes files; the child's environment is not needed
            var toStdout = false
            if let templateFile {
                // Only the named template: the file's own templates are not written.
                let dest = output.map { Paths.resolve($0, against: cwd) }
                toStdout = dest == nil
                config.templates = [TemplateSpec(source: .file(Paths.resolve(templateFile, against: cwd)),
                                                 destination: dest ?? "/dev/stdout", baseDirectory: cwd)]
            }
            let prepared = try await Pipeline.prepare(config: config, envFrom: [], inherited: nil,
                                                      environment: environment, cwd: cwd, logger: logger)
            await prepared.backends.shutdown()
            if toStdout {
                Terminal.out(prepared.rendered.files.first?.bytes ?? [])
            } else {
                try Pipeline.write(prepared.rendered.files, config: config, logger: logger)
            }
            return 0
        }
    }
}
