import ArgumentParser
import SecretAgent
import SecretAgentCore

/// `secret-agent render`: render once and exit (init containers, CI pipelines).
struct RenderCommand: AsyncParsableCommand {
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

    @Argument(help: ArgumentHelp("A template file to render (to stdout unless -o).", valueName: "TEMPLATE"))
    var templateFile: String?

    @Option(name: .short, help: ArgumentHelp("Where to write TEMPLATE's output.", valueName: "DEST"))
    var output: String?

    func validate() throws {
        if output != nil && templateFile == nil { throw ValidationError("-o needs a TEMPLATE argument") }
        if templateFile == nil && options.config == nil && options.template.isEmpty {
            throw ValidationError("render needs --config FILE, --template SRC:DEST or a TEMPLATE argument")
        }
    }

    func run() async throws {
        let context = AgentContext.process(logger: options.logging.bootstrap())
        try await exiting {
            let config = try options.loadConfig(in: context)
            if let bytes = try await OneShot.render(config: config, template: templateFile, output: output, in: context) {
                Terminal.out(bytes)
            }
            return 0
        }
    }
}
