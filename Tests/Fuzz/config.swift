// libFuzzer target: the configuration loader (libyaml and YAML.swift, then SecretAgentCore's schema: unknown keys,
// types, durations, modes, templates, exec, aws, vault). Built by scripts/fuzz.sh with libyaml and
// SecretTemplate as modules of their own and SecretAgentCore's sources (less its log handler,
// which needs swift-log) in this module. Every input is either a configuration whose
// destinations are absolute paths, or an error with exit status 78 and a message.
import SecretTemplate

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let config = try AgentConfig.parse(yaml: text, file: "/fuzz/agent.yaml", environment: ["HOME": "/home/fuzz"], uid: 1000)
        for t in config.templates {
            if !t.destination.hasPrefix("/") { fatalError("property violated: a destination that is not absolute") }
        }
        if config.poll < .milliseconds(100) { fatalError("property violated: poll below the minimum") }
    } catch {
        if error.exitCode != .config && error.exitCode != .usage { fatalError("property violated: exit \(error.exitCode) for a configuration error") }
        if error.message.isEmpty { fatalError("property violated: an empty message") }
    }
    return 0
}
